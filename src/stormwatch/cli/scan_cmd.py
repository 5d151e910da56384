"""`stormwatch scan` (being written)."""

import typer


def scan() -> None:
    """Not available yet."""
    raise typer.Exit(2)
