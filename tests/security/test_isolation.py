"""Another user's ids, on every route and method that takes one.

The list of operations comes from the app's own OpenAPI document: a new route with an id is
attacked without anyone updating this file. Every answer must be the ``404`` a missing id gets
(no existence oracle), and the owner's data must read back exactly as before."""

import base64
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Learner
from tests.security.conftest import Target, create_roadmap, lesson_ids, problem_faults

# A body the operation would accept from the owner, so the request is a real attempt.
_PLAN = {"title": "Mallory's lesson", "objectives": ["Take over the roadmap"]}
ATTACK_BODIES: dict[str, Any] = {
    "GenerateLessonRequest": {"force": True},
    "ProgressUpdate": {"viewed": True, "completed": True},
    "AddModuleRequest": {"title": "Mallory's module", "lessons": [_PLAN]},
    "PlanModuleRequest": {"prompt": "a module mallory wants"},
    "AddLessonRequest": {**_PLAN, "moduleId": str(uuid.uuid4())},
    "PlanLessonRequest": {"moduleId": str(uuid.uuid4()), "prompt": "a lesson mallory wants"},
    "RenameRequest": {"title": "Renamed by mallory"},
    "ReorderRequest": {"modules": [{"moduleId": str(uuid.uuid4()), "lessonIds": ["x"]}]},
}
# Operations that must be among those attacked (the document could lose some, not this list).
KNOWN = {
    ("GET", "/api/roadmaps/{roadmapId}"),
    ("GET", "/api/modules/{moduleId}/lessons"),
    ("POST", "/api/modules/{moduleId}/generate"),
    ("GET", "/api/lessons/{lessonId}"),
    ("POST", "/api/lessons/{lessonId}/generate"),
    ("DELETE", "/api/lessons/{lessonId}/generate"),
    ("PUT", "/api/lessons/{lessonId}/progress"),
    ("POST", "/api/roadmaps/{roadmapId}/modules"),
    ("POST", "/api/roadmaps/{roadmapId}/modules/from-prompt"),
    ("PATCH", "/api/roadmaps/{roadmapId}/modules/{moduleId}"),
    ("DELETE", "/api/roadmaps/{roadmapId}/modules/{moduleId}"),
    ("PUT", "/api/roadmaps/{roadmapId}/order"),
    ("POST", "/api/roadmaps/{roadmapId}/lessons"),
    ("POST", "/api/roadmaps/{roadmapId}/lessons/from-prompt"),
    ("PATCH", "/api/roadmaps/{roadmapId}/lessons/{lessonId}"),
    ("DELETE", "/api/roadmaps/{roadmapId}/lessons/{lessonId}"),
}
_PARAMETER = re.compile(r"\{(\w+Id)\}")


@dataclass(frozen=True)
class Attack:
    """One request of the attacker's."""

    method: str
    template: str
    path: str
    body: Any

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Victim:
    """Alice, with two roadmaps: a pending, a queued and a viewed lesson among them."""

    learner: Learner
    roadmaps: list[dict[str, Any]]
    queued: str
    viewed: str

    def paths(self, template: str, names: list[str]) -> list[str]:
        """``template`` with each combination of her ids it can take: a module or a lesson
        nested under a roadmap is named with that roadmap."""
        if names == ["roadmapId", "moduleId"] or names == ["roadmapId", "lessonId"]:
            child = names[1]
            return [
                template.replace("{roadmapId}", roadmap["id"]).replace(f"{{{child}}}", value)
                for roadmap in self.roadmaps
                for value in Victim(self.learner, [roadmap], self.queued, self.viewed).ids(child)
            ]
        assert len(names) == 1, f"{template}: these ids together are new; extend the attack"
        return [template.replace(f"{{{names[0]}}}", value) for value in self.ids(names[0])]

    def ids(self, name: str) -> list[str]:
        """Every id of hers that a route parameter called ``name`` could take."""
        if name == "roadmapId":
            return [roadmap["id"] for roadmap in self.roadmaps]
        if name == "moduleId":
            return [m["id"] for roadmap in self.roadmaps for m in roadmap["modules"]]
        if name == "lessonId":
            return [i for roadmap in self.roadmaps for i in lesson_ids(roadmap)]
        raise AssertionError(f"no ids of alice's for a route parameter {name!r}: add them here")

    def snapshot(self) -> dict[str, Any]:
        """Everything alice can read, with the lessons' ETags."""
        http = self.learner.http
        seen: dict[str, Any] = {"list": _ok(http.get("/api/roadmaps"))}
        for roadmap in self.roadmaps:
            seen[roadmap["id"]] = _ok(http.get(f"/api/roadmaps/{roadmap['id']}"))
            for module in roadmap["modules"]:
                seen[module["id"]] = _ok(http.get(f"/api/modules/{module['id']}/lessons"))
        for lesson_id in self.ids("lessonId"):
            response = http.get(f"/api/lessons/{lesson_id}")
            seen[lesson_id] = (_ok(response), response.headers["ETag"])
        return seen


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def victim(target: Target) -> Iterator[Victim]:
    learner = target.learner("alice")
    first = create_roadmap(learner, 3, 1)
    second = create_roadmap(learner, 2)
    queued, viewed = lesson_ids(first)[0], lesson_ids(first)[1]
    assert learner.http.post(f"/api/lessons/{queued}/generate").status_code == 202
    marked = learner.http.put(f"/api/lessons/{viewed}/progress", json={"viewed": True})
    assert marked.status_code == 200, marked.text
    # Viewing prefetched the next lesson: both roadmaps as alice now sees them.
    roadmaps = [_ok(learner.http.get(f"/api/roadmaps/{r['id']}")) for r in (first, second)]
    yield Victim(learner, roadmaps, queued, viewed)
    learner.http.close()


def _attacks(openapi: dict[str, Any], victim: Victim) -> list[Attack]:
    attacks = []
    for template, item in openapi["paths"].items():
        names = _PARAMETER.findall(template)
        if not names:
            continue
        for method, operation in item.items():
            body = None
            if "requestBody" in operation:
                ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                model = ref.rsplit("/", 1)[-1]
                assert model in ATTACK_BODIES, f"no attack body for {model}: add one"
                body = ATTACK_BODIES[model]
            for path in victim.paths(template, names):
                attacks.append(Attack(method.upper(), template, path, body))
    return attacks


def _spoofed(victim: Victim) -> dict[str, str]:
    """Identity headers a gateway might trust, all naming alice."""
    principal = {"auth_typ": "aad", "claims": [{"typ": "sub", "val": victim.learner.user_id}]}
    return {
        "X-User-Id": victim.learner.user_id,
        "X-MS-CLIENT-PRINCIPAL-ID": victim.learner.user_id,
        "X-MS-CLIENT-PRINCIPAL-NAME": victim.learner.user_id,
        "X-MS-CLIENT-PRINCIPAL": base64.b64encode(json.dumps(principal).encode()).decode(),
    }


@dataclass(frozen=True)
class Outcome:
    attacks: list[Attack]
    answers: list[httpx.Response]
    missing: dict[str, dict[str, Any]]  # per template: the problem a never-issued id gets
    before: dict[str, Any]
    after: dict[str, Any]


@pytest.fixture(scope="module")
def outcome(target: Target, openapi: dict[str, Any], victim: Victim) -> Outcome:
    """Mallory sends every attack, with alice's identity headers and her ETags."""
    before = victim.snapshot()
    attacks = _attacks(openapi, victim)
    mallory = target.learner("mallory")
    etags = {key: value[1] for key, value in before.items() if isinstance(value, tuple)}
    roadmap_etags = {
        roadmap["id"]: victim.learner.http.get(f"/api/roadmaps/{roadmap['id']}").headers["ETag"]
        for roadmap in victim.roadmaps
    }
    answers = []
    for attack in attacks:
        headers = _spoofed(victim)
        lesson_id = attack.path.split("/")[3]
        if attack.method == "GET" and lesson_id in etags:
            headers["If-None-Match"] = etags[lesson_id]  # a 304 would say "it exists"
        if attack.method != "GET" and lesson_id in roadmap_etags:  # her ETag: a real edit
            headers["If-Match"] = roadmap_etags[lesson_id]
        answers.append(
            mallory.http.request(attack.method, attack.path, json=attack.body, headers=headers)
        )
    missing = {}
    for attack in attacks:
        if attack.template not in missing:
            path = attack.template
            for name in _PARAMETER.findall(attack.template):
                path = path.replace(f"{{{name}}}", str(uuid.uuid4()))
            response = mallory.http.request(attack.method, path, json=attack.body)
            missing[attack.template] = response.json()
    after = victim.snapshot()
    mallory.http.close()
    return Outcome(attacks, answers, missing, before, after)


def test_every_operation_with_an_id_is_attacked(outcome: Outcome, victim: Victim) -> None:
    attacked = {(attack.method, attack.template) for attack in outcome.attacks}
    assert attacked >= KNOWN
    for lesson_id in (victim.queued, victim.viewed):
        assert {a.method for a in outcome.attacks if lesson_id in a.path} >= {"GET", "POST", "PUT"}


def test_another_users_ids_are_not_found_on_every_route_and_method(outcome: Outcome) -> None:
    wrong = [
        f"{attack}: {answer.status_code} {problem_faults(answer)}"
        for attack, answer in zip(outcome.attacks, outcome.answers, strict=True)
        if answer.status_code != 404 or problem_faults(answer)
    ]
    assert not wrong, "\n".join(wrong)


def test_another_users_id_is_answered_as_if_it_did_not_exist(outcome: Outcome) -> None:
    def without_instance(problem: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in problem.items() if k != "instance"}

    for attack, answer in zip(outcome.attacks, outcome.answers, strict=True):
        expected = without_instance(outcome.missing[attack.template])
        assert without_instance(answer.json()) == expected, str(attack)
        assert "ETag" not in answer.headers, str(attack)


def test_another_users_data_is_unchanged_after_the_attack(outcome: Outcome, victim: Victim) -> None:
    assert outcome.after == outcome.before
    lesson = outcome.after[victim.queued][0]
    assert lesson["generationStatus"] == "queued"  # not cancelled by mallory's DELETE
    assert outcome.after[victim.viewed][0]["completedAt"] is None  # not completed by her PUT


def test_another_users_roadmaps_are_not_listed_nor_paged_into(
    target: Target, victim: Victim, mallory: Learner
) -> None:
    page = victim.learner.http.get("/api/roadmaps", params={"limit": 1})
    cursor = _ok(page)["nextCursor"]
    assert cursor  # alice has two roadmaps: her cursor leads to the second

    listed = mallory.http.get("/api/roadmaps")
    with_her_cursor = mallory.http.get("/api/roadmaps", params={"limit": 1, "cursor": cursor})

    assert _ok(listed)["roadmaps"] == []
    assert with_her_cursor.status_code == 422, with_her_cursor.text
    assert not problem_faults(with_her_cursor)
    assert victim.roadmaps[1]["id"] not in with_her_cursor.text
    assert victim.roadmaps[0]["id"] not in with_her_cursor.text
