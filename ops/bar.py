"""A plain-text progress bar on stderr, drawn only for a person watching a terminal."""

from typing import TextIO

WIDTH = 30


class TextBar:
    """``[#####.....] 12/40 label``, redrawn in place; silent when ``stream`` is not a terminal."""

    def __init__(self, total: int, stream: TextIO, label: str = "") -> None:
        self._total = max(total, 0)
        self._stream = stream
        self._label = label
        self._done = 0
        self._on = stream.isatty() and self._total > 1

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more items done and redraw."""
        self._done += count
        if self._on:
            self._stream.write("\r" + render(self._done, self._total, self._label))
            self._stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self._on and self._done:
            self._stream.write("\n")
            self._stream.flush()


def render(done: int, total: int, label: str = "") -> str:
    """One frame of the bar; ``total`` is approximate (queue counts are), so it never overflows."""
    total = max(total, done, 1)
    filled = WIDTH * done // total
    text = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total}"
    return f"{text} {label}".rstrip()
