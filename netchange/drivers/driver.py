"""The base class of netchange's own drivers: NAPALM's ``NetworkDriver``, documented and typed.

The lifecycle is NAPALM's, called in this order by plan, apply and restore::

    open()                                  connect; raises OpenFailed (a ConnectionException)
    get_config(retrieve="running")          the running configuration, as the device prints it
    load_merge_candidate(config=…)          hold a candidate merged onto the running config
    | load_replace_candidate(config=…)      … or replacing it (restore of a snapshot);
                                            a refused candidate: MergeRejected / ReplaceRejected
    compare_config() -> str                 the diff in netchange's diff format (classified)
    rollback_preview() -> str | None        the lines that undo the candidate (plan stores them)
    commit_config(revert_in=None)           send it; a line the device refuses raises
                                            MergeRejected / ReplaceRejected (NAPALM's ios does
                                            the same), after undoing the lines already sent
    confirm_commit() | rollback()           keep it / undo the last commit of this session
    discard_config()                        drop the candidate (plan always ends here)
    close()

Each driver declares its options as a model (:attr:`NetchangeDriver.Options`, a subclass of
:class:`DriverOptions`): the inventory's ``optional_args`` are validated into it once, an unknown
or mistyped key is an error naming the key (never its value, which may be a secret).
"""

from __future__ import annotations

from typing import Any, ClassVar

from napalm.base import NetworkDriver
from pydantic import BaseModel, ConfigDict, ValidationError

from netchange.drivers.base import DriverFeatures
from netchange.errors import BadRequest


class DriverOptions(BaseModel):
    """The ``optional_args`` every netchange driver accepts. Keyword-only, frozen, no extras."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    port: int | None = None
    """TCP port; ``None``: the driver's default. Nornir's ``port`` lands here."""
    secret: str = ""
    """An enable secret (the credentials file may give one to every host; unused by most)."""


class DriverOptionsError(BadRequest):
    """The inventory gives a driver an option it does not know, or of the wrong type."""


class NetchangeDriver(DriverFeatures, NetworkDriver):  # type: ignore[misc]  # napalm is untyped
    """NAPALM's contract, the options model, netchange's optional features (see the module)."""

    Options: ClassVar[type[DriverOptions]] = DriverOptions
    default_port: ClassVar[int] = 22

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        self.hostname = hostname
        self.username = username
        self.password = password
        self.timeout = timeout
        self.options = self.parse_options(optional_args)
        self.port = self.options.port or self.default_port

    @classmethod
    def parse_options(cls, optional_args: dict[str, Any] | None) -> Any:
        try:
            return cls.Options.model_validate(dict(optional_args or {}))
        except ValidationError as exc:
            err = exc.errors()[0]  # loc and msg only: the input may be a secret
            where = ".".join(str(p) for p in err["loc"]) or "optional_args"
            raise DriverOptionsError(f"{cls.__name__}: optional_args.{where}: {err['msg']}") from None

    def get_config(self, retrieve: str = "all", full: bool = False, sanitized: bool = False,
                   format: str = "text") -> dict[str, str]:  # NAPALM's signature
        """NAPALM's three datastores, each read only when asked for; absent ones are ``""``.

        A driver says how to read each one (:meth:`running_config`, :meth:`candidate_config`,
        :meth:`startup_config`); the selection by ``retrieve`` is the same for every device.
        """
        wanted = {"running", "candidate", "startup"} if retrieve == "all" else {retrieve}
        return {
            "running": self.running_config() if "running" in wanted else "",
            "candidate": (self.candidate_config() or "") if "candidate" in wanted else "",
            "startup": self.startup_config() if "startup" in wanted else "",
        }

    def running_config(self) -> str:
        """The running configuration, as the device prints it (read now)."""
        raise NotImplementedError

    def candidate_config(self) -> str | None:
        """The loaded candidate in the device's syntax; ``None`` when none is loaded."""
        return None

    def startup_config(self) -> str:
        """The configuration the device starts from, where it keeps one apart; ``""`` otherwise."""
        return ""
