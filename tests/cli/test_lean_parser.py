"""The lean command-line path agrees with Typer on every plain command line, and hands back
everything else (help, errors) to Typer."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from stormwatch.cli.lean_parser import lean_arguments
from stormwatch.cli.params import typer_command
from stormwatch.cli.scan_cmd import scan

PLAIN = [
    [],
    ["."],
    ["a", "b", "-"],
    ["a", "-q", "--format", "json", "b", "--engine=re2", "--no-verify"],
    ["--history", "repo", "-fsarif", "-o", "out.sarif", "--baseline", "base.json"],
    ["--staged", "--show-secrets", "--verify", "--config", "c.toml", "--baseline-out", "b"],
    ["x", "--db", "events.duckdb", "--engine", "hyperscan", "--no-show-secrets", "-q"],
    ["--format", "csv", "--format", "text"],
]
NOT_PLAIN = [
    ["--help"],
    ["--format", "yaml"],
    ["--engine"],
    ["--unknown"],
    ["--form", "json"],
    ["-x"],
    ["--", "-odd-name"],
]


def _typer_params(argv: list[str]) -> dict[str, Any]:
    """The keyword arguments Typer calls ``scan`` with (a stand-in with its signature, given to
    Typer as the app gives ``scan``)."""
    called: list[dict[str, Any]] = []

    @functools.wraps(scan)
    def stand_in(**kwargs: Any) -> None:
        called.append(kwargs)

    app = typer.Typer()
    app.callback()(lambda: None)
    app.command("scan")(typer_command(stand_in))
    result = CliRunner().invoke(app, ["scan", *argv])
    assert result.exit_code == 0, result.output
    return called[0]


@pytest.mark.parametrize("argv", PLAIN, ids=" ".join)
def test_plain_command_lines_parse_as_typer_does(argv: list[str]) -> None:
    assert lean_arguments(scan, argv) == _typer_params(argv)


@pytest.mark.parametrize("argv", NOT_PLAIN, ids=" ".join)
def test_other_command_lines_are_left_to_typer(argv: list[str]) -> None:
    assert lean_arguments(scan, argv) is None


def _python(*lines: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter running ``lines``: what it loads and how it exits are its own."""
    return subprocess.run([sys.executable, "-c", "\n".join(lines)], capture_output=True, text=True)


def test_a_plain_scan_runs_without_loading_typer_pydantic_or_duckdb(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("print('hello')\n")
    report = tmp_path / "report.json"
    argv = ["stormwatch", "scan", str(tmp_path), "-q", "-fjson", "-o", str(report)]
    ran = _python(
        "import sys",
        "from stormwatch.cli.app import run_lean",
        f"print('exit', run_lean({argv[1:]!r}))",
        "print(sorted({'typer', 'pydantic', 'duckdb'} & set(sys.modules)))",
    )
    assert ran.stdout.split("\n")[:2] == ["exit 0", "[]"], ran.stderr
    assert json.loads(report.read_text())["stats"]["files"] == 1


@pytest.mark.parametrize("case", ["finding", "clean", "missing"])
def test_the_entry_point_exits_with_the_scan_code_and_its_output_flushed(
    tmp_path: Path,
    case: str,
    make_key,  # type: ignore[no-untyped-def]
) -> None:
    (tmp_path / "a.env").write_text(f"OPENAI_API_KEY={make_key()}\n" if case == "finding" else "")
    target = str(tmp_path / "nowhere" if case == "missing" else tmp_path)
    ran = _python(
        "import sys",
        "from stormwatch.cli.app import main",
        f"sys.argv = ['stormwatch', 'scan', {target!r}, '-q', '-fjson']",
        "main()",
    )
    assert ran.returncode == {"finding": 1, "clean": 0, "missing": 2}[case], ran.stderr
    if case == "missing":
        assert "no such file or directory" in ran.stderr
    else:
        assert len(json.loads(ran.stdout)["findings"]) == (case == "finding")


@pytest.mark.parametrize(
    ("command", "argv", "choices"),
    [
        ("scan", ["--format", "xml"], "text, json, sarif, csv"),
        ("scan", ["--engine", "pcre"], "auto, hyperscan, re2"),
        ("investigate", ["--format", "xml"], "text, json, markdown"),
        ("investigate", ["--min-severity", "bad"], "low, medium, high, critical"),
    ],
)
def test_a_bad_choice_names_the_choices(command: str, argv: list[str], choices: str) -> None:
    from stormwatch.cli.app import build_app

    result = CliRunner().invoke(build_app(), [command, *argv])
    words = " ".join(result.output.replace("│", " ").split())
    assert result.exit_code == 2
    assert f"{argv[1]!r} is not one of {choices}" in words
    assert "Value error" not in words
