"""The time the guard judges against.

Normally the wall clock. A lab/development policy (``identity.allow_override: true``) also honours
``NETCHANGE_NOW`` (ISO 8601 with an offset; resolved by :class:`netchange.config._settings.Settings`, passed
here as ``simulated``), so that the demo and the tests can show a weekday
19:30 change on any day; a production policy ignores it and says so. The journal always records
real timestamps.
"""

from __future__ import annotations

import datetime as dt

from netchange.errors import BadRequest
from netchange.policy._model import Policy

ENV_VAR = "NETCHANGE_NOW"


def now(policy: Policy, simulated: str | None = None) -> dt.datetime:
    """The wall clock, or ``simulated`` (the invocation's ``NETCHANGE_NOW``) where the policy allows it."""
    value = (simulated or "").strip()
    if not value:
        return dt.datetime.now(dt.UTC)
    if not policy.identity.allow_override:
        raise BadRequest(f"{ENV_VAR} is set but policy {policy.version} does not allow a simulated clock")
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{ENV_VAR}={value!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise BadRequest(f"{ENV_VAR} must carry a UTC offset, e.g. 2026-12-01T19:15:00+01:00")
    return when
