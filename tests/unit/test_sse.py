"""Server-sent events are read as the standard says, whatever the network cuts them into."""

from collections.abc import AsyncIterator

import pytest

from adapters.llm.sse import data_events


async def _events(*chunks: bytes) -> list[str]:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return [event async for event in data_events(body())]


async def test_each_event_is_its_data_up_to_done():
    events = await _events(
        b'data: {"a": 1}\n\ndata: {"b": 2}\n\ndata: [DONE]\n\ndata: {"c": 3}\n\n'
    )

    assert events == ['{"a": 1}', '{"b": 2}']


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
async def test_any_standard_line_ending_ends_a_line(end: bytes):
    assert await _events(b"data: one" + end + end + b"data: two" + end + end) == ["one", "two"]


async def test_a_crlf_split_between_two_reads_is_one_line_ending():
    assert await _events(b"data: a\r", b"\ndata: b\r\n\r\n") == ["a\nb"]


async def test_unicode_line_separators_inside_json_stay_in_the_event():
    # httpx's aiter_lines would break this line in two, as str.splitlines does.
    text = '{"content": "one\u2028two\u0085three"}'

    assert await _events(b"data: " + text.encode() + b"\n\n") == [text]


async def test_a_character_split_between_two_reads_is_decoded_whole():
    encoded = 'data: "héllo"\n\n'.encode()
    cut = encoded.index("é".encode()) + 1

    assert await _events(encoded[:cut], encoded[cut:]) == ['"héllo"']


async def test_comments_other_fields_and_no_space_after_the_colon_are_handled():
    events = await _events(b": keep-alive\n\nevent: message\nid: 7\ndata:{}\nretry: 10\n\n")

    assert events == ["{}"]


async def test_an_event_the_stream_ends_inside_is_dropped():
    assert await _events(b"data: whole\n\ndata: half") == ["whole"]
