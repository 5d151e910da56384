"""Typer-free parameter declarations for the commands that start fast.

Importing Typer costs a fifth of a scan of a small repository, and ``stormwatch scan`` runs as a
pre-commit hook. A lean command declares its parameters with ``Option`` and ``Argument`` from
here (``Annotated[bool, Option("--staged", help=...)]``): ``lean_parser`` reads them with the
standard library, and ``typer_command`` turns them into Typer's own declarations for the full
app (help, shell errors), so both parsers read one declaration.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, TypeVar

E = TypeVar("E", bound=Enum)


class Option:
    """An option: its names (``--format``, ``-f``; none: ``--the-name``) and help text."""

    def __init__(self, *names: str, help: str = "") -> None:
        self.names = names
        self.help = help


class Argument:
    """A positional argument and its help text."""

    def __init__(self, *, help: str = "") -> None:
        self.help = help


Declaration = Option | Argument


def declarations(command: Callable[..., object]) -> dict[str, tuple[Any, Declaration]]:
    """Each parameter's annotated type and declaration; TypeError for an undeclared one."""
    found: dict[str, tuple[Any, Declaration]] = {}
    for name, hint in typing.get_type_hints(command, include_extras=True).items():
        if name == "return":
            continue
        annotation, *extras = typing.get_args(hint) or (hint,)
        declared = [e for e in extras if isinstance(e, Option | Argument)]
        if not declared:
            raise TypeError(f"parameter {name} of {command.__name__} has no declaration")
        found[name] = (annotation, declared[0])
    return found


def typer_command(command: Callable[..., object]) -> Callable[..., object]:
    """``command`` with its declarations in Typer's form, ready for ``Typer.command``."""
    import typer

    signature = inspect.signature(command)
    parameters = []
    for name, (annotation, declared) in declarations(command).items():
        is_enum = isinstance(annotation, type) and issubclass(annotation, Enum)
        choices = enum_choices(annotation) if is_enum else {}
        info = (
            typer.Option(*declared.names, help=declared.help, **choices)
            if isinstance(declared, Option)
            else typer.Argument(help=declared.help, **choices)
        )
        hint = Annotated[annotation, info]  # type: ignore[valid-type]
        parameters.append(signature.parameters[name].replace(annotation=hint))

    @functools.wraps(command)
    def typed(**arguments: Any) -> object:
        return command(**arguments)

    typed.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    typed.__annotations__ = {p.name: p.annotation for p in parameters}
    return typed


def enum_choices(kind: type[E]) -> dict[str, Any]:
    """Typer settings that read an option of enum ``kind`` and name its choices on error.

    Typer's own enum check words a bad value as a validation error ("Value error, 'xml' is
    not one of ..."); this parser gives the shell's usual "Invalid value for '--format':
    'xml' is not one of text, json".
    """
    import typer

    names = [str(member.value) for member in kind]

    def parse(value: str | E) -> E:
        if isinstance(value, kind):
            return value
        try:
            return kind(value)
        except ValueError:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(names)}") from None

    return {"parser": parse, "metavar": f"[{'|'.join(names)}]"}
