"""The service's tests on each storage (issue 24 item 1): the same HTTP tests with the home's
journal, sessions and sign-in throttle in SQLite and in the run's PostgreSQL server."""

from __future__ import annotations

import pytest

from tests.pgserver import journal_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str | None:
    """``None`` (SQLite, the home's own file) or a fresh PostgreSQL database's URL for ``make_home``."""
    if request.param == "sqlite":
        return None
    return journal_database(request.getfixturevalue("postgres"))
