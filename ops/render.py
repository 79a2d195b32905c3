"""Output: aligned plain-text tables for people, JSON for scripts."""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from domain.lesson import Lesson


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as a table with a header, each column as wide as its widest cell."""
    cells = [[_cell(row.get(name)) for name in columns] for row in rows]
    widths = [max([len(name), *(len(line[i]) for line in cells)]) for i, name in enumerate(columns)]
    lines = [list(columns), ["-" * width for width in widths], *cells]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def pairs(values: Mapping[str, Any]) -> str:
    """``name: value`` lines, the names aligned."""
    width = max((len(name) for name in values), default=0)
    return "\n".join(f"{name.ljust(width)}  {_cell(value)}" for name, value in values.items())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    text = str(value).replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def to_json(data: Any) -> str:
    """``data`` as indented JSON."""
    return json.dumps(data, indent=2, sort_keys=False, default=str)


def lesson_data(lesson: Lesson) -> dict[str, Any]:
    """A lesson as JSON, without its content (operators need its state, not its text)."""
    data = lesson.model_dump(mode="json", exclude={"content", "sources"})
    data["hasContent"] = lesson.content is not None
    return data


def lesson_text(lesson: Lesson) -> str:
    """A lesson's generation state for a person: status, progress, lease, trail, errors."""
    lease = lesson.lease
    head = pairs(
        {
            "lesson": lesson.id,
            "user": lesson.user_id,
            "roadmap": lesson.roadmap_id,
            "title": lesson.title,
            "status": lesson.status,
            "progress": f"{lesson.progress.stage} {lesson.progress.percent}%",
            "queued at": lesson.queued_at.isoformat() if lesson.queued_at else None,
            "queued from": lesson.queued_from,
            "deliveries": lesson.deliveries,
            "requeues": lesson.requeues,
            "lease": f"{lease.owner} (claim {lease.claim}) until {lease.expires_at.isoformat()}"
            if lease
            else None,
            "provider": f"{lesson.provider} / {lesson.model}" if lesson.provider else None,
            "last error": lesson.last_error,
            "diagnosis": lesson.diagnosis,
            "generation error": lesson.generation_error,
            "updated at": lesson.updated_at.isoformat(),
        }
    )
    if not lesson.attempts:
        return head + "\n\nattempts: none"
    trail = table([a.model_dump() for a in lesson.attempts], ["provider", "outcome", "ms"])
    return f"{head}\n\nattempts:\n{trail}"
