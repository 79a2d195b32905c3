"""ProviderChain: providers in order until one answers validly, and no call wasted on the way."""

import asyncio
import json
import logging

import pytest

from adapters.llm.offline import OfflineProvider
from adapters.markdown import clean_markdown
from domain.chain import MAX_QUOTED_ANSWER, ChainPolicy, ProviderChain
from domain.content import CLEAN_MARKDOWN, LessonContent
from domain.cooldowns import Cooldowns
from domain.errors import (
    ContentRejected,
    FinalError,
    NoProviderSucceeded,
    NoValidAnswer,
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
    RetryableError,
)
from domain.lesson import ProviderAttempt
from domain.ports import Draft, Generated, LlmTask, TaskKind, TextSink
from tests.support.html_audit import live_problems
from tests.unit.fakes import (
    FakeClock,
    FakeProvider,
    chain_of,
    make_brief,
    offline_lesson_data,
    trail,
)

BUDGET = 60.0
CLEANING = {CLEAN_MARKDOWN: clean_markdown}


async def _lesson(chain: ProviderChain, budget: float = BUDGET) -> Generated[LessonContent]:
    return await chain.generate(TaskKind.LESSON, make_brief(), LessonContent, budget=budget)


def _rate_limited(retry_after: float | None) -> ProviderRateLimited:
    return ProviderRateLimited("groq answered HTTP 429", retry_after=retry_after)


def _rejected(status: int, *, auth: bool) -> ProviderRejected:
    return ProviderRejected(f"groq answered HTTP {status}", status=status, auth=auth)


async def _lesson_json(**changes: object) -> str:
    data = await offline_lesson_data()
    data.update(changes)
    return json.dumps(data)


class HangingProvider:
    """A network provider that never answers."""

    name = "hanging"
    model = "hanging-model"
    needs_network = True

    def __init__(self) -> None:
        self.time_limits: list[float] = []

    async def generate(
        self, task: LlmTask, *, time_limit: float, on_text: TextSink | None = None
    ) -> Draft:
        self.time_limits.append(time_limit)
        await asyncio.Event().wait()  # never set
        raise AssertionError("a never-set event was set")


async def test_first_valid_answer_is_returned_and_later_providers_are_not_asked():
    groq, gemini = FakeProvider("groq"), FakeProvider("gemini")
    rig = chain_of(groq, gemini)

    written = await _lesson(rig.chain)

    assert isinstance(written.value, LessonContent)
    assert (written.draft.provider, written.draft.model) == ("groq", "groq-model")
    assert trail(written.attempts) == [("groq", "ok")]
    assert (groq.calls, gemini.calls) == (1, 0)


async def test_providers_are_asked_in_order_and_every_call_is_recorded_with_its_time():
    clock = FakeClock()
    groq = FakeProvider("groq", lesson=[ProviderUnavailable("503")] * 2, clock=clock, takes=1.5)
    gemini = FakeProvider("gemini", lesson=[_rejected(400, auth=False)], clock=clock, takes=0.25)
    qwen = FakeProvider("qwen", clock=clock, takes=2.0)
    local = FakeProvider("local", needs_network=False)
    rig = chain_of(groq, gemini, qwen, local, clock=clock)

    written = await _lesson(rig.chain)

    assert written.attempts == [
        ProviderAttempt(provider="groq", outcome="unavailable", ms=1500),
        ProviderAttempt(provider="groq", outcome="unavailable", ms=1500),
        ProviderAttempt(provider="gemini", outcome="rejected", ms=250),
        ProviderAttempt(provider="qwen", outcome="ok", ms=2000),
    ]
    assert written.draft.provider == "qwen"
    assert (groq.calls, gemini.calls, qwen.calls, local.calls) == (2, 1, 1, 0)


async def test_rate_limit_whose_retry_after_fits_the_budget_is_waited_out_then_asked_again():
    groq, gemini = FakeProvider("groq", lesson=[_rate_limited(7.0)]), FakeProvider("gemini")
    rig = chain_of(groq, gemini)

    written = await _lesson(rig.chain)

    assert rig.sleep.pauses == [7.0]
    assert trail(written.attempts) == [("groq", "rate_limited"), ("groq", "ok")]
    assert gemini.calls == 0
    assert rig.cooldowns.remaining("groq") == 0


async def test_rate_limit_is_waited_out_only_once_then_the_provider_rests():
    groq = FakeProvider("groq", lesson=[_rate_limited(7.0), _rate_limited(7.0)])
    rig = chain_of(groq, FakeProvider("gemini"))

    written = await _lesson(rig.chain)

    assert rig.sleep.pauses == [7.0]
    assert trail(written.attempts) == [
        ("groq", "rate_limited"),
        ("groq", "rate_limited"),
        ("gemini", "ok"),
    ]
    assert rig.cooldowns.remaining("groq") == 7.0


@pytest.mark.parametrize(
    ("retry_after", "rest"),
    [(120.0, 120.0), (59.6, 59.6), (None, 45.0)],
    ids=["longer-than-the-budget", "no-time-left-to-ask-again", "no-retry-after"],
)
async def test_rate_limit_that_cannot_be_waited_out_rests_the_provider_and_falls_through(
    retry_after: float | None, rest: float
):
    groq, gemini = FakeProvider("groq", lesson=[_rate_limited(retry_after)]), FakeProvider("gemini")
    rig = chain_of(groq, gemini, policy=ChainPolicy(rate_limit_rest=45.0))

    written = await _lesson(rig.chain, budget=60.0)

    assert rig.sleep.pauses == []
    assert trail(written.attempts) == [("groq", "rate_limited"), ("gemini", "ok")]
    assert groq.calls == 1
    assert rig.cooldowns.remaining("groq") == pytest.approx(rest)


async def test_resting_provider_is_skipped_on_the_next_task_without_a_call():
    groq = FakeProvider("groq", lesson=[_rate_limited(None)])
    rig = chain_of(groq, FakeProvider("gemini"), policy=ChainPolicy(rate_limit_rest=30.0))
    await _lesson(rig.chain)
    rig.clock.advance(29.0)

    written = await _lesson(rig.chain)

    assert groq.calls == 1
    assert trail(written.attempts) == [("groq", "cooling_down"), ("gemini", "ok")]


async def test_resting_provider_is_asked_again_once_its_rest_is_over():
    groq = FakeProvider("groq", lesson=[_rate_limited(None)])
    rig = chain_of(groq, FakeProvider("gemini"), policy=ChainPolicy(rate_limit_rest=30.0))
    await _lesson(rig.chain)
    rig.clock.advance(30.0)

    written = await _lesson(rig.chain)

    assert groq.calls == 2
    assert trail(written.attempts) == [("groq", "ok")]


async def test_rests_are_shared_by_every_chain_using_the_same_cooldowns():
    clock = FakeClock()
    cooldowns = Cooldowns(clock)
    writer_groq = FakeProvider("groq", lesson=[_rate_limited(None)])
    planner_groq = FakeProvider("groq")
    await _lesson(
        chain_of(writer_groq, FakeProvider("gemini"), clock=clock, cooldowns=cooldowns).chain
    )

    written = await _lesson(
        chain_of(planner_groq, FakeProvider("gemini"), clock=clock, cooldowns=cooldowns).chain
    )

    assert planner_groq.calls == 0
    assert trail(written.attempts)[0] == ("groq", "cooling_down")


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (ProviderUnavailable("groq answered HTTP 503"), "unavailable"),
        (ProviderUnavailable("groq could not be reached"), "unavailable"),
        (ProviderTimeout("groq did not answer in 30 s"), "timeout"),
    ],
    ids=["5xx", "connection", "timeout"],
)
async def test_transient_failure_gets_one_jittered_retry_then_the_next_provider(
    error: ProviderUnavailable, outcome: str
):
    groq, gemini = FakeProvider("groq", lesson=[error, error]), FakeProvider("gemini")
    rig = chain_of(groq, gemini, policy=ChainPolicy(retry_jitter=(0.2, 1.0)))

    written = await _lesson(rig.chain)

    assert trail(written.attempts) == [("groq", outcome)] * 2 + [("gemini", "ok")]
    [pause] = rig.sleep.pauses
    assert 0.2 <= pause <= 1.0
    assert rig.cooldowns.remaining("groq") == 0


async def test_transient_failure_that_passes_on_the_retry_uses_the_retried_answer():
    groq, gemini = FakeProvider("groq", lesson=[ProviderUnavailable("502")]), FakeProvider("gemini")
    rig = chain_of(groq, gemini)

    written = await _lesson(rig.chain)

    assert trail(written.attempts) == [("groq", "unavailable"), ("groq", "ok")]
    assert gemini.calls == 0


async def test_retry_pauses_are_drawn_at_random_from_the_policys_range():
    groq = FakeProvider("groq", lesson=[ProviderUnavailable("503")] * 6)
    policy = ChainPolicy(retry_jitter=(2.0, 4.0), breaker_failures=10)  # the breaker stays closed
    rig = chain_of(groq, FakeProvider("gemini"), policy=policy)

    for _ in range(3):
        await _lesson(rig.chain)

    assert len(rig.sleep.pauses) == 3
    assert all(2.0 <= pause <= 4.0 for pause in rig.sleep.pauses)
    assert len(set(rig.sleep.pauses)) == 3


async def test_no_retry_when_the_pause_would_leave_no_time_for_it():
    groq, gemini = FakeProvider("groq", lesson=[ProviderUnavailable("503")]), FakeProvider("gemini")
    rig = chain_of(groq, gemini, policy=ChainPolicy(retry_jitter=(0.6, 0.6)))

    written = await _lesson(rig.chain, budget=1.0)

    assert rig.sleep.pauses == []
    assert trail(written.attempts) == [("groq", "unavailable"), ("gemini", "ok")]


async def test_provider_that_exceeds_the_attempt_timeout_is_retried_once_then_skipped():
    hanging = HangingProvider()
    rig = chain_of(hanging, OfflineProvider(), policy=ChainPolicy(attempt_timeout=0.001))

    written = await _lesson(rig.chain)

    assert trail(written.attempts) == [("hanging", "timeout")] * 2 + [("offline", "ok")]
    assert hanging.time_limits == [0.001, 0.001]
    assert len(rig.sleep.pauses) == 1


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_refused_key_or_model_rests_the_provider_long_and_logs_one_error_without_the_key(
    status: int, caplog: pytest.LogCaptureFixture
):
    key = "gsk_live_THIS-KEY-MUST-NEVER-BE-LOGGED"
    refusal = ProviderRejected(f"HTTP {status} for key {key}", status=status, auth=True)
    groq, gemini = FakeProvider("groq", lesson=[refusal]), FakeProvider("gemini")
    rig = chain_of(groq, gemini, policy=ChainPolicy(auth_rest=3600.0))

    with caplog.at_level(logging.DEBUG, logger="domain.chain"):
        first = await _lesson(rig.chain)
        rig.clock.advance(3599.0)
        second = await _lesson(rig.chain)

    assert trail(first.attempts) == [("groq", "unauthorized"), ("gemini", "ok")]
    assert trail(second.attempts) == [("groq", "cooling_down"), ("gemini", "ok")]
    assert groq.calls == 1
    assert rig.cooldowns.remaining("groq") == 1.0
    [error] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert "groq" in error.getMessage()
    assert str(status) in error.getMessage()
    assert key not in caplog.text


@pytest.mark.parametrize("status", [400, 413, 422])
async def test_other_refusal_falls_through_without_retry_or_rest(status: int):
    groq, gemini = (
        FakeProvider("groq", lesson=[_rejected(status, auth=False)]),
        FakeProvider("gemini"),
    )
    rig = chain_of(groq, gemini)

    written = await _lesson(rig.chain)

    assert trail(written.attempts) == [("groq", "rejected"), ("gemini", "ok")]
    assert groq.calls == 1
    assert rig.sleep.pauses == []
    assert rig.cooldowns.remaining("groq") == 0


async def test_invalid_json_gets_one_repair_quoting_the_answer_and_the_problem():
    groq, gemini = FakeProvider("groq", lesson=["Here is your lesson: {"]), FakeProvider("gemini")
    rig = chain_of(groq, gemini)

    written = await _lesson(rig.chain)

    assert trail(written.attempts) == [("groq", "invalid"), ("groq", "ok")]
    first, repair_task = groq.tasks
    assert first.repair is None
    assert (repair_task.kind, repair_task.brief) == (first.kind, first.brief)
    assert repair_task.repair is not None
    assert repair_task.repair.previous == "Here is your lesson: {"
    assert "Invalid JSON" in repair_task.repair.problem
    assert gemini.calls == 0


async def test_schema_violation_repaired_in_vain_falls_to_the_next_provider_with_a_fresh_task():
    broken = await _lesson_json(quiz=[])
    groq, gemini = FakeProvider("groq", lesson=[broken, broken]), FakeProvider("gemini")
    rig = chain_of(groq, gemini)

    written = await _lesson(rig.chain)

    assert trail(written.attempts) == [("groq", "invalid")] * 2 + [("gemini", "ok")]
    repair = groq.tasks[1].repair
    assert repair is not None
    assert repair.previous == broken
    assert "quiz" in repair.problem
    assert [task.repair for task in gemini.tasks] == [None]


async def test_repair_quotes_at_most_the_start_of_a_long_answer():
    groq = FakeProvider("groq", lesson=["x" * (MAX_QUOTED_ANSWER * 3)])
    rig = chain_of(groq)

    await _lesson(rig.chain)

    repair = groq.tasks[1].repair
    assert repair is not None
    assert repair.previous == "x" * MAX_QUOTED_ANSWER


async def test_spent_budget_skips_network_providers_but_not_one_that_needs_no_network():
    clock = FakeClock()
    groq = FakeProvider("groq", lesson=[ProviderUnavailable("503")], clock=clock, takes=9.8)
    gemini = FakeProvider("gemini")
    rig = chain_of(groq, gemini, OfflineProvider(), clock=clock)

    written = await _lesson(rig.chain, budget=10.0)

    assert trail(written.attempts) == [
        ("groq", "unavailable"),
        ("gemini", "no_budget"),
        ("offline", "ok"),
    ]
    assert (groq.calls, gemini.calls) == (1, 0)
    assert written.draft.provider == "offline"


async def test_each_call_gets_the_attempt_timeout_or_the_budget_left_if_that_is_less():
    clock = FakeClock()
    groq = FakeProvider("groq", lesson=[ProviderUnavailable("503")], clock=clock, takes=8.0)
    local = FakeProvider("local", needs_network=False)
    rig = chain_of(groq, policy=ChainPolicy(attempt_timeout=10.0), clock=clock)
    offline_rig = chain_of(local, policy=ChainPolicy(attempt_timeout=10.0))

    await _lesson(rig.chain, budget=15.0)
    await _lesson(offline_rig.chain, budget=0.1)

    [pause] = rig.sleep.pauses
    assert groq.time_limits == [10.0, pytest.approx(15.0 - 8.0 - pause)]
    assert local.time_limits == [10.0]


async def test_provider_that_needs_no_network_is_asked_even_if_marked_resting():
    local = FakeProvider("local", needs_network=False)
    rig = chain_of(local)
    rig.cooldowns.rest("local", 100.0)

    written = await _lesson(rig.chain)

    assert trail(written.attempts) == [("local", "ok")]


async def test_every_provider_failing_transiently_raises_a_retryable_error_with_the_attempts():
    groq = FakeProvider("groq", lesson=[_rate_limited(None)])
    gemini = FakeProvider("gemini", lesson=[ProviderTimeout("timeout")] * 2)
    rig = chain_of(groq, gemini, policy=ChainPolicy(rate_limit_rest=45.0))

    with pytest.raises(NoProviderSucceeded) as raised:
        await _lesson(rig.chain)

    assert isinstance(raised.value, RetryableError)
    assert trail(raised.value.attempts) == [
        ("groq", "rate_limited"),
        ("gemini", "timeout"),
        ("gemini", "timeout"),
    ]
    [pause] = rig.sleep.pauses  # gemini's retry; groq's rest ran on meanwhile
    assert raised.value.retry_after == pytest.approx(45.0 - pause)


async def test_no_valid_answer_from_any_provider_is_a_final_error_with_the_attempts():
    groq = FakeProvider("groq", lesson=["not json", "{}"])
    gemini = FakeProvider("gemini", lesson=["[]", "null"])
    rig = chain_of(groq, gemini)

    with pytest.raises(NoValidAnswer) as raised:
        await _lesson(rig.chain)

    assert isinstance(raised.value, ContentRejected)
    assert trail(raised.value.attempts) == [("groq", "invalid")] * 2 + [("gemini", "invalid")] * 2


async def test_every_provider_refusing_the_request_is_a_final_failure_not_a_retry():
    groq = FakeProvider("groq", lesson=[_rejected(400, auth=False)])
    gemini = FakeProvider("gemini", lesson=[_rejected(422, auth=False)])
    rig = chain_of(groq, gemini)

    with pytest.raises(FinalError):
        await _lesson(rig.chain)


async def test_markdown_in_a_valid_answer_is_cleaned_when_the_chain_cleans():
    data = await offline_lesson_data()
    data["sections"][0]["body"] = (
        "Intro <script>alert(1)</script>**bold**\n\n```html\n<b>kept</b>\n```\n"
    )
    data["quiz"][0]["options"][1] = "<i>Memorising</i> every API"
    groq = FakeProvider("groq", lesson=[json.dumps(data)])
    rig = chain_of(groq, validation_context=CLEANING)

    written = await _lesson(rig.chain)

    body = written.value.sections[0].body
    assert live_problems(body) == []
    assert body == "Intro \\<script>alert(1)\\</script>**bold**\n\n```html\n<b>kept</b>\n```"
    assert written.value.quiz[0].options[1] == "\\<i>Memorising\\</i> every API"
    assert trail(written.attempts) == [("groq", "ok")]


async def test_field_that_is_nothing_but_html_is_a_valid_answer_shown_as_text():
    data = await offline_lesson_data()
    data["sections"][0]["heading"] = "<div><img src=x onerror=alert(1)></div>"
    groq = FakeProvider("groq", lesson=[json.dumps(data)])
    rig = chain_of(groq, validation_context=CLEANING)

    written = await _lesson(rig.chain)

    assert trail(written.attempts) == [("groq", "ok")]
    heading = written.value.sections[0].heading
    assert heading == "\\<div>\\<img src=x onerror=alert(1)>\\</div>"
    assert live_problems(heading) == []


def test_chain_without_providers_is_refused():
    with pytest.raises(ValueError, match="at least one provider"):
        ProviderChain([], Cooldowns())
