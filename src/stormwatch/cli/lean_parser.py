"""A lean path for plain invocations of a command: argparse instead of Typer's parser.

Typer (0.29) coerces every parameter through a pydantic ``TypeAdapter``, and importing Typer
and pydantic costs more than a whole scan of a small repository. A pre-commit hook runs
``stormwatch scan`` on every commit, so its start-up matters. This module reads the command's
declarations (``Annotated[..., Option(...)]``, see ``params``) and parses the command line with
the standard library; Typer is not imported.

It accepts only the plain cases: values, flags, ``--opt=value``, options between arguments. For
anything else (``--help``, a bad value, an unknown option) it answers None and Typer runs as
usual, with its own help and error messages. ``tests/cli`` checks that both parsers agree.
"""

from __future__ import annotations

import argparse
import inspect
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import NoneType, UnionType
from typing import Any

from stormwatch.cli.params import Argument, Declaration, Option, declarations


class _Unsupported(Exception):
    """The command line (or a declaration) is not a plain case: leave it to Typer."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        raise _Unsupported(message)


@dataclass(frozen=True)
class _Param:
    """One declared parameter: its name, base type, declaration and default."""

    name: str
    kind: type
    info: Declaration
    default: Any


def _base_type(annotation: Any) -> type:
    """``X`` of ``X``, ``X | None`` and ``list[X] | None``; only str, Path, bool and enums."""
    args = typing.get_args(annotation)
    if isinstance(annotation, UnionType) or typing.get_origin(annotation) is typing.Union:
        args = tuple(a for a in args if a is not NoneType)
        if len(args) != 1:
            raise _Unsupported(f"union {annotation}")
        return _base_type(args[0])
    if typing.get_origin(annotation) is list:
        return _base_type(args[0])
    enum = isinstance(annotation, type) and issubclass(annotation, Enum)
    if annotation in (str, Path, bool) or enum:
        return typing.cast(type, annotation)
    raise _Unsupported(f"type {annotation}")


def _params(command: Callable[..., object]) -> list[_Param]:
    defaults = inspect.signature(command).parameters
    try:
        declared = declarations(command)
    except TypeError as exc:
        raise _Unsupported(str(exc)) from exc
    return [
        _Param(name, _base_type(annotation), info, defaults[name].default)
        for name, (annotation, info) in declared.items()
    ]


def _option_names(param: _Param) -> tuple[list[str], list[str]]:
    """Typer's names for an option: the declared ones (``--on/--off`` split in two), else
    ``--the-name``, with ``--no-the-name`` for a flag."""
    declared = list(param.info.names) if isinstance(param.info, Option) else []
    if not declared:
        long = "--" + param.name.replace("_", "-")
        return [long], ([f"--no-{long[2:]}"] if param.kind is bool else [])
    on = [d.split("/")[0].strip() for d in declared]
    off = [d.split("/")[1].strip() for d in declared if "/" in d]
    return on, off


def _add(parser: argparse.ArgumentParser, param: _Param) -> None:
    kind = param.kind
    convert: Callable[[str], Any] = kind
    if isinstance(param.info, Argument):
        parser.add_argument(param.name, nargs="*", type=convert, default=param.default)
        return
    on, off = _option_names(param)
    if kind is bool:
        parser.add_argument(*on, dest=param.name, action="store_true", default=param.default)
        if off:
            parser.add_argument(*off, dest=param.name, action="store_false")
        return
    choices = list(kind) if issubclass(kind, Enum) else None
    parser.add_argument(*on, dest=param.name, type=convert, choices=choices, default=param.default)


def lean_arguments(command: Callable[..., object], argv: Sequence[str]) -> dict[str, Any] | None:
    """The keyword arguments Typer would call ``command`` with for ``argv``; None when the
    command line is not a plain case (Typer must then parse it)."""
    if "--" in argv:  # argparse does not intermix arguments after it as Click does
        return None
    parser = _Parser(add_help=False, allow_abbrev=False, prefix_chars="-")
    try:
        params = _params(command)
        for param in params:
            _add(parser, param)
        parsed = vars(parser.parse_intermixed_args(list(argv)))
    except (_Unsupported, ValueError, TypeError):
        return None
    for param in params:
        if isinstance(param.info, Argument) and parsed[param.name] == []:
            parsed[param.name] = param.default  # Typer passes the default for no arguments
    return parsed
