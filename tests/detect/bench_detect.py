"""Benchmark: detection over N synthetic events generated in DuckDB with ``range()``.

Not a test (pytest does not collect it). Run::

    python tests/detect/bench_detect.py --rows 10000000 --threads 2

It prints the command, the generation time, the time of each rule and the total.
"""

from __future__ import annotations

import argparse
import sys
import time

import duckdb

from stormwatch.detect import DetectionSettings, compile_rule, load_rules, run_detection
from stormwatch.events.model import events_table_ddl

GENERATE = """
INSERT INTO events
SELECT
  'e' || CAST(i AS VARCHAR) AS event_id,
  TIMESTAMP '2025-05-01 00:00:00' + to_seconds(CAST(i * (30 * 86400.0 / {rows}) AS BIGINT)) AS time,
  CASE WHEN k % 3 = 0 THEN 'azure_openai' ELSE 'cloudtrail' END AS source,
  CASE WHEN k % 3 = 0 THEN 'azure' ELSE 'aws' END AS provider,
  'acct-' || CAST(k % 20 AS VARCHAR) AS account,
  'res-' || CAST(k % 500 AS VARCHAR) AS resource,
  ['us-east-1', 'us-west-2', 'eu-west-1'][1 + CAST(k % 3 AS INTEGER)] AS region,
  'cred-' || CAST(k AS VARCHAR) AS credential_id,
  'aws_long_term' AS credential_kind,
  'user-' || CAST(k % 800 AS VARCHAR) AS principal,
  '10.' || CAST(k % 200 AS VARCHAR) || '.' || CAST(k // 200 AS VARCHAR) || '.'
    || CAST(hash(i) % 3 AS VARCHAR) AS src_ip,
  FALSE AS src_ip_masked,
  ['Boto3/1.34 app/a', 'openai-python/1.30', 'app-b/2.0', ''][1 + CAST(k % 4 AS INTEGER)]
    AS user_agent,
  CASE WHEN hash(i * 17) % 1000 = 0 THEN 'ListFoundationModels'
       WHEN hash(i * 17) % 1000 = 1 THEN 'GetModelInvocationLoggingConfiguration'
       WHEN hash(i * 17) % 5000 = 2 THEN 'CreateAccessKey'
       WHEN hash(i * 17) % 5000 = 3 THEN 'MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION'
       WHEN k % 3 = 0 THEN 'ChatCompletions_Create' ELSE 'InvokeModel' END AS operation,
  ['claude-3-haiku', 'gpt-4o-mini', 'titan-lite', 'claude-3-opus'][1 + CAST(k % 4 AS INTEGER)]
    AS model,
  NULL AS deployment,
  200 AS status_code,
  hash(i * 23) % 50 <> 0 AS success,
  CASE WHEN hash(i * 23) % 50 = 0 THEN 'ValidationException' END AS error_code,
  CAST(hash(i * 29) % 2000 AS BIGINT) AS tokens_in,
  CAST(hash(i * 31) % 800 AS BIGINT) AS tokens_out,
  CAST(hash(i * 37) % 9000 AS BIGINT) AS request_bytes,
  CAST(hash(i * 41) % 9000 AS BIGINT) AS response_bytes,
  NULL AS cost_usd,
  hash(i * 43) % 400 = 0 AS filter_blocked,
  NULL AS filter_categories,
  NULL AS filter_severity,
  hash(i * 47) % 5000 = 0 AS jailbreak_detected,
  'h' || CAST(hash(i * 53) % 1000000 AS VARCHAR) AS request_hash,
  NULL AS target,
  'synthetic.jsonl' AS raw_file,
  i AS raw_line,
  ['US', 'DE', 'JP'][1 + CAST(k % 3 AS INTEGER)] AS src_country
FROM (SELECT i, hash(i * 7) % 2000 AS k FROM range({rows}) AS r(i))
"""
"""2,000 credentials (each with its own resource, account, three addresses, one user agent and
model), 30 days, 2 % validation errors, 0.25 % content-filter blocks, rare control-plane calls."""


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--db", default=":memory:", help="reuse a store generated earlier")
    parser.add_argument("--per-rule", action="store_true", help="also time each rule alone")
    args = parser.parse_args(argv)
    print("command:", "python tests/detect/bench_detect.py", *argv)
    con = duckdb.connect(args.db)
    con.execute(f"SET threads = {args.threads}")
    con.execute(events_table_ddl())
    start = time.perf_counter()
    if con.execute("SELECT count(*) FROM events").fetchone() == (0,):
        con.execute(GENERATE.format(rows=args.rows))
    count = con.execute("SELECT count(*) FROM events").fetchone()
    print(f"{count} events ready in {time.perf_counter() - start:.1f} s")
    rules = load_rules()
    settings = DetectionSettings(store=False)
    for rule in rules if args.per_rule else ():
        t0 = time.perf_counter()
        found = run_detection(con, [rule], settings)
        print(f"  {rule.id:45s} {time.perf_counter() - t0:6.2f} s  {len(found)} alerts")
    t0 = time.perf_counter()
    alerts = run_detection(con, rules, DetectionSettings())
    total = time.perf_counter() - t0
    print(
        f"all {len(rules)} rules, stored: {total:.1f} s, {len(alerts)} alerts,",
        f"threads={args.threads}",
    )
    assert compile_rule(rules[0]).sql("spark")


if __name__ == "__main__":
    main(sys.argv[1:])
