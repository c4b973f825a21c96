"""``python -m netchange``: the same as the ``netchange`` command."""

from netchange.cli.main import entry

entry()
