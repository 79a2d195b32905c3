"""host.json values the local host honours: TimeSpans and the queue options."""

from typing import Any

import pytest

from devhost.hostconfig import QueueOptions, parse_timespan


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("00:00:02", 2.0),
        ("00:05:00", 300.0),
        ("00:10:00", 600.0),
        ("1.02:00:00", 93_600.0),
        ("02:03:04", 7_384.0),
        ("00:00:01.5", 1.5),
        ("00:00:00.250", 0.25),
        (" 00:00:30 ", 30.0),
        (2_000, 2.0),
        (1_500, 1.5),
        (250.0, 0.25),
        (0, 0.0),
    ],
)
def test_timespan_is_read_as_seconds(value: Any, seconds: float):
    assert parse_timespan(value) == seconds


@pytest.mark.parametrize("value", [-1, "-1", -1.0])
def test_minus_one_means_unbounded(value: Any):
    assert parse_timespan(value) is None


@pytest.mark.parametrize("value", ["soon", "", "5m", "00:00", "1:2:3", "00:00:02.", None])
def test_garbage_timespan_raises(value: Any):
    with pytest.raises(ValueError, match="not a TimeSpan"):
        parse_timespan(value)


def test_queue_options_default_to_the_functions_host_defaults():
    options = QueueOptions.from_json({})

    assert options == QueueOptions(
        batch_size=16,
        new_batch_threshold=8,
        max_polling_interval=60.0,
        visibility_timeout=0.0,
        max_dequeue_count=5,
        message_encoding="base64",
    )


@pytest.mark.parametrize(("batch_size", "threshold"), [(1, 0), (5, 2), (10, 5), (32, 16)])
def test_new_batch_threshold_defaults_to_half_the_batch(batch_size: int, threshold: int):
    options = QueueOptions.from_json({"batchSize": batch_size})

    assert options.batch_size == batch_size
    assert options.new_batch_threshold == threshold


def test_explicit_new_batch_threshold_wins():
    assert (
        QueueOptions.from_json({"batchSize": 10, "newBatchThreshold": 1}).new_batch_threshold == 1
    )


@pytest.mark.parametrize("batch_size", [0, -1, 33, 64])
def test_batch_size_outside_1_to_32_is_rejected(batch_size: int):
    with pytest.raises(ValueError, match=r"batchSize must be 1\.\.32"):
        QueueOptions.from_json({"batchSize": batch_size})


def test_the_projects_queue_section_is_read():
    section = {
        "batchSize": 16,
        "newBatchThreshold": 8,
        "maxPollingInterval": "00:00:02",
        "visibilityTimeout": "00:00:05",
        "maxDequeueCount": 5,
        "messageEncoding": "base64",
    }

    options = QueueOptions.from_json(section)

    assert options.max_polling_interval == 2.0
    assert options.visibility_timeout == 5.0
    assert options.max_dequeue_count == 5


def test_polling_interval_has_a_floor():
    assert QueueOptions.from_json({"maxPollingInterval": 10}).max_polling_interval == 0.1


def test_message_encoding_is_case_insensitive():
    assert QueueOptions.from_json({"messageEncoding": "None"}).message_encoding == "none"


def test_unknown_message_encoding_is_rejected():
    with pytest.raises(ValueError, match="messageEncoding"):
        QueueOptions.from_json({"messageEncoding": "utf8"})
