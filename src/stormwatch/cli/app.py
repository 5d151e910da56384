"""The ``stormwatch`` command: a thin Typer app, the only place that prints.

Exit codes (all commands): 0 success and nothing found; 1 findings or alerts; 2 usage or fatal
error; 3 finished, but some input was rejected (counted and reported with its location).
"""

from __future__ import annotations

import typer

from stormwatch.cli import detect_cmd, ingest_cmd, investigate_cmd, scan_cmd, simulate_cmd

app = typer.Typer(
    name="stormwatch",
    help="Protect generative-AI accounts from credential theft and abuse (LLMjacking).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("demo")(investigate_cmd.demo)
app.command("scan")(scan_cmd.scan)
app.command("ingest")(ingest_cmd.ingest)
app.command("detect")(detect_cmd.detect)
app.command("investigate")(investigate_cmd.investigate)
app.command("rules")(detect_cmd.rules_list)
app.command("simulate")(simulate_cmd.simulate)
app.add_typer(detect_cmd.canary_app, name="canary")


def main() -> None:
    """Console-script entry point."""
    app()
