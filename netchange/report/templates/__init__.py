"""Jinja2 templates of the reports (a package so that wheels ship them)."""
