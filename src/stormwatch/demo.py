"""The main job, end to end on the embedded store: simulate, scan, ingest, detect, investigate.

A fictional organisation (Northwind Labs) leaks an AWS key in a small generated repository; its
AI logs carry several attack playbooks. The demo runs the whole chain on a fresh DuckDB file and
writes an HTML report and a STIX bundle. Nothing leaves the machine.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from stormwatch import __version__
from stormwatch.detect import DetectionSettings, add_canary, load_rules, run_detection
from stormwatch.events import EventStore, IngestSettings, ingest_files
from stormwatch.graph.cases import build_cases
from stormwatch.graph.exporters import ExportOptions, export_cases
from stormwatch.graph.model import Case
from stormwatch.secrets.exposure import exposure_records, record_exposures
from stormwatch.secrets.scan import ScanRequest, run_scan
from stormwatch.simulate import SimulationSummary, simulate

Step = Callable[[str], None]
AUTHOR = ("Dana Whitfield", "dana.whitfield@northwindlabs.example")


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced and the figures of each step."""

    out_dir: Path
    events: int
    findings: int
    alerts: int
    cases: tuple[Case, ...]
    html: Path
    stix: Path
    seconds: float


def _git(repo: Path, *args: str, when: datetime | None = None) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": AUTHOR[0],
        "GIT_AUTHOR_EMAIL": AUTHOR[1],
        "GIT_COMMITTER_NAME": AUTHOR[0],
        "GIT_COMMITTER_EMAIL": AUTHOR[1],
    }
    if when is not None:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S+0000")
        env |= {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)


def make_repository(repo: Path, summary: SimulationSummary) -> None:
    """A small notebook repository whose history exposes the simulation's leaked key."""
    exposed = next(x.details for x in summary.attacks if "exposed_aws_secret" in x.details)
    leaked_at = datetime.fromisoformat(str(exposed["exposed_at"]).replace("Z", "+00:00"))
    repo.mkdir(parents=True, exist_ok=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# ml-notebooks\n\nExperiments with Bedrock models.\n")
    (repo / "train.py").write_text("import boto3\n\nclient = boto3.client('bedrock-runtime')\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Initial notebooks", when=leaked_at - timedelta(days=10))
    (repo / ".env").write_text(
        f"AWS_ACCESS_KEY_ID={exposed['exposed_aws_key_id']}\n"
        f"AWS_SECRET_ACCESS_KEY={exposed['exposed_aws_secret']}\n"
        "AWS_REGION=us-east-1\n"
        f"AWS_BEARER_TOKEN_BEDROCK={exposed['exposed_bedrock_api_key']}\n"
        f"LITELLM_API_KEY={exposed['exposed_gateway_key']}\n"
    )
    _git(repo, "add", ".env")
    _git(repo, "commit", "-q", "-m", "Run the notebook against Bedrock", when=leaked_at)
    _git(repo, "rm", "-q", ".env")
    _git(repo, "commit", "-q", "-m", "Remove credentials", when=leaked_at + timedelta(hours=3))


def run_demo(out_dir: Path, step: Step, *, days: int = 7, scale: float = 1.0) -> DemoResult:
    """Run the whole chain into ``out_dir`` (created; an earlier demo there is replaced)."""
    started = datetime.now(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "stormwatch.duckdb"
    db.unlink(missing_ok=True)
    span = "a week" if days == 7 else f"{days} day{'s' if days != 1 else ''}"
    step(f"simulating {span} of Northwind Labs' AI logs with attack playbooks")
    summary = simulate(out_dir / "logs", days=days, scale=scale)
    step("creating a repository whose history leaks AWS and Bedrock API keys")
    repo = out_dir / "repo"
    if repo.exists():
        subprocess.run(["rm", "-rf", str(repo)], check=True)
    make_repository(repo, summary)
    step("scanning the repository's history for exposed AI credentials")
    scan, _ = run_scan(ScanRequest(paths=(str(repo),), history=True))
    with EventStore.open(db) as store:
        record_exposures(store.connection, exposure_records(scan.findings, started))
        step(f"ingesting {summary.total_events:,} raw log records")
        report = ingest_files([out_dir / "logs"], store, IngestSettings())
        for key in summary.canary_keys:
            add_canary(store.connection, key, "demo canary")
        step("running detection rules")
        rules = load_rules()
        alerts = run_detection(store.connection, rules, DetectionSettings())
        step("linking alerts into cases")
        cases = build_cases(store.connection, {r.id: r.theme for r in rules})
    html, stix = _write_reports(out_dir, cases, started)
    return DemoResult(
        out_dir,
        report.stored,
        len(scan.findings),
        len(alerts),
        cases,
        html,
        stix,
        (datetime.now(UTC) - started).total_seconds(),
    )


def _write_reports(out_dir: Path, cases: tuple[Case, ...], when: datetime) -> tuple[Path, Path]:
    options = ExportOptions(
        tool_version=__version__, generated_at=when, title="stormwatch demo — Northwind Labs"
    )
    html, stix = out_dir / "report.html", out_dir / "cases.stix.json"
    html.write_text(export_cases("html", cases, options), encoding="utf-8")
    stix.write_text(export_cases("stix", cases, options), encoding="utf-8")
    return html, stix


def open_store(db: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to an existing store."""
    return duckdb.connect(str(db), read_only=True)
