"""Relaying a stream: pieces in order, the whole stream in time, and failures told apart."""

import asyncio
from collections.abc import AsyncGenerator

import httpx
import pytest

from adapters.llm.streaming import Chunks, relay
from domain.errors import ProviderTimeout, ProviderUnavailable

# A chunk here is (text, finished).
READING = Chunks[tuple[str, bool]](text=lambda c: c[0], finished=lambda c: c[1])


async def _stream(
    *chunks: tuple[str, bool], gap: float = 0
) -> AsyncGenerator[tuple[str, bool], None]:
    for chunk in chunks:
        await asyncio.sleep(gap)
        yield chunk


async def _ignore(text: str) -> None:
    pass


async def test_pieces_reach_the_sink_in_order_and_empty_ones_do_not():
    seen: list[str] = []

    async def sink(text: str) -> None:
        seen.append(text)

    streamed = await relay(
        "p", _stream(("a", False), ("", False), ("b", True)), READING, sink, time_limit=1
    )

    assert seen == ["a", "b"]
    assert streamed.text == "ab"
    assert len(streamed.chunks) == 3


async def test_a_stream_that_ends_without_a_finish_was_cut_short():
    with pytest.raises(ProviderUnavailable, match="p broke off its answer"):
        await relay("p", _stream(("a", False)), READING, _ignore, time_limit=1)


async def test_the_time_limit_bounds_the_whole_stream_not_each_chunk():
    slow = _stream(*[("x", False)] * 20, ("", True), gap=0.02)

    with pytest.raises(ProviderTimeout, match="p did not finish"):
        await relay("p", slow, READING, _ignore, time_limit=0.1)


async def test_a_connection_lost_after_the_first_chunk_broke_the_answer_off():
    async def dropped() -> AsyncGenerator[tuple[str, bool], None]:
        yield ("a", False)
        raise httpx.RemoteProtocolError("peer closed connection")

    with pytest.raises(ProviderUnavailable, match="broke off its answer: RemoteProtocolError"):
        await relay("p", dropped(), READING, _ignore, time_limit=1)


async def test_the_sinks_own_failures_are_its_own():
    for failure in (ValueError("sink"), TimeoutError(), httpx.ConnectError("sink")):

        async def sink(text: str, failure: Exception = failure) -> None:
            raise failure

        with pytest.raises(type(failure)):
            await relay("p", _stream(("a", True)), READING, sink, time_limit=1)
