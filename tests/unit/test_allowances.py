"""Allowances as they stand: the fixed-window arithmetic, the RateLimit-Policy and RateLimit
header fields (draft-ietf-httpapi-ratelimit-headers), and the answers that carry them, run on
fakes: what is left counts down with each request and comes back when the window ends."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.allowances import Allowances, allowance_state, window_start
from domain.errors import StorageUnavailable
from domain.lesson import GenerationStatus
from domain.ports import Allowance, AllowanceState
from functions.allowances import rate_limit_headers
from tests.unit.fakes import USER, WINDOW_START, FakeQuota, make_lesson
from tests.unit.http_fakes import ALLOWED_ORIGIN, Served

HOUR, DAY = 3_600, 86_400
POLICY = '"lessons";q=30;w=3600, "roadmaps";q=5;w=86400'
OUTLINE = [{"title": "Basics", "lessons": [{"title": "Variables", "objectives": ["Name values"]}]}]


def _state(kind: str, limit: int, remaining: int, window: int, resets_in: int) -> AllowanceState:
    return AllowanceState(
        kind=kind,
        limit=limit,
        remaining=remaining,
        window_seconds=window,
        resets_at=WINDOW_START + timedelta(seconds=resets_in),
        resets_in_seconds=resets_in,
    )


def _left(response: Any) -> dict[str, tuple[int, int]]:
    """Policy → (r, t) from an answer's RateLimit field."""
    found = {}
    for item in response.headers["RateLimit"].split(", "):
        name, *parameters = item.split(";")
        values = dict(parameter.split("=") for parameter in parameters)
        found[json.loads(name)] = (int(values["r"]), int(values["t"]))
    return found


# ---- the arithmetic of a fixed window ------------------------------------------------------------


def test_a_window_starts_on_a_whole_multiple_of_its_length_and_its_end_starts_the_next():
    on_the_hour = datetime(2026, 3, 5, 14, 0, tzinfo=UTC)

    assert window_start(on_the_hour + timedelta(minutes=59, seconds=59.9), HOUR) == int(
        on_the_hour.timestamp()
    )
    assert window_start(on_the_hour + timedelta(hours=1), HOUR) == int(
        on_the_hour.timestamp() + HOUR
    )


def test_a_standing_counts_what_is_left_until_the_end_of_the_window():
    now = WINDOW_START + timedelta(seconds=600.25)

    state = allowance_state(Allowance.LESSONS, 30, HOUR, 12, now)

    assert (state.limit, state.remaining, state.window_seconds) == (30, 18, HOUR)
    assert state.resets_at == WINDOW_START + timedelta(hours=1)
    assert state.resets_in_seconds == 3_000  # 2999.75 rounded up: waiting it is never too soon


def test_a_window_spent_past_a_since_lowered_limit_has_nothing_left_not_less():
    state = allowance_state(Allowance.ROADMAPS, 2, DAY, 5, WINDOW_START)

    assert state.remaining == 0


async def test_the_fake_quota_stands_exactly_where_takes_and_refunds_left_it():
    quota = FakeQuota()
    quota.clock.advance(HOUR - 1)
    await quota.take(USER, Allowance.LESSONS, 5)
    await quota.refund(USER, Allowance.LESSONS, 2)

    before = await quota.standing(USER, Allowance.LESSONS)
    again = await quota.standing(USER, Allowance.LESSONS)  # reading spends nothing
    quota.clock.advance(1)
    after = await quota.standing(USER, Allowance.LESSONS)

    assert (before.remaining, before.resets_in_seconds) == (27, 1)
    assert again == before
    assert (after.remaining, after.resets_in_seconds) == (30, HOUR)
    assert after.resets_at == before.resets_at + timedelta(hours=1)


async def test_standings_list_every_allowance_lessons_first_for_their_learner_only():
    quota = FakeQuota()
    await quota.take("someone-else", Allowance.LESSONS, 3)
    await quota.take(USER, Allowance.ROADMAPS)

    listed = await Allowances(quota).standings(USER)

    assert [(s.kind, s.remaining) for s in listed] == [("lessons", 30), ("roadmaps", 4)]


# ---- the header fields -------------------------------------------------------------------------


def test_the_fields_name_one_policy_per_allowance_with_quota_window_left_and_reset():
    states = [_state("lessons", 30, 17, HOUR, 1_800), _state("roadmaps", 5, 4, DAY, 52_000)]

    assert rate_limit_headers(states) == {
        "RateLimit-Policy": POLICY,
        "RateLimit": '"lessons";r=17;t=1800, "roadmaps";r=4;t=52000',
    }


def test_a_policy_name_is_written_as_a_structured_field_string():
    fields = rate_limit_headers([_state('odd "name" \\ here', 1, 0, 60, 5)])

    assert fields["RateLimit"] == '"odd \\"name\\" \\\\ here";r=0;t=5'


def test_no_allowance_means_no_fields():
    assert rate_limit_headers([]) == {}


# ---- the answers that spend, or could ----------------------------------------------------------


async def test_each_lesson_request_answers_with_what_is_left_counting_down():
    with Served() as served:
        served.quota.clock.advance(1_800.5)
        for n in (1, 2):
            served.lessons.put(make_lesson(GenerationStatus.PENDING, id=f"lesson-{n}", order=n))

        first = await served.call("generate_lesson", lessonId="lesson-1")
        second = await served.call("generate_lesson", lessonId="lesson-2")
        already = await served.call("generate_lesson", lessonId="lesson-2")  # queued: no spend

    assert (first.status_code, second.status_code, already.status_code) == (202, 202, 202)
    assert first.headers["RateLimit-Policy"] == POLICY
    assert _left(first) == {"lessons": (29, 1_800), "roadmaps": (5, DAY - 1_800)}
    assert _left(second)["lessons"] == (28, 1_800)
    assert _left(already)["lessons"] == (28, 1_800)


async def test_a_refused_lesson_says_none_is_left_and_when_to_come_back():
    with Served() as served:
        served.quota.clock.advance(1_800.5)
        served.lessons.put(make_lesson(GenerationStatus.PENDING))
        await served.quota.take(USER, Allowance.LESSONS, 30)

        refused = await served.call("generate_lesson", lessonId="lesson-1")
        served.quota.clock.advance(1_800)  # the window ends: everything is back
        granted = await served.call("generate_lesson", lessonId="lesson-1")

    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.headers["Retry-After"] == "1800"
    assert refused.headers["RateLimit-Policy"] == POLICY
    assert _left(refused)["lessons"] == (0, 1_800)
    assert json.loads(refused.get_body())["instance"] == "/api/lessons/{lessonId}/generate"
    assert granted.status_code == 202
    assert _left(granted)["lessons"] == (29, HOUR)


async def test_a_module_request_counts_down_by_the_lessons_it_queued():
    with Served() as served:
        for n in (1, 2, 3):
            served.lessons.put(make_lesson(GenerationStatus.PENDING, id=f"lesson-{n}", order=n))

        response = await served.call("generate_module", moduleId="module-1")

    assert response.status_code == 202
    assert _left(response)["lessons"] == (27, HOUR)


async def test_a_created_roadmap_answers_with_both_allowances_spent():
    with Served() as served:
        body = {"goal": "Learn Go", "skillLevel": "beginner", "modules": OUTLINE}
        created = await served.call("create_roadmap", body)  # the first lesson is prefetched

    assert created.status_code == 201
    assert created.headers["RateLimit-Policy"] == POLICY
    assert _left(created) == {"lessons": (29, HOUR), "roadmaps": (4, DAY)}


async def test_a_refused_roadmap_says_none_is_left_with_retry_after():
    with Served() as served:
        await served.quota.take(USER, Allowance.ROADMAPS, 5)

        refused = await served.call(
            "create_roadmap", {"goal": "Learn Go", "skillLevel": "beginner"}
        )

    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(DAY)
    assert _left(refused)["roadmaps"] == (0, DAY)
    assert served.roadmap_store.all() == []


async def test_marking_progress_answers_with_what_is_left_as_viewing_may_spend():
    with Served() as served:
        served.lessons.put(make_lesson(GenerationStatus.COMPLETED))

        response = await served.call("put_progress", {"viewed": True}, lessonId="lesson-1")

    assert response.status_code == 200
    assert _left(response)["lessons"] == (30, HOUR)


async def test_an_unreadable_allowance_leaves_the_answer_without_the_fields_not_failed():
    with Served() as served:
        served.lessons.put(make_lesson(GenerationStatus.PENDING))
        served.quota.unreadable = StorageUnavailable("the quotas container is throttled")

        response = await served.call("generate_lesson", lessonId="lesson-1")

    assert response.status_code == 202
    assert "RateLimit" not in response.headers
    assert len(served.queue.messages) == 1
    assert served.quota.spent(USER, Allowance.LESSONS) == 1


# ---- GET /api/me/allowances ----------------------------------------------------------------------


async def test_my_allowances_report_limit_left_window_and_reset_without_spending():
    with Served() as served:
        served.quota.clock.advance(60)
        await served.quota.take(USER, Allowance.LESSONS, 4)

        first = await served.call("get_my_allowances")
        again = await served.call("get_my_allowances")

    assert first.status_code == 200
    assert json.loads(first.get_body()) == {
        "allowances": [
            {
                "kind": "lessons",
                "limit": 30,
                "remaining": 26,
                "windowSeconds": HOUR,
                "resetsAt": "2026-01-01T01:00:00Z",
                "resetsInSeconds": HOUR - 60,
            },
            {
                "kind": "roadmaps",
                "limit": 5,
                "remaining": 5,
                "windowSeconds": DAY,
                "resetsAt": "2026-01-02T00:00:00Z",
                "resetsInSeconds": DAY - 60,
            },
        ]
    }
    assert again.get_body() == first.get_body()
    assert first.headers["RateLimit-Policy"] == POLICY
    assert _left(first) == {"lessons": (26, HOUR - 60), "roadmaps": (5, DAY - 60)}


async def test_a_browser_on_an_allowed_origin_may_read_the_fields():
    with Served() as served:
        response = await served.call("get_my_allowances", headers={"Origin": ALLOWED_ORIGIN})

    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"RateLimit-Policy", "RateLimit"} <= exposed
