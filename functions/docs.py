"""HTTP: the OpenAPI document, built from the operations and models the handlers use."""

import json

import azure.functions as func

from functions.api import api, document

bp = func.Blueprint()


@api(
    bp,
    "openapi.json",
    "GET",
    summary="This API as an OpenAPI 3.1 document",
    responses={200: None},
    secured=False,
)
async def openapi(req: func.HttpRequest, services: object) -> func.HttpResponse:
    """The OpenAPI 3.1 document (anonymous)."""
    return func.HttpResponse(json.dumps(document()), mimetype="application/json")
