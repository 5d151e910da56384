"""`stormwatch detect` (being written)."""

import typer


def detect() -> None:
    """Not available yet."""
    raise typer.Exit(2)


canary_app = typer.Typer(help="Register canary credentials whose any use is an alert.")
