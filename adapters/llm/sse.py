"""Server-sent events, the ``text/event-stream`` format OpenAI-style hosts stream answers in.

Only what a streamed chat completion needs: the ``data`` of each event, in order, up to the
``data: [DONE]`` that ends an OpenAI stream. Event names, ids and comments are ignored.
https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

Lines are split here, at CR, LF or CRLF only: httpx's ``aiter_lines`` also splits at U+2028,
U+0085 and the like (``str.splitlines``), which a host may leave unescaped inside a JSON string.
"""

import re
from collections.abc import AsyncIterable, AsyncIterator

DONE = "[DONE]"
_END_OF_LINE = re.compile(rb"\r\n|\r|\n")


async def data_events(body: AsyncIterable[bytes]) -> AsyncIterator[str]:
    """The data of each event in ``body``, ``[DONE]`` excluded.

    An event's data lines are joined with newlines; an event is complete at the blank line after
    it, so one the stream ends in the middle of is dropped, as the standard says.
    """
    data: list[str] = []
    async for line in _lines(body):
        if line:
            name, _, value = line.partition(":")
            if name == "data":
                data.append(value.removeprefix(" "))
            continue
        if not data:
            continue
        event, data = "\n".join(data), []
        if event == DONE:
            return
        yield event


async def _lines(body: AsyncIterable[bytes]) -> AsyncIterator[str]:
    """Each complete line of ``body``, decoded, without its line ending."""
    rest, after_cr = b"", False
    async for chunk in body:
        if after_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the LF of a CRLF that arrived split in two
        after_cr = chunk.endswith(b"\r")
        *complete, rest = _END_OF_LINE.split(rest + chunk)
        for line in complete:
            yield line.decode()
