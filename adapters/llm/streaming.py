"""Reading a provider's answer as it is written: each piece of text to the sink, all in time.

Each streaming provider says how to open its stream (an async generator of chunks, opened on the
first ``anext``) and what a chunk holds; ``relay`` does the rest the same way for all of them:

- the whole stream, the sink's time included, must end within the attempt's time limit, however
  steadily the pieces trickle in (a client's read timeout only bounds each gap);
- reading a chunk runs inside ``provider_errors`` and ``reply_shape``, so a failure part-way
  through is the same domain error as a failure before the first byte;
- the sink is called outside them: its own failure is never mistaken for the provider's;
- a stream that ends without saying why it ended (no finish reason) was cut short.
"""

import asyncio
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from adapters.llm.errors import HTTPX, ClientErrors, provider_errors, reply_shape
from domain.errors import ProviderTimeout, ProviderUnavailable
from domain.ports import TextSink

C = TypeVar("C")


@dataclass(frozen=True)
class Chunks(Generic[C]):
    """How to read one provider's chunks.

    :param text: the piece of answer text a chunk carries, if any.
    :param finished: whether a chunk says the answer is complete (a finish reason).
    """

    text: Callable[[C], str | None]
    finished: Callable[[C], bool]


@dataclass(frozen=True)
class Streamed(Generic[C]):
    """A stream read to its end: the text passed on, and every chunk it came in."""

    text: str
    chunks: list[C]


async def relay(
    provider: str,
    stream: AsyncGenerator[C, None],
    reading: Chunks[C],
    on_text: TextSink,
    *,
    time_limit: float,
    raised: ClientErrors = HTTPX,
) -> Streamed[C]:
    """Read ``stream`` to its end within ``time_limit``, passing each piece of text to ``on_text``.

    :param provider: the provider's name, for error messages.
    :param stream: the chunks; opening the request happens on the first ``anext``.
    :param reading: what a chunk holds.
    :param on_text: receives each non-empty piece, in order, as it arrives.
    :param time_limit: seconds for the whole stream, first byte to last piece.
    :param raised: the client library's exceptions, by what they mean.
    :raises ProviderTimeout: the stream did not end in time.
    :raises ProviderUnavailable: the stream broke off, or a chunk was of unknown shape.
    """
    # Once the answer has begun, a lost connection has broken it off.
    begun = replace(raised, unreachable=(), broke_off=(*raised.unreachable, *raised.broke_off))
    pieces: list[str] = []
    chunks: list[C] = []
    deadline = asyncio.timeout(time_limit)
    try:
        async with deadline, aclosing(stream):
            while True:
                chunk = await _next(provider, stream, time_limit, begun if chunks else raised)
                if chunk is None:
                    break
                chunks.append(chunk)
                with reply_shape(provider):
                    piece = reading.text(chunk)
                if piece:
                    pieces.append(piece)
                    await on_text(piece)
    except TimeoutError:
        if not deadline.expired():
            raise  # the sink's own
        raise ProviderTimeout(f"{provider} did not finish in {time_limit:.0f} s") from None
    with reply_shape(provider):
        finished = any(reading.finished(chunk) for chunk in chunks)
    if not finished:
        raise ProviderUnavailable(f"{provider} broke off its answer")
    return Streamed("".join(pieces), chunks)


async def _next(
    provider: str, stream: AsyncGenerator[C, None], time_limit: float, raised: ClientErrors
) -> C | None:
    with provider_errors(provider, time_limit, raised), reply_shape(provider):
        return await anext(stream, None)
