"""HTTP: where a page subscribes to its lessons (``…/notifications/negotiate``).

The answer is a Web PubSub client URL for the token's user only (``adapters/notifications.py``):
its WebSocket, with the ``json.webpubsub.azure.v1`` subprotocol, receives
``{"type": "message", "from": "server", "dataType": "json", "data": {…}}`` frames whose ``data``
is one of, for that learner's lessons only:

- ``lesson.status``: a status change (status, stage, percent);
- ``lesson.section``: a section of a lesson being written, whole and cleaned (``index``,
  ``section``), numbered by ``sequence`` within its ``delivery``;
- ``lesson.reset``: drop the sections shown of that delivery (the answer was discarded);
- ``lesson.completed``: the lesson is stored; read it.

Without Web PubSub the operation answers ``404`` (as ``/api/dev/token`` does when development
tokens are off) and pages poll.
"""

import azure.functions as func

from domain.base import DocumentModel
from domain.errors import NotFound
from functions.api import api
from functions.http import Caller, json_response
from functions.problems import ProblemDetails

bp = func.Blueprint()


class Negotiated(DocumentModel):
    """Where to open the WebSocket: a ``wss://`` URL carrying its access token (60 minutes)."""

    url: str


@api(
    bp,
    "notifications/negotiate",
    "POST",
    summary="A WebSocket URL that receives the caller's lessons as they change and are written "
    "(404 when off)",
    responses={200: Negotiated, 404: ProblemDetails},
)
async def negotiate_notifications(req: func.HttpRequest, caller: Caller) -> func.HttpResponse:
    """A client access URL for the caller only; absent when Web PubSub is not configured."""
    notifications = caller.services.notifications
    if notifications is None:  # as if the operation did not exist
        raise NotFound("operation", "notifications/negotiate")
    url = await notifications.client_url(caller.user_id)
    return json_response(Negotiated(url=url), 200, {"Cache-Control": "no-store"})
