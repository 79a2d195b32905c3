"""The shape of every error response (RFC 9457 problem details), for the OpenAPI document."""

from pydantic import BaseModel, ConfigDict


class FieldError(BaseModel):
    """One invalid field of a request body."""

    field: str
    message: str


class ProblemDetails(BaseModel):
    """``application/problem+json``: what went wrong, in words a client can show."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None
