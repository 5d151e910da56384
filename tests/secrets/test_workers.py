"""The fork pool: results in item order, worker errors raised in the parent, no deadlock on
items and results larger than a pipe holds."""

from __future__ import annotations

import os
import time

import pytest

from stormwatch.secrets.workers import WorkerError, WorkerPool


def _square(n: int) -> int:
    if n % 7 == 3:
        time.sleep(0.01)  # some items finish late: the order must not depend on timing
    return n * n


def test_results_come_in_item_order() -> None:
    with WorkerPool(2, _square) as pool:
        assert list(pool.map(range(50), ahead=3)) == [n * n for n in range(50)]


def test_large_items_and_results_do_not_deadlock() -> None:
    # Both directions exceed a pipe's buffer: the parent must read results while it sends.
    items = [bytes([n]) * (300 << 10) for n in range(8)]
    with WorkerPool(2, lambda data: data * 2) as pool:
        assert list(pool.map(items, ahead=3)) == [data * 2 for data in items]


def test_an_exception_in_a_worker_is_raised_with_its_type() -> None:
    def task(n: int) -> int:
        if n == 5:
            raise KeyError("five")
        return n

    with pytest.raises(KeyError, match="five"), WorkerPool(2, task) as pool:
        list(pool.map(range(10), ahead=2))


def test_a_worker_that_dies_is_an_error() -> None:
    with pytest.raises(WorkerError, match="exited"), WorkerPool(2, lambda n: os._exit(3)) as pool:
        list(pool.map(range(4), ahead=1))


def test_no_items_no_results() -> None:
    with WorkerPool(2, _square) as pool:
        assert list(pool.map([], ahead=3)) == []
