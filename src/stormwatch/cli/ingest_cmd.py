"""`stormwatch ingest` (being written)."""

import typer


def ingest() -> None:
    """Not available yet."""
    raise typer.Exit(2)
