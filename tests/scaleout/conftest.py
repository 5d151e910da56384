"""One local Spark session for the scale-out tests (loopback only, two cores)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

if not os.environ.get("CI"):  # CI installs the extra: there a missing PySpark is a failure
    pytest.importorskip("pyspark", reason="needs the spark extra: pip install -e '.[spark]'")

from stormwatch.scaleout import SparkSettings, spark_session

TEST_CONF = (
    ("spark.sql.shuffle.partitions", "2"),
    ("spark.default.parallelism", "2"),
    ("spark.driver.host", "127.0.0.1"),
    ("spark.driver.bindAddress", "127.0.0.1"),
)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    with spark_session(SparkSettings(master="local[2]", conf=TEST_CONF)) as session:
        yield session
