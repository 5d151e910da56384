"""Headless Chromium for the HTML report: offline, a throwaway profile, nothing left running.

Used by the HTML report test and by tools/report_screenshot.py.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium() -> str:
    """The Chromium executable on PATH (Debian names it ``chromium``)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError("chromium not found: apt-get install -y chromium")


def run_chromium(html: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Load ``html`` from a temporary file with ``args`` added; the result holds stdout/stderr."""
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "report.html"
        page.write_text(html, encoding="utf-8")
        command = [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={Path(scratch) / 'profile'}",
            *args,
            page.as_uri(),
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
