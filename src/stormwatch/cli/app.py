"""The ``stormwatch`` command: a thin Typer app, the only place that prints.

Exit codes (all commands): 0 success and nothing found; 1 findings or alerts; 2 usage or fatal
error; 3 finished, but some input was rejected (counted and reported with its location).

Command modules are imported only for the command that runs: ``stormwatch scan`` must not pay
for the event store's database engine or the detection compiler at start-up. ``app`` (the whole
command tree, for ``--help`` and the tests) is built on first access.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterable, Sequence
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Typer loads only when the lean path cannot run the command (see main)
    import typer

# Command name -> (module under stormwatch.cli, attribute): a function, or a Typer sub-app.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("investigate_cmd", "demo"),
    "scan": ("scan_cmd", "scan"),
    "ingest": ("ingest_cmd", "ingest"),
    "detect": ("detect_cmd", "detect"),
    "investigate": ("investigate_cmd", "investigate"),
    "rules": ("detect_cmd", "rules_list"),
    "simulate": ("simulate_cmd", "simulate"),
    "canary": ("detect_cmd", "canary_app"),
}
# Commands whose plain command lines skip Typer's parser (see ``lean_parser``): the scan runs
# as a pre-commit hook, where start-up is most of the time. Their parameters are declared with
# ``params`` and given to Typer through ``typer_command``.
LEAN = frozenset({"scan"})
HELP = "Protect generative-AI accounts from credential theft and abuse (LLMjacking)."


def _root() -> None:
    """Keeps the command tree a group even when only one command is registered."""


def build_app(names: Iterable[str] = COMMANDS) -> typer.Typer:
    """The Typer app with the named commands (all by default), importing only their modules."""
    import typer

    from stormwatch.cli.params import typer_command

    root = typer.Typer(
        name="stormwatch",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    root.callback()(_root)
    for name in names:
        module, attribute = COMMANDS[name]
        target = getattr(import_module(f"stormwatch.cli.{module}"), attribute)
        if isinstance(target, typer.Typer):
            root.add_typer(target, name=name)
        elif name in LEAN:
            root.command(name)(typer_command(target))
        else:
            root.command(name)(target)
    return root


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point: only the command named on the line is loaded (the whole tree
    for ``--help``, no command or an unknown one, so that Click can list or reject it)."""
    # SIGTERM (a service manager, `kill`) ends a command as Ctrl-C does: `finally` blocks run,
    # so parse workers are stopped and scratch files removed instead of being left behind.
    signal.signal(signal.SIGTERM, _terminated)
    code = run_lean(sys.argv[1:])
    if code is not None:
        _leave(code)
    named = sys.argv[1] if len(sys.argv) > 1 else ""
    build_app([named] if named in COMMANDS else COMMANDS)()


def _terminated(number: int, frame: object) -> None:
    raise SystemExit(128 + number)


def run_lean(argv: Sequence[str]) -> int | None:
    """Run a plain command line of a lean command without Typer; its exit code, or None when
    the line is not one (Typer must then run it)."""
    named = argv[0] if argv else ""
    if named not in LEAN:
        return None
    from stormwatch.cli.lean_parser import lean_arguments

    module, attribute = COMMANDS[named]
    command = getattr(import_module(f"stormwatch.cli.{module}"), attribute)
    arguments = lean_arguments(command, argv[1:])
    if arguments is None:
        return None
    try:
        command(**arguments)  # a lean command ends with SystemExit, never typer.Exit
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        raise
    return 0


def _leave(code: int) -> None:
    """Exit at once: the command has closed its files and ended its processes, and tearing
    the interpreter down (every module, every object) took a tenth of a small scan."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        code = code or 120  # what Python answers when it cannot flush at exit
    os._exit(code)
