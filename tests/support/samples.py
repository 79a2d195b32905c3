"""Answers a good model would give: a valid lesson and a valid roadmap outline, as JSON data."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from domain.lesson import Lesson


def lesson_json(
    summary: str = "You will be able to read and write Python list comprehensions.",
) -> dict[str, Any]:
    return {
        "summary": summary,
        "sections": [
            {
                "heading": "From loops to comprehensions",
                "body": "A comprehension builds a list in one expression:\n\n"
                "```python\nsquares = [n * n for n in range(5)]\n```",
            },
            {"heading": "Filtering", "body": "Add an `if` clause to keep only some items."},
        ],
        "codeExamples": [
            {
                "title": "Even squares",
                "language": "python",
                "code": "print([n * n for n in range(10) if n % 2 == 0])",
                "explanation": "Squares of the even numbers below 10.",
            }
        ],
        "exercises": [
            {
                "prompt": "Build the list of word lengths of a sentence.",
                "hint": "Split the sentence first.",
                "solution": "`[len(w) for w in sentence.split()]`",
            }
        ],
        "quiz": [
            {
                "question": "What does `[x for x in range(3)]` build?",
                "options": ["[0, 1, 2]", "[1, 2, 3]", "(0, 1, 2)"],
                "answerIndex": 0,
                "explanation": "range(3) yields 0, 1 and 2.",
            }
        ],
        "keyTakeaways": ["Comprehensions replace simple loops that build lists."],
        "diagrams": [
            {
                "title": "From a loop to a comprehension",
                "mermaid": "flowchart LR\n  A[for loop] --> B[append]\n  B --> C[comprehension]",
            }
        ],
        "furtherReading": [
            {
                "title": "List comprehensions (Python tutorial)",
                "url": "https://docs.python.org/3/tutorial/datastructures.html#list-comprehensions",
            }
        ],
    }


def outline_json() -> dict[str, Any]:
    return {
        "modules": [
            {
                "title": "Python basics",
                "description": "Syntax and data types",
                "lessons": [
                    {
                        "title": "Lists and comprehensions",
                        "description": "Building lists",
                        "objectives": ["Write a list comprehension"],
                        "estimatedMinutes": 30,
                    },
                    {
                        "title": "Dictionaries",
                        "description": "Key-value data",
                        "objectives": ["Count words with a dict"],
                        "estimatedMinutes": 25,
                    },
                ],
            }
        ]
    }


def skeleton_lessons(
    user_id: str, count: int, *, goal: str = "Learn Rust", planned_by: str = "learner"
) -> "list[Lesson]":
    """``count`` pending lesson skeletons of one module, as onboarding stores them."""
    from domain.roadmap import (
        CreateRoadmapRequest,
        LessonPlan,
        ModulePlan,
        RoadmapOutline,
        build_roadmap,
    )

    plans = [LessonPlan(title=f"Lesson {n}", objectives=["Objective"]) for n in range(count)]
    outline = RoadmapOutline(modules=[ModulePlan(title="Module", lessons=plans)])
    request = CreateRoadmapRequest(goal=goal, skill_level="beginner")
    return build_roadmap(user_id, request, outline, planned_by=planned_by)[1]
