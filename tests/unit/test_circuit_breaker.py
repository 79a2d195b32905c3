"""The provider circuit breaker: an outage costs a worker a handful of calls, not two a lesson."""

import asyncio
import json
import logging
from collections import deque
from collections.abc import Iterable

import pytest

from adapters.llm.offline import OfflineProvider
from domain.chain import ChainPolicy, ProviderChain
from domain.content import LessonContent
from domain.cooldowns import Cooldowns
from domain.errors import (
    ProviderRateLimited,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from domain.ports import Draft, Generated, LlmTask, TaskKind, TextSink
from tests.unit.fakes import (
    FakeClock,
    FakeProvider,
    chain_of,
    make_brief,
    offline_lesson_data,
    trail,
)

LESSONS = 20
POLICY = ChainPolicy(breaker_failures=3, breaker_rest=60.0, rate_limit_rest=30.0)
DOWN = ProviderUnavailable("groq answered HTTP 500")


async def _lesson(chain: ProviderChain) -> Generated[LessonContent]:
    return await chain.generate(TaskKind.LESSON, make_brief(), LessonContent, budget=60.0)


async def _lessons(chain: ProviderChain, n: int) -> list[Generated[LessonContent]]:
    return [await _lesson(chain) for _ in range(n)]


def _opened(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


class GatedProvider:
    """A network provider named groq whose calls wait at a gate, then take the next reply."""

    name = "groq"
    model = "groq-model"
    needs_network = True

    def __init__(self, replies: Iterable[str | Exception] = ()) -> None:
        self.calls = 0
        self.gate = asyncio.Event()
        self.called = asyncio.Event()
        self._replies = deque(replies)

    async def generate(
        self, task: LlmTask, *, time_limit: float, on_text: TextSink | None = None
    ) -> Draft:
        self.calls += 1
        self.called.set()
        await self.gate.wait()
        reply = self._replies.popleft() if self._replies else None
        if isinstance(reply, Exception):
            raise reply
        if reply is None:
            reply = (await OfflineProvider().generate(task, time_limit=time_limit)).payload
        return Draft(payload=reply, provider=self.name, model=self.model)


async def _until_called(provider: GatedProvider, calls: int) -> None:
    while provider.calls < calls:
        provider.called.clear()
        await provider.called.wait()


@pytest.mark.parametrize("failures", [1, 3, 5])
@pytest.mark.parametrize(
    "error",
    [DOWN, ProviderUnavailable("groq could not be reached"), ProviderTimeout("30 s")],
    ids=["5xx", "connection", "timeout"],
)
async def test_provider_failing_for_every_lesson_is_called_only_until_its_breaker_opens(
    failures: int, error: ProviderUnavailable, caplog: pytest.LogCaptureFixture
):
    groq = FakeProvider("groq", lesson=[error] * 2 * LESSONS)
    rig = chain_of(groq, OfflineProvider(), policy=ChainPolicy(breaker_failures=failures))

    with caplog.at_level(logging.INFO, logger="domain.chain"):
        written = await _lessons(rig.chain, LESSONS)

    assert groq.calls == failures  # 2 x 20 = 40 without the breaker
    assert [w.draft.provider for w in written] == ["offline"] * LESSONS
    assert trail(written[-1].attempts) == [("groq", "cooling_down"), ("offline", "ok")]
    assert rig.cooldowns.remaining("groq") == pytest.approx(60.0)
    assert _opened(caplog) == [
        f"provider groq failed {failures} times in a row; resting it for 60 s"
    ]


async def test_retry_within_a_lesson_counts_and_the_failure_that_opens_the_breaker_is_not_retried():
    groq = FakeProvider("groq", lesson=[DOWN] * 4)
    rig = chain_of(groq, OfflineProvider(), policy=POLICY)

    first, second, third = await _lessons(rig.chain, 3)

    assert trail(first.attempts) == [("groq", "unavailable")] * 2 + [("offline", "ok")]
    assert trail(second.attempts) == [("groq", "unavailable"), ("offline", "ok")]
    assert trail(third.attempts) == [("groq", "cooling_down"), ("offline", "ok")]
    assert len(rig.sleep.pauses) == 1


async def test_timeouts_of_a_provider_that_hangs_open_its_breaker():
    hanging = GatedProvider()  # its gate never opens
    rig = chain_of(hanging, OfflineProvider(), policy=ChainPolicy(attempt_timeout=0.001))

    written = await _lessons(rig.chain, LESSONS)

    assert hanging.calls == 3
    assert trail(written[1].attempts) == [("groq", "timeout"), ("offline", "ok")]


async def test_after_the_rest_one_call_probes_and_an_answer_closes_the_breaker():
    groq = FakeProvider("groq", lesson=[DOWN] * 3)  # then it answers validly
    rig = chain_of(groq, OfflineProvider(), policy=POLICY)
    await _lessons(rig.chain, 2)
    rig.clock.advance(59.0)
    resting = await _lesson(rig.chain)
    rig.clock.advance(1.0)

    probed = await _lesson(rig.chain)

    assert trail(resting.attempts) == [("groq", "cooling_down"), ("offline", "ok")]
    assert trail(probed.attempts) == [("groq", "ok")]
    assert groq.calls == 4
    assert [w.draft.provider for w in await _lessons(rig.chain, 3)] == ["groq"] * 3


async def test_failed_probe_opens_the_breaker_again_at_once_without_a_retry():
    groq = FakeProvider("groq", lesson=[DOWN] * 10)
    rig = chain_of(groq, OfflineProvider(), policy=POLICY)
    await _lessons(rig.chain, 2)
    rig.clock.advance(60.0)

    probed = await _lesson(rig.chain)
    after = await _lessons(rig.chain, LESSONS)

    assert trail(probed.attempts) == [("groq", "unavailable"), ("offline", "ok")]
    assert rig.cooldowns.remaining("groq") == pytest.approx(60.0)
    assert groq.calls == 4
    assert {trail(w.attempts)[0] for w in after} == {("groq", "cooling_down")}


async def test_only_one_probe_is_in_flight_while_other_lessons_skip_the_provider():
    groq = GatedProvider([DOWN] * 3)
    groq.gate.set()
    rig = chain_of(groq, OfflineProvider(), policy=POLICY)
    await _lessons(rig.chain, 2)
    rig.clock.advance(60.0)
    groq.gate.clear()

    probe = asyncio.create_task(_lesson(rig.chain))
    await _until_called(groq, 4)
    meanwhile = await _lessons(rig.chain, 3)
    groq.gate.set()
    probed = await probe

    assert {trail(w.attempts)[0] for w in meanwhile} == {("groq", "cooling_down")}
    assert trail(probed.attempts) == [("groq", "ok")]
    assert trail((await _lesson(rig.chain)).attempts) == [("groq", "ok")]
    assert groq.calls == 5


async def test_failures_already_in_flight_when_the_breaker_opens_are_not_counted_again(
    caplog: pytest.LogCaptureFixture,
):
    groq = GatedProvider([DOWN] * 4)
    rig = chain_of(groq, OfflineProvider(), policy=ChainPolicy(breaker_failures=2))
    lessons = [asyncio.create_task(_lesson(rig.chain)) for _ in range(3)]
    await _until_called(groq, 3)

    with caplog.at_level(logging.INFO, logger="domain.chain"):
        groq.gate.set()
        written = await asyncio.gather(*lessons)

    assert [w.draft.provider for w in written] == ["offline"] * 3
    assert groq.calls == 4  # three at once, and the first lesson's retry opened the breaker
    [opened] = [r.getMessage() for r in caplog.records if r.name == "domain.chain"]
    assert opened == "provider groq failed 2 times in a row; resting it for 60 s"
    rig.clock.advance(60.0)
    assert trail((await _lesson(rig.chain)).attempts) == [("groq", "ok")]


@pytest.mark.parametrize(
    "answer",
    [
        [json.dumps({"not": "a lesson"}), "not json"],
        [ProviderRejected("groq answered HTTP 400", status=400, auth=False)],
        ["valid"],
    ],
    ids=["invalid-json", "other-4xx", "valid"],
)
async def test_any_answer_resets_the_count(answer: list[str | Exception]):
    valid = json.dumps(await offline_lesson_data())
    answer = [valid if reply == "valid" else reply for reply in answer]
    groq = FakeProvider("groq", lesson=[DOWN, DOWN, *answer, DOWN, DOWN])
    rig = chain_of(groq, OfflineProvider(), policy=POLICY)

    *_, written = await _lessons(rig.chain, 3)

    assert trail(written.attempts) == [("groq", "unavailable")] * 2 + [("offline", "ok")]
    assert rig.cooldowns.remaining("groq") == 0


@pytest.mark.parametrize(
    ("refusal", "own_rest"),
    [
        (ProviderRateLimited("groq answered HTTP 429", retry_after=None), 30.0),
        (ProviderRejected("groq answered HTTP 401", status=401, auth=True), 3600.0),
    ],
    ids=["rate-limited", "refused-key"],
)
async def test_rate_limits_and_refused_keys_keep_their_own_rests_and_do_not_count(
    refusal: Exception, own_rest: float, caplog: pytest.LogCaptureFixture
):
    groq = FakeProvider("groq", lesson=[refusal, DOWN, DOWN])
    policy = ChainPolicy(breaker_failures=2, breaker_rest=60.0, rate_limit_rest=30.0)
    rig = chain_of(groq, OfflineProvider(), policy=policy)

    with caplog.at_level(logging.WARNING, logger="domain.chain"):
        await _lesson(rig.chain)
    assert rig.cooldowns.remaining("groq") == own_rest
    assert _opened(caplog) == []
    rig.clock.advance(own_rest)
    written = await _lesson(rig.chain)

    # Had the refusal counted, the first 500 would have opened the breaker, with no retry.
    assert trail(written.attempts) == [("groq", "unavailable")] * 2 + [("offline", "ok")]
    assert rig.cooldowns.remaining("groq") == pytest.approx(60.0)


async def test_failures_add_up_across_chains_sharing_the_cooldowns_and_per_provider():
    clock = FakeClock()
    cooldowns = Cooldowns(clock)
    writer = chain_of(
        FakeProvider("groq", lesson=[DOWN] * 2),
        OfflineProvider(),
        clock=clock,
        cooldowns=cooldowns,
        policy=POLICY,
    )
    planner_groq, gemini = FakeProvider("groq", lesson=[DOWN] * 2), FakeProvider("gemini")
    planner = chain_of(planner_groq, gemini, clock=clock, cooldowns=cooldowns, policy=POLICY)
    await _lesson(writer.chain)

    first, second = await _lessons(planner.chain, 2)

    assert trail(first.attempts) == [("groq", "unavailable"), ("gemini", "ok")]
    assert trail(second.attempts) == [("groq", "cooling_down"), ("gemini", "ok")]
    assert (planner_groq.calls, cooldowns.remaining("gemini")) == (1, 0)
