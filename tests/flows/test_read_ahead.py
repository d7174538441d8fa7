"""Batches are read one ahead in a thread: same items, same order, errors raised, early exit."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from flows.validation import read_ahead


def test_items_come_in_order() -> None:
    assert list(read_ahead(iter(range(50)))) == list(range(50))


def test_an_error_while_reading_is_raised_to_the_caller_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("landed file is truncated")

    seen = []
    with pytest.raises(ValueError, match="truncated"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_leaving_early_stops_the_reading_thread() -> None:
    produced = []

    def items() -> Iterator[int]:
        for number in range(1_000):
            produced.append(number)
            yield number

    before = threading.active_count()
    for item in read_ahead(items()):
        if item == 3:
            break
    assert threading.active_count() == before
    assert len(produced) <= 6  # one item ahead, not the whole file
