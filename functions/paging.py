"""Paged reads: ``?limit=&cursor=``, with a cursor that only its own user can use.

A cursor is opaque to clients: base64url JSON naming the next offset and a hash of the user it
was issued to. The query behind it always runs in the caller's own partition; the user binding
makes a cursor passed from one learner to another a clear ``422`` rather than a silent
different page.
"""

import base64
import binascii
import hashlib
import json
from typing import Annotated

from pydantic import Field

from domain.base import ApiModel
from domain.errors import InvalidRequest

DEFAULT_PAGE = 20
MAX_PAGE = 100
_MAX_CURSOR = 200


class PageQuery(ApiModel):
    """Query parameters of a paged list."""

    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE
    cursor: Annotated[str, Field(min_length=1, max_length=_MAX_CURSOR)] | None = None


def _owner(user_id: str) -> str:
    return hashlib.sha256(user_id.encode()).hexdigest()[:16]


def cursor_for(user_id: str, offset: int) -> str:
    """The cursor of the page starting at ``offset`` for ``user_id``."""
    raw = json.dumps({"u": _owner(user_id), "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def offset_of(cursor: str | None, user_id: str) -> int:
    """The offset a cursor stands for; ``InvalidRequest`` naming ``cursor`` if it is not one of
    this user's."""
    if cursor is None:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset = data["o"]
        owner = data["u"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        offset, owner = None, None
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= 100_000:
        owner = None
    if owner != _owner(user_id):
        raise InvalidRequest(
            "The cursor is not valid.",
            [{"field": "cursor", "message": "not a cursor this API gave you; start without one"}],
        )
    return int(offset)
