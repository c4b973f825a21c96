"""The ``netchange`` command line (Typer + Rich). One module per group of commands."""
