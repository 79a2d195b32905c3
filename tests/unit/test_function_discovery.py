"""The local host finds every function the app registers, with its trigger as declared."""

from pathlib import Path

import azure.functions as func
import pytest

from adapters.queue import LESSON_GENERATION_POISON_QUEUE, LESSON_GENERATION_QUEUE
from devhost.functions import SUPPORTED, FunctionSpec, discover, load_app

PROJECT = Path(__file__).resolve().parents[2]

# What the decorators in functions/*.py declare, written out by hand.
HTTP_ROUTES = {
    "health": ("health", ["GET"]),
    "openapi": ("openapi.json", ["GET"]),
    "create_roadmap": ("roadmaps", ["POST"]),
    "list_roadmaps": ("roadmaps", ["GET"]),
    "get_roadmap": ("roadmaps/{roadmapId}", ["GET"]),
    "get_module_lessons": ("modules/{moduleId}/lessons", ["GET"]),
    "generate_module": ("modules/{moduleId}/generate", ["POST"]),
    "get_lesson": ("lessons/{lessonId}", ["GET"]),
    "generate_lesson": ("lessons/{lessonId}/generate", ["POST"]),
    "cancel_generation": ("lessons/{lessonId}/generate", ["DELETE"]),
    "put_progress": ("lessons/{lessonId}/progress", ["PUT"]),
    "cors_preflight": ("{*path}", ["OPTIONS"]),
    "web_app": ("app", ["GET"]),
    "web_file": ("app/{file}", ["GET"]),
    "dev_token": ("dev/token", ["POST"]),
    "get_my_stats": ("me/stats", ["GET"]),
    "get_my_allowances": ("me/allowances", ["GET"]),
    "negotiate_notifications": ("notifications/negotiate", ["POST"]),
    "add_module": ("roadmaps/{roadmapId}/modules", ["POST"]),
    "plan_module": ("roadmaps/{roadmapId}/modules/from-prompt", ["POST"]),
    "rename_module": ("roadmaps/{roadmapId}/modules/{moduleId}", ["PATCH"]),
    "remove_module": ("roadmaps/{roadmapId}/modules/{moduleId}", ["DELETE"]),
    "reorder_roadmap": ("roadmaps/{roadmapId}/order", ["PUT"]),
    "add_lesson": ("roadmaps/{roadmapId}/lessons", ["POST"]),
    "plan_lesson": ("roadmaps/{roadmapId}/lessons/from-prompt", ["POST"]),
    "rename_lesson": ("roadmaps/{roadmapId}/lessons/{lessonId}", ["PATCH"]),
    "remove_lesson": ("roadmaps/{roadmapId}/lessons/{lessonId}", ["DELETE"]),
}
QUEUES = {
    "write_lesson": "lesson-generation",
    "fail_poisoned_lesson": "lesson-generation-poison",
}
MODULES = {
    "health": "functions.health",
    "openapi": "functions.docs",
    "create_roadmap": "functions.roadmaps",
    "list_roadmaps": "functions.roadmaps",
    "get_roadmap": "functions.roadmaps",
    "get_module_lessons": "functions.modules",
    "generate_module": "functions.modules",
    "get_lesson": "functions.lessons",
    "generate_lesson": "functions.lessons",
    "cancel_generation": "functions.lessons",
    "put_progress": "functions.lessons",
    "cors_preflight": "functions.cors",
    "web_app": "functions.webapp",
    "web_file": "functions.webapp",
    "dev_token": "functions.webapp",
    "get_my_stats": "functions.me",
    "get_my_allowances": "functions.me",
    "negotiate_notifications": "functions.notifications",
    **dict.fromkeys(
        ["add_module", "plan_module", "rename_module", "remove_module", "reorder_roadmap"],
        "functions.roadmap_edits",
    ),
    **dict.fromkeys(
        ["add_lesson", "plan_lesson", "rename_lesson", "remove_lesson"], "functions.lesson_edits"
    ),
    "write_lesson": "functions.lesson_worker",
    "fail_poisoned_lesson": "functions.lesson_worker",
    "sweep_stuck_lessons": "functions.maintenance",
}
SWEEP_SCHEDULE = "*/7 * * * * *"  # not the example's, so a hard-coded schedule would show
TIMERS = {"sweep_stuck_lessons": SWEEP_SCHEDULE}


@pytest.fixture(scope="module")
def found() -> list[FunctionSpec]:
    return discover(load_app(PROJECT), {"SWEEP_SCHEDULE": SWEEP_SCHEDULE})


@pytest.fixture(scope="module")
def specs(found: list[FunctionSpec]) -> dict[str, FunctionSpec]:
    return {spec.name: spec for spec in found}


def test_every_function_is_discovered_once(found: list[FunctionSpec]):
    assert sorted(spec.name for spec in found) == sorted([*HTTP_ROUTES, *QUEUES, *TIMERS])


def test_the_sweep_timer_runs_on_the_schedule_setting(specs: dict[str, FunctionSpec]):
    timers = {
        name: spec.trigger["schedule"] for name, spec in specs.items() if spec.kind == "timer"
    }

    assert timers == TIMERS
    assert specs["sweep_stuck_lessons"].arg_name == "timer"
    assert specs["sweep_stuck_lessons"].trigger["runOnStartup"] is False


def test_the_app_cannot_be_served_without_a_sweep_schedule():
    with pytest.raises(RuntimeError, match="%SWEEP_SCHEDULE%"):
        discover(load_app(PROJECT), {})


def test_http_functions_have_the_declared_routes_and_methods(specs: dict[str, FunctionSpec]):
    served = {
        name: (spec.trigger["route"], spec.trigger["methods"])
        for name, spec in specs.items()
        if spec.kind == "http"
    }

    assert served == HTTP_ROUTES


def test_http_functions_take_the_request_as_req_and_are_anonymous(
    specs: dict[str, FunctionSpec],
):
    for name in HTTP_ROUTES:
        assert specs[name].arg_name == "req"
        assert specs[name].trigger["authLevel"] == "anonymous"


def test_queue_functions_listen_to_the_declared_queues(specs: dict[str, FunctionSpec]):
    listened = {
        name: spec.trigger["queueName"] for name, spec in specs.items() if spec.kind == "queue"
    }

    assert listened == QUEUES
    assert listened == {
        "write_lesson": LESSON_GENERATION_QUEUE,
        "fail_poisoned_lesson": LESSON_GENERATION_POISON_QUEUE,
    }
    assert {specs[name].trigger["connection"] for name in QUEUES} == {"AzureWebJobsStorage"}
    assert {specs[name].arg_name for name in QUEUES} == {"msg"}


def test_every_spec_is_of_a_supported_kind(specs: dict[str, FunctionSpec]):
    assert {spec.kind for spec in specs.values()} <= set(SUPPORTED.values())
    assert {SUPPORTED[spec.trigger["type"]] for spec in specs.values()} == {
        spec.kind for spec in specs.values()
    }


def test_every_function_is_the_handler_from_its_module_and_async(
    specs: dict[str, FunctionSpec],
):
    assert {name: spec.user_function.__module__ for name, spec in specs.items()} == MODULES
    assert all(spec.is_async for spec in specs.values())
    assert all(spec.user_function.__name__ == name for name, spec in specs.items())


def test_unsupported_triggers_are_skipped():
    app = func.FunctionApp()

    @app.blob_trigger(arg_name="blob", path="uploads/{name}", connection="AzureWebJobsStorage")
    def on_upload(blob: func.InputStream) -> None:
        """A trigger the local host does not serve."""

    @app.schedule(schedule="0 */5 * * * *", arg_name="timer")
    def every_five_minutes(timer: func.TimerRequest) -> None:
        """A trigger it does serve."""

    specs = discover(app)

    assert [(spec.name, spec.kind) for spec in specs] == [("every_five_minutes", "timer")]
    assert specs[0].trigger["schedule"] == "0 */5 * * * *"


def test_function_with_bindings_the_host_cannot_serve_is_refused():
    app = func.FunctionApp()

    @app.queue_trigger(arg_name="msg", queue_name="in", connection="AzureWebJobsStorage")
    @app.queue_output(arg_name="out", queue_name="out", connection="AzureWebJobsStorage")
    def forward(msg: func.QueueMessage, out: func.Out[str]) -> None:
        """Uses an output binding."""

    with pytest.raises(RuntimeError, match=r"bindings \['out'\] are not served locally"):
        discover(app)
