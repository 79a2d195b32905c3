"""The offline provider streams its template as a model would: one lesson section at a time."""

from pydantic_core import from_json

from adapters.llm.offline import OfflineProvider
from domain.content import LessonContent
from domain.ports import LlmTask, RoadmapBrief, TaskKind
from domain.roadmap import RoadmapOutline
from tests.unit.fakes import make_brief

# Text that looks like the JSON around the list must not fool the cutting.
OBJECTIVES = ("Write a list comprehension", 'Parse "sections": [] in JSON', "Nest loops", "Sort")
LESSON = LlmTask(TaskKind.LESSON, make_brief(objectives=OBJECTIVES), LessonContent)
OUTLINE = LlmTask(
    TaskKind.OUTLINE,
    RoadmapBrief(goal='Learn "modules": [] Python', skill_level="beginner", weekly_hours=4),
    RoadmapOutline,
)


async def _streamed(task: LlmTask) -> tuple[list[str], str]:
    pieces: list[str] = []

    async def sink(text: str) -> None:
        pieces.append(text)

    draft = await OfflineProvider().generate(task, time_limit=1, on_text=sink)
    return pieces, draft.payload


def _counts(pieces: list[str], key: str) -> list[int]:
    """How many items of ``key`` a reader parsing the growing text sees after each piece."""
    text, counts = "", []
    for piece in pieces:
        text += piece
        counts.append(len(from_json(text, allow_partial=True).get(key, [])))
    return counts


async def test_streamed_pieces_join_into_the_payload_it_writes_without_streaming():
    for task in (LESSON, OUTLINE):
        pieces, payload = await _streamed(task)

        unstreamed = await OfflineProvider().generate(task, time_limit=1)

        assert "".join(pieces) == payload == unstreamed.payload


async def test_a_reader_of_the_growing_lesson_sees_one_more_section_per_piece():
    pieces, payload = await _streamed(LESSON)

    assert _counts(pieces, "sections") == [0, 1, 2, 3, 4, 4]
    assert [s["heading"] for s in from_json(payload)["sections"]] == list(OBJECTIVES)


async def test_an_outline_grows_one_module_at_a_time():
    pieces, _ = await _streamed(OUTLINE)

    assert _counts(pieces, "modules") == [0, 1, 2, 3, 4, 4]
