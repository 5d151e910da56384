"""Render the sample HTML report and take a PNG screenshot of it with headless Chromium.

Run from the repository root:  python tools/report_screenshot.py [out.png] [--huge]
The sample cases are the fictional ones the exporter tests use (tests/graph/cases_fixture.py).
Chromium runs offline: no background networking, no updates, a throwaway profile.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.graph.browser import run_chromium  # noqa: E402
from tests.graph.cases_fixture import all_cases, huge_case  # noqa: E402

from stormwatch.graph.html import cases_to_html  # noqa: E402


def sample_html(huge: bool) -> str:
    """The report of the fixture cases, as the CLI would write it."""
    cases = [*all_cases(), huge_case()] if huge else all_cases()
    return cases_to_html(
        cases,
        title="stormwatch investigation — Northwind Labs",
        generated_at=datetime(2025, 3, 5, 8, 0, tzinfo=UTC),
        tool_version="0.1.0",
        summary={"Events read": "1,204,332", "Log sources": "CloudTrail, Azure OpenAI, APIM"},
    )


def screenshot(html: str, out: Path, *, width: int = 1280, height: int = 2000) -> None:
    """Save Chromium's screenshot of ``html`` to ``out``."""
    run_chromium(html, f"--screenshot={out.resolve()}", f"--window-size={width},{height}")


def main(argv: list[str]) -> None:
    out = Path(next((a for a in argv if not a.startswith("--")), "report.png"))
    screenshot(sample_html("--huge" in argv), out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
