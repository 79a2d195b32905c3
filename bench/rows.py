"""One result row of ``make bench``: two ways of doing the same work, and the ratio."""


def row(task: str, ours: str, ours_ms: float, other: str, other_ms: float) -> dict[str, object]:
    """A measured comparison; ``speedup`` is how many times faster ours is."""
    return {
        "task": task,
        "ours": ours,
        "ours_ms": round(ours_ms, 2),
        "other": other,
        "other_ms": round(other_ms, 2),
        "speedup": round(other_ms / ours_ms, 1),
    }
