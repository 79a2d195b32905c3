"""Turning provider JSON into domain models, with errors a person can read."""

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from domain.errors import ContentRejected

M = TypeVar("M", bound=BaseModel)


def describe_validation_error(error: ValidationError, *, limit: int = 3) -> str:
    """Summarise a pydantic error as ``field: message`` pairs, at most ``limit`` of them."""
    parts = []
    for item in error.errors()[:limit]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def parse_json_as(
    model: type[M], payload: str, *, what: str, context: Mapping[str, Any] | None = None
) -> M:
    """Validate JSON text as ``model``; raise ``ContentRejected`` naming what was wrong."""
    try:
        return model.model_validate_json(payload, context=dict(context or {}))
    except ValidationError as error:
        raise ContentRejected(f"{what} is not valid: {describe_validation_error(error)}") from error
