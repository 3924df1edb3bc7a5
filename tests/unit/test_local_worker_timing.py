"""The local upload worker says how long a batch waited in the queue (bench/ready.py reads it)."""

import pytest

from infra.local.worker import _longest_wait_ms


def test_the_wait_is_the_oldest_messages_from_its_sent_timestamp() -> None:
    messages = [
        {"Attributes": {"SentTimestamp": "1000250"}},
        {"Attributes": {"SentTimestamp": "1000100"}},
    ]

    assert _longest_wait_ms(messages, received=1000.400) == pytest.approx(300.0)


def test_messages_without_a_sent_timestamp_report_no_wait() -> None:
    assert _longest_wait_ms([{"Attributes": {}}, {}], received=1000.0) == 0.0
