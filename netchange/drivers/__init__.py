"""Device drivers: NAPALM's ``NetworkDriver`` contract, extended by netchange's own platforms."""

from netchange.drivers.contract import DRIVERS, DriverProtocol, driver_class, known_platforms

__all__ = ["DRIVERS", "DriverProtocol", "driver_class", "known_platforms"]
