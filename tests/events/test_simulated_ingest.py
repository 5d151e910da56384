"""A small simulated run ingests with nothing rejected (the simulator writes real formats)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stormwatch.events import SOURCE_NAMES, EventStore, ingest_files

simulate_module = pytest.importorskip("stormwatch.simulate")


def test_simulated_run_ingests_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    simulate_module.simulate(out, days=1, scale=0.05, seed=3)
    with EventStore.open(tmp_path / "s.duckdb") as store:
        report = ingest_files([out], store)
        again = ingest_files([out], store)
        sources = {
            s for (s,) in store.connection.execute("SELECT DISTINCT source FROM events").fetchall()
        }
        masked = store.connection.execute(
            "SELECT count(*) FROM events WHERE src_ip_masked AND src_ip NOT LIKE '%.0/24'"
        ).fetchone()
    problems = [
        (f.path, f.reasons, f.samples[:1]) for f in report.files if f.rejected and not f.skipped
    ]
    assert problems == []
    assert report.clean and report.stored > 0
    assert [Path(f.path).name for f in report.files if f.skipped] == ["labels.json"]
    assert sources == set(SOURCE_NAMES)
    assert masked == (0,)
    assert again.stored == 0 and all(f.unchanged for f in again.files if not f.skipped)
