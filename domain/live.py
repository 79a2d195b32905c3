"""A lesson read while it is written: its sections, each shown once complete and cleaned.

    provider ──pieces──▶ LiveLesson.text ──(a section's object closed? parse partially)──▶ section i
                                                     │ validated and cleaned as stored content
                                                     ▼
                               outbox (ordered, never blocks the stream) ──▶ notifier.live(...)

Events of one delivery carry a ``sequence`` (1, 2, 3, …), so a page that missed one sees the gap;
a page that (re)connects reads the sections so far from the lesson's last progress write, whose
``sequence`` says where the events take over. A section is shown as soon as its object closes in
the text (so it is whole); it is validated with the cleaners the stored lesson goes
through, so nothing is shown that the stored lesson would not contain. When an attempt's answer
is discarded (it failed mid-way, or the finished answer did not validate and a repair or another
provider takes over), a ``reset`` event tells the page to drop what it showed.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from pydantic_core import from_json

from domain.content import CLEAN_MARKDOWN, MarkdownCleaner, Section

log = logging.getLogger(__name__)


class LiveKind(StrEnum):
    """What a live event says."""

    SECTION = "section"
    RESET = "reset"
    COMPLETED = "completed"


@dataclass(frozen=True)
class LiveEvent:
    """One event of a lesson being written; ``index`` and ``section`` for ``SECTION`` only."""

    kind: LiveKind
    sequence: int
    delivery: int
    index: int | None = None
    section: Section | None = None


Publish = Callable[[LiveEvent], Awaitable[None]]


class LiveLesson:
    """Follows one delivery's answers (a ``DraftWatcher``) and publishes their sections."""

    def __init__(
        self, publish: Publish, *, delivery: int, cleaners: Sequence[MarkdownCleaner] = ()
    ) -> None:
        """``cleaners`` are applied in order, as the stored lesson's Markdown goes through them."""
        self.sections: list[Section] = []
        self.sequence = 0
        self._publish = publish
        self._delivery = delivery
        self._cleaners = tuple(cleaners)
        self._pieces: list[str] = []
        self._closed = _ClosedSections()
        self._stalled = False  # a section failed validation: show nothing more of this answer
        self._outbox: asyncio.Queue[LiveEvent | None] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None

    async def text(self, piece: str) -> None:
        """Take the next piece; publish each section it completes."""
        self._pieces.append(piece)
        self._closed.feed(piece)
        if self._stalled or self._closed.count <= len(self.sections):
            return
        for raw in _sections("".join(self._pieces))[len(self.sections) : self._closed.count]:
            section = self._cleaned(raw)
            if section is None:
                self._stalled = True
                return
            self.sections.append(section)
            self._send(LiveKind.SECTION, index=len(self.sections) - 1, section=section)

    async def discard(self) -> None:
        """Forget the current answer; tell the page to drop what it showed of it, if anything."""
        self._pieces.clear()
        self._closed = _ClosedSections()
        self._stalled = False
        if self.sections:
            self.sections = []
            self._send(LiveKind.RESET)

    async def completed(self) -> None:
        """The lesson is stored: say so, after every event before it."""
        self._send(LiveKind.COMPLETED)
        await self.close()

    async def close(self) -> None:
        """Send what is waiting, then stop."""
        if self._sender is not None:
            self._outbox.put_nowait(None)
            await self._sender
            self._sender = None

    def _send(self, kind: LiveKind, **fields: Any) -> None:
        self.sequence += 1
        event = LiveEvent(kind=kind, sequence=self.sequence, delivery=self._delivery, **fields)
        self._outbox.put_nowait(event)
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_all())

    async def _send_all(self) -> None:
        while (event := await self._outbox.get()) is not None:
            await self._publish(event)  # the notifier never raises (see its port)

    def _cleaned(self, raw: Any) -> Section | None:
        try:
            section = Section.model_validate(raw)
            for clean in self._cleaners:
                data = section.model_dump(mode="json", by_alias=True)
                section = Section.model_validate(data, context={CLEAN_MARKDOWN: clean})
        except ValidationError as error:
            log.info("a streamed section does not validate; showing no more: %s", error)
            return None
        return section


def _sections(text: str) -> list[Any]:
    """The sections of a growing lesson JSON, the last one possibly cut short."""
    try:
        parsed = from_json(text, allow_partial=True)
    except ValueError:
        return []
    sections = parsed.get("sections") if isinstance(parsed, dict) else None
    return sections if isinstance(sections, list) else []


class _ClosedSections:
    """Counts the elements of the answer's top-level ``sections`` list that have closed, reading
    the JSON text a piece at a time (strings and escapes understood, nothing else parsed).

    The key of a list is the last string read at the top level before the list opens.
    """

    def __init__(self) -> None:
        self.count = 0
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._string: list[str] = []
        self._last_key = ""
        self._in_sections = False

    def feed(self, piece: str) -> None:
        """Read ``piece``, the text that follows what was read so far."""
        for char in piece:
            if self._in_string:
                self._string_char(char)
            elif char == '"':
                self._in_string, self._string = True, []
            elif char in "{[":
                self._depth += 1
                if char == "[" and self._depth == 2 and self._last_key == "sections":
                    self._in_sections = True
            elif char in "}]":
                if self._in_sections and char == "}" and self._depth == 3:
                    self.count += 1
                elif self._in_sections and char == "]" and self._depth == 2:
                    self._in_sections = False
                self._depth -= 1

    def _string_char(self, char: str) -> None:
        if self._escaped:
            self._escaped = False
        elif char == "\\":
            self._escaped = True
        elif char == '"':
            self._in_string = False
            if self._depth == 1:
                self._last_key = "".join(self._string)
        elif self._depth == 1 and len(self._string) <= len("sections"):
            self._string.append(char)  # only a key as short as "sections" can be that key
