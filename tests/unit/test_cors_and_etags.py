"""CORS grants only configured origins; lesson ETags make polling cheap and follow changes."""

import pytest

from adapters.settings import Settings
from domain.lesson import GenerationStatus
from functions.cors import PREFLIGHT_HEADERS
from functions.http import cors_headers, etag_matches
from functions.lessons import _etag
from tests.unit.fakes import make_lesson
from tests.unit.http_fakes import ALLOWED_ORIGIN, Served

OTHER_ALLOWED = "http://localhost:5173"
CONFIGURED = f" {ALLOWED_ORIGIN}/ , {OTHER_ALLOWED},"
GRANT = {
    "Access-Control-Allow-Origin": ALLOWED_ORIGIN,
    "Access-Control-Expose-Headers": "ETag, Location, Retry-After, RateLimit-Policy, RateLimit",
}
ETAG = _etag("etag-7|None|None")


def _settings(origins: str = CONFIGURED) -> Settings:
    return Settings.model_construct(cors_allowed_origins=origins)


def _cors(response_headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in response_headers.items() if k.startswith("Access-Control-")}


def test_a_configured_origin_is_granted_without_credentials():
    # Bearer tokens travel in a header, never in cookies: there are no credentials to allow.
    assert cors_headers(ALLOWED_ORIGIN, _settings()) == GRANT
    assert "Access-Control-Allow-Credentials" not in GRANT


def test_every_configured_origin_is_granted_whatever_the_spacing():
    granted = cors_headers(OTHER_ALLOWED, _settings())

    assert granted["Access-Control-Allow-Origin"] == OTHER_ALLOWED


@pytest.mark.parametrize(
    ("configured", "origin"),
    [
        (f"{ALLOWED_ORIGIN}/", ALLOWED_ORIGIN),
        (ALLOWED_ORIGIN, f"{ALLOWED_ORIGIN}/"),
    ],
)
def test_a_trailing_slash_on_either_side_is_tolerated(configured: str, origin: str):
    granted = cors_headers(origin, _settings(configured))

    assert granted["Access-Control-Allow-Origin"] == origin


@pytest.mark.parametrize("origin", [None, ""])
def test_a_request_without_an_origin_gets_no_grant(origin: str | None):
    assert cors_headers(origin, _settings()) == {}


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        f"{ALLOWED_ORIGIN}.evil.example",
        "http://learn.example.com",
        "https://learn.example.com:8443",
        "null",
        "*",
    ],
)
def test_a_foreign_origin_gets_no_grant(origin: str):
    assert cors_headers(origin, _settings()) == {}


@pytest.mark.parametrize("configured", ["", " , ", "*"])
def test_no_origin_is_granted_unless_configured_by_name(configured: str):
    assert cors_headers(ALLOWED_ORIGIN, _settings(configured)) == {}


async def test_a_preflight_from_a_configured_origin_is_granted(served: Served):

    response = await served.call("cors_preflight", headers={"Origin": ALLOWED_ORIGIN})

    assert response.status_code == 204
    assert _cors(dict(response.headers)) == _cors({**GRANT, **PREFLIGHT_HEADERS})
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert methods >= {"GET", "POST", "PUT", "DELETE"}
    allowed = {h.strip() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed >= {"Authorization", "Content-Type", "If-None-Match"}


@pytest.mark.parametrize("headers", [{}, {"Origin": "https://evil.example.com"}])
async def test_a_preflight_from_elsewhere_is_granted_nothing(
    served: Served, headers: dict[str, str]
):

    response = await served.call("cors_preflight", headers=headers)

    assert response.status_code == 204
    assert _cors(dict(response.headers)) == {}


async def test_error_answers_carry_the_grant_so_the_page_can_read_them(served: Served):

    response = await served.call(
        "get_lesson", headers={"Origin": ALLOWED_ORIGIN}, lessonId="no-such-lesson"
    )

    assert response.status_code == 404
    assert _cors(dict(response.headers)) == _cors(GRANT)


def test_an_etag_is_a_quoted_strong_tag():
    assert ETAG.startswith('"')
    assert ETAG.endswith('"')
    assert '"' not in ETAG[1:-1]
    assert not ETAG.startswith("W/")


def test_an_etag_is_stable_and_differs_between_versions():
    assert _etag("etag-7|None|None") == ETAG
    assert _etag("etag-8|None|None") != ETAG
    assert _etag("etag-7|2025-06-01 08:00:00+00:00|None") != ETAG


@pytest.mark.parametrize(
    "if_none_match",
    [
        ETAG,
        f"W/{ETAG}",
        "*",
        f'"other", {ETAG}',
        f'"other",W/{ETAG}',
        f'  {ETAG}  ,"other"',
    ],
)
def test_if_none_match_matches_the_tag_in_any_form(if_none_match: str):
    assert etag_matches(if_none_match, ETAG)


@pytest.mark.parametrize(
    "if_none_match",
    [None, "", '"other"', f'"other", W/"{ETAG[1:5]}"', ETAG.strip('"'), f'{ETAG[:-2]}"'],
)
def test_if_none_match_without_the_tag_does_not_match(if_none_match: str | None):
    assert not etag_matches(if_none_match, ETAG)


async def test_an_unchanged_lesson_answers_304_and_a_changed_one_200_with_a_new_tag(served: Served):
    served.lessons.put(make_lesson(GenerationStatus.COMPLETED))
    first = await served.call("get_lesson", lessonId="lesson-1")
    etag = first.headers["ETag"]

    unchanged = await served.call(
        "get_lesson", headers={"If-None-Match": etag}, lessonId="lesson-1"
    )
    await served.call("put_progress", {"completed": True}, lessonId="lesson-1")
    marked = await served.call("get_lesson", headers={"If-None-Match": etag}, lessonId="lesson-1")

    assert (first.status_code, unchanged.status_code, marked.status_code) == (200, 304, 200)
    assert unchanged.headers["ETag"] == etag
    assert unchanged.get_body() == b""
    assert marked.headers["ETag"] not in (etag, "")


@pytest.mark.parametrize(
    "headers",
    [{"Origin": ALLOWED_ORIGIN}, {"Origin": "https://evil.example.com"}, {}],
    ids=["granted", "foreign", "no-origin"],
)
@pytest.mark.parametrize("name", ["get_lesson", "cors_preflight"])
async def test_every_answer_varies_by_origin_when_origins_are_configured(
    served: Served, headers: dict[str, str], name: str
):
    response = await served.call(name, headers=headers, lessonId="missing", path="lessons/x")

    assert response.headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in response.headers


async def test_without_configured_origins_answers_do_not_vary_by_origin():
    with Served(cors="") as served:
        response = await served.call("get_lesson", headers={"Origin": ALLOWED_ORIGIN}, lessonId="x")

    assert "Vary" not in response.headers
    assert "Access-Control-Allow-Origin" not in response.headers
