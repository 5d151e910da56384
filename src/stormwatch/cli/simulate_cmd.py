"""`stormwatch simulate` (being written)."""

import typer


def simulate() -> None:
    """Not available yet."""
    raise typer.Exit(2)
