"""Scale-out benchmark: the same detection on DuckDB and on Spark (local mode) as events grow.

For each size, synthetic normalized events (the detect helper's generator: 2,000 credentials,
30 days) are written once as a DuckDB store and as partitioned Parquet; then
``stormwatch detect`` runs on the store and ``stormwatch detect --engine spark`` on the Parquet,
each as its own process, measured for wall time and peak memory of the process tree (the JVM
included). A straight-line fit of seconds per million events extrapolates to one billion.

    python bench/scale_bench.py                         # 1M, 5M, 20M
    python bench/scale_bench.py --sizes 200000,1000000  # quicker
    python bench/scale_bench.py --sizes 1000000 --json one.json   # one size per run, then
    python bench/scale_bench.py --fit one.json five.json ...      # the fit over all of them
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "detect"))
from bench_detect import GENERATE

from measure import Run, run
from stormwatch.events.model import events_table_ddl

WORK = Path(__file__).parent / "_work" / "scale"
# In local mode the driver is the executor: Spark's 1 GB driver default is too small for rules
# running side by side (DuckDB, measured alongside, may use the machine's memory too).
SPARK_CONF = ("--conf", "spark.driver.memory=4g")


def _prepare(rows: int) -> tuple[Path, Path]:
    store, parquet = WORK / f"store-{rows}.duckdb", WORK / f"parquet-{rows}"
    if not store.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(store)) as con:
            con.execute(events_table_ddl())
            con.execute(GENERATE.format(rows=rows))
            con.execute(
                f"COPY (SELECT *, CAST(time AS DATE) AS day FROM events) TO '{parquet}' "
                "(FORMAT PARQUET, PARTITION_BY (source, day), OVERWRITE_OR_IGNORE)"
            )
    return store, parquet


def _commands(store: Path, parquet: Path, master: str) -> dict[str, list[str]]:
    out = ["--format", "json", "--output", os.devnull]
    return {
        "duckdb": ["stormwatch", "detect", "--db", str(store), *out],
        "spark": [
            "stormwatch", "detect", "--engine", "spark", "--input", str(parquet),
            "--db", str(WORK / "no-store.duckdb"), "--master", master, *SPARK_CONF, *out,
        ],
    }  # fmt: skip


def _fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares (intercept seconds, seconds per million events)."""
    xs, ys = [n / 1e6 for n, _ in points], [s for _, s in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs) or 1.0
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return mean_y - slope * mean_x, slope


Results = dict[str, list[dict[str, float]]]


def _measure(sizes: list[int], master: str) -> Results:
    results: Results = {"duckdb": [], "spark": []}
    print(f"{'events':>12} {'engine':>7} {'seconds':>9} {'tree MB':>9}")
    for rows in sizes:
        store, parquet = _prepare(rows)
        for engine, command in _commands(store, parquet, master).items():
            print("$", " ".join(command), flush=True)
            measured: Run = run(command)
            if measured.returncode not in (0, 1):
                raise SystemExit(f"{engine} failed: {measured.stderr}")
            results[engine].append({"events": rows, "seconds": measured.seconds,
                                    "tree_mb": measured.tree_mb})  # fmt: skip
            print(f"{rows:>12,} {engine:>7} {measured.seconds:>9.1f} {measured.tree_mb:>9.0f}")
    return results


def _merged(files: list[Path]) -> Results:
    """The figures of earlier ``--json`` runs, one list per engine, by size."""
    results: Results = {"duckdb": [], "spark": []}
    for file in files:
        for engine, points in json.loads(file.read_text()).items():
            results[engine].extend(points)
    return {engine: sorted(points, key=lambda p: p["events"]) for engine, points in results.items()}


def _report(results: Results) -> None:
    for engine, points in results.items():
        if len(points) < 2:
            continue  # a line needs two sizes
        base, per_million = _fit([(int(p["events"]), p["seconds"]) for p in points])
        hours = (base + per_million * 1000) / 3600
        print(f"{engine}: {per_million:.2f} s per million events (+{base:.1f} s fixed); "
              f"1 billion events on this machine ≈ {hours:.1f} h")  # fmt: skip
    spark, duck = results["spark"], results["duckdb"]
    for s, d in zip(spark, duck, strict=True):
        print(f"{int(s['events']):>12,} spark / duckdb time: {s['seconds'] / d['seconds']:.1f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,5000000,20000000")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--fit", type=Path, nargs="+", help="report earlier --json runs instead")
    args = parser.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    if args.fit:
        _report(_merged(args.fit))
        return
    results = _measure([int(size) for size in args.sizes.split(",")], args.master)
    _report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
