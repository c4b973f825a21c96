"""Commands: lab (filled in by its issue)."""

from netchange.cli.main import app  # noqa: F401
