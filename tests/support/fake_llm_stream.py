"""Streamed answers for the fake LLM server: each provider's server-sent events, paced as scripted.

Wire formats, as the real hosts send them:

- Groq and OpenAI-compatible hosts: ``data: {chat.completion.chunk}`` events, ended by
  ``data: [DONE]``. The first chunk carries the role, then one chunk per piece of text, then one
  with the finish reason. Groq adds ``x_groq`` to the first and last chunks, the last with the
  stream's usage; any host sends a last chunk of its own with ``usage`` (and ``choices: []``)
  when the request asks with ``stream_options: {"include_usage": true}``.
- Gemini (``:streamGenerateContent?alt=sse``): ``data: {GenerateContentResponse}`` events, one per
  piece, CRLF-separated; the last one has the finish reason and the whole usage.

A stream cut short stops after its last piece, sends no ending, and drops the connection.
"""

import json
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Send

Event = dict[str, Any]


@dataclass(frozen=True)
class Script:
    """The text of one streamed answer and how it is paced."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float  # the pieces are spread over about this long
    pieces: int
    cut_after: int | None  # drop the connection after this many characters of text

    def split(self) -> list[str]:
        """The text in up to ``pieces`` near-equal pieces, only up to ``cut_after`` if set."""
        size = max(1, math.ceil(len(self.text) / max(1, self.pieces)))
        parts = [self.text[i : i + size] for i in range(0, len(self.text), size)] or [""]
        if self.cut_after is None:
            return parts
        kept, left = [], self.cut_after
        for part in parts:
            if left <= 0:
                break
            kept.append(part[:left])
            left -= len(part)
        return kept

    def usage(self) -> dict[str, int]:
        """OpenAI-style usage numbers."""
        total = self.prompt_tokens + self.completion_tokens
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": total,
        }


def openai_events(provider: str, script: Script, model: str, include_usage: bool) -> list[Event]:
    """The ``chat.completion.chunk`` events of a streamed answer (Groq's with ``x_groq``)."""
    head = {
        "id": f"chatcmpl-{uuid.uuid4()}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": f"fp_{uuid.uuid4().hex[:10]}" if provider == "groq" else None,
    }
    request_id = f"req_{uuid.uuid4().hex[:26]}"

    def chunk(
        delta: dict[str, Any], finish: str | None = None, extra: Event | None = None
    ) -> Event:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        usage = {"usage": None} if include_usage else {}
        return {**head, "choices": [choice], **usage, **(extra or {})}

    groq = provider == "groq"
    first_groq = {"x_groq": {"id": request_id}} if groq else {}
    first = chunk({"role": "assistant", "content": ""}, extra=first_groq)
    events = [first, *(chunk({"content": piece}) for piece in script.split())]
    if script.cut_after is not None:
        return events
    last_groq = {"x_groq": {"id": request_id, "usage": script.usage()}} if groq else {}
    events.append(chunk({}, "stop", last_groq))
    if include_usage:
        events.append({**head, "choices": [], "usage": script.usage()})
    return events


def gemini_events(script: Script, model: str) -> list[Event]:
    """The ``GenerateContentResponse`` events of a streamed answer."""
    response_id = uuid.uuid4().hex[:22]
    pieces = script.split()
    events = []
    for n, piece in enumerate(pieces):
        last = n == len(pieces) - 1 and script.cut_after is None
        candidate: Event = {"content": {"parts": [{"text": piece}], "role": "model"}, "index": 0}
        usage = {"promptTokenCount": script.prompt_tokens, "totalTokenCount": script.prompt_tokens}
        if last:
            candidate["finishReason"] = "STOP"
            usage["candidatesTokenCount"] = script.completion_tokens
            usage["totalTokenCount"] += script.completion_tokens
        events.append(
            {
                "candidates": [candidate],
                "usageMetadata": usage,
                "modelVersion": model,
                "responseId": response_id,
            }
        )
    return events


def encode(events: list[Event], *, done: bool, crlf: bool = False) -> list[bytes]:
    """Each event as ``data: {json}`` and a blank line, then ``data: [DONE]`` if ``done``."""
    end = "\r\n\r\n" if crlf else "\n\n"
    data = [json.dumps(event) for event in events] + (["[DONE]"] if done else [])
    return [f"data: {item}{end}".encode() for item in data]


async def paced(
    events: list[bytes], paused: range, gap: float, pause: Callable[[float], Awaitable[None]]
) -> AsyncIterator[bytes]:
    """``events``, with a ``pause(gap)`` before each one whose index is in ``paused``."""
    for n, event in enumerate(events):
        if n in paused and gap:
            await pause(gap)
        yield event


class EventStream(StreamingResponse):
    """A ``text/event-stream``; ``cut`` drops the connection where the body would have ended."""

    def __init__(self, events: AsyncIterator[bytes], *, cut: bool) -> None:
        super().__init__(events, media_type="text/event-stream")
        self.events = events
        self.cut = cut

    async def stream_response(self, send: Send) -> None:
        """Send the events; end the body unless the stream is to be cut."""
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        async for event in self.events:
            await send({"type": "http.response.body", "body": event, "more_body": True})
        if not self.cut:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def respond(
    provider: str,
    script: Script,
    model: str,
    *,
    include_usage: bool,
    pause: Callable[[float], Awaitable[None]],
) -> EventStream:
    """``script`` streamed in ``provider``'s wire format, a pause between pieces."""
    count = len(script.split())
    gap = script.seconds / max(1, count)
    cut = script.cut_after is not None
    if provider == "gemini":
        events = encode(gemini_events(script, model), done=False, crlf=True)
        paused = range(1, count)  # a piece per event
    else:
        chunks = openai_events(provider, script, model, include_usage)
        events = encode(chunks, done=not cut)
        paused = range(2, count + 1)  # after the role chunk and the first piece
    return EventStream(paced(events, paused, gap, pause), cut=cut)


def _not_our_cut(record: logging.LogRecord) -> bool:
    return "returned without completing response" not in record.getMessage()


# A cut stream is uvicorn's "ASGI callable returned without completing response" error: that is
# how it drops the connection, and it is scripted, so it is not logged.
logging.getLogger("uvicorn.error").addFilter(_not_our_cut)
