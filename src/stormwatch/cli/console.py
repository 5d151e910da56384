"""Shared console plumbing for the commands: error messages, progress, output streams."""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # Rich loads on first use: a quiet scan to a file never prints
    from rich.console import Console
    from rich.progress import Progress

EXIT_OK, EXIT_FOUND, EXIT_ERROR, EXIT_PARTIAL = 0, 1, 2, 3


class ErrorConsole:
    """Standard error as a Rich console, made on first use: a quiet scan that writes its report
    to a file prints nothing, and importing Rich is a sixth of its start-up."""

    @functools.cached_property
    def console(self) -> Console:
        from rich.console import Console

        return Console(stderr=True)

    def print(self, *objects: object, **options: object) -> None:
        """``Console.print`` on standard error."""
        self.console.print(*objects, **options)  # type: ignore[arg-type]

    @property
    def is_terminal(self) -> bool:
        return self.console.is_terminal


err = ErrorConsole()


def fail(message: str) -> SystemExit:
    """Print a one-line error and return the exit for a usage or fatal error (a plain
    ``SystemExit``: Typer lets it through, and the lean scan path does not import Typer)."""
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)  # paths may hold [...]
    return SystemExit(EXIT_ERROR)


def progress_bar(quiet: bool, total: int | None = None) -> Progress:
    """A Rich progress display on a TTY; disabled when quiet or not a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn() if total else TextColumn(""),
        MofNCompleteColumn() if total else TextColumn("{task.completed:,} done"),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=err.console,
        transient=True,
        disable=quiet or not err.is_terminal,
    )


@contextmanager
def output_stream(path: Path | None) -> Iterator[TextIO]:
    """The file to write a report to (opened by :func:`open_output`), or stdout."""
    stream = open_output(path)
    if stream is None:
        yield sys.stdout
        return
    try:
        with stream:
            yield stream
    except OSError as exc:
        raise _cannot_write(path, exc) from exc


def open_output(path: Path | None) -> TextIO | None:
    """``path`` opened for writing before a long run, so that a bad path fails at once (exit
    2) rather than after the work; ``None`` for none."""
    if path is None:
        return None
    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise _cannot_write(path, exc) from exc


def _cannot_write(path: Path | None, exc: OSError) -> SystemExit:
    return fail(f"cannot write {path}: {exc.strerror or exc}")
