"""Queue triggers: write lessons, and fail the ones whose messages were poisoned."""

import logging

import azure.functions as func
from pydantic import ValidationError

from adapters.queue import (
    LESSON_GENERATION_POISON_QUEUE,
    LESSON_GENERATION_QUEUE,
    STORAGE_CONNECTION_SETTING,
)
from domain.ports import GenerationMessage
from functions.bootstrap import current_services

log = logging.getLogger(__name__)
bp = func.Blueprint()


def _decode(msg: func.QueueMessage) -> GenerationMessage | None:
    try:
        return GenerationMessage.model_validate_json(msg.get_body())
    except ValidationError:
        # It can never become valid: retrying it would only delay the queue behind it.
        log.error("dropping unreadable message %s: %.300r", msg.id, msg.get_body())
        return None


@bp.queue_trigger(
    arg_name="msg", queue_name=LESSON_GENERATION_QUEUE, connection=STORAGE_CONNECTION_SETTING
)
async def write_lesson(msg: func.QueueMessage) -> None:
    """Claim, write and store the lesson; raise on a retryable failure so it is redelivered."""
    message = _decode(msg)
    if message is not None:
        await current_services().writer.handle(message)


@bp.queue_trigger(
    arg_name="msg",
    queue_name=LESSON_GENERATION_POISON_QUEUE,
    connection=STORAGE_CONNECTION_SETTING,
)
async def fail_poisoned_lesson(msg: func.QueueMessage) -> None:
    """A message that failed every delivery: mark its lesson ``failed`` so the learner can retry."""
    message = _decode(msg)
    if message is not None:
        await current_services().writer.give_up(message)
