"""What the user asked to scan, and the one piece of the scan that starts before the rest.

This module stays light (no scanner, no rules) so that a command can make its request and
start the directory walk (``early_walk``) before it imports the scanner: the walk then runs on
a core that start-up leaves idle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stormwatch.secrets.sources.walker import WalkProcess
from stormwatch.secrets.workers import worker_count

STDIN = "-"


class ScanPathError(ValueError):
    """A path named on the command line does not exist: a typo must not pass as a clean scan."""


@dataclass(frozen=True)
class ScanRequest:
    """What the user asked to scan and how."""

    paths: tuple[str, ...] = (".",)
    staged: bool = False
    history: bool = False
    config: Path | None = None
    baseline: Path | None = None
    engine: str = "auto"

    @property
    def of_paths(self) -> bool:
        """True for a scan of files and directories (not staged changes, history or stdin)."""
        return not (self.staged or self.history or STDIN in self.paths)


def early_walk(request: ScanRequest) -> WalkProcess | None:
    """The walk of the request's paths, started now in a process of its own; None where the
    scan will not run on workers (it then walks as it goes)."""
    if not request.of_paths or not worker_count(None):
        return None
    return WalkProcess([Path(p) for p in request.paths])
