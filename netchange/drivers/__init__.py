"""Device drivers: NAPALM's ``NetworkDriver`` contract, extended by netchange's own platforms.

A lazy face (why: :mod:`netchange._face`): importing :mod:`netchange.drivers.diffformat`, which
the classifier reads diffs with, must not validate every platform profile first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netchange._face import lazy_names
from netchange.drivers import _napalm_package

# Before any driver imports ``napalm.base``: NAPALM's package body (every bundled driver) runs
# when a NAPALM driver is first looked up, not for the base class (why: the module's docstring).
_napalm_package.defer()

if TYPE_CHECKING:
    from netchange.drivers.contract import DRIVERS as DRIVERS
    from netchange.drivers.contract import DriverProtocol as DriverProtocol
    from netchange.drivers.contract import driver_class as driver_class
    from netchange.drivers.contract import known_platforms as known_platforms

_WHERE = {
    "DRIVERS": "contract",
    "DriverProtocol": "contract",
    "driver_class": "contract",
    "known_platforms": "contract",
}

__all__ = ["DRIVERS", "DriverProtocol", "driver_class", "known_platforms"]
__getattr__, __dir__ = lazy_names(__name__, _WHERE)
