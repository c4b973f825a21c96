"""Commands: classify (filled in by its issue)."""

from netchange.cli.main import app


@app.command()
def version() -> None:
    """Print netchange's version."""
    from netchange import __version__

    print(__version__)
