"""Device drivers: NAPALM's ``NetworkDriver`` contract, extended by netchange's own platforms."""

from netchange.drivers.base import DRIVERS, DriverProtocol, driver_class, known_platforms, syntax_of

__all__ = ["DRIVERS", "DriverProtocol", "driver_class", "known_platforms", "syntax_of"]
