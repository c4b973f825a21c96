"""A driver over a stored configuration: the plan pipeline, offline, with no session to any device.

``netchange plan --offline`` gives each target host this driver (registered as ``stored_config``)
in place of its own: the host's platform stays what the inventory says (the classifier, the
templates and the plan read it), only the connection changes. The driver holds the host's
running configuration as a backup tool stored it (:mod:`netchange.plan._backups`) and computes the
diff and the rollback with **the live driver's own code** for the host's configuration syntax,
fed from the stored text instead of a session:

=========================  ============================================================================
syntax                     engine (what computes the diff)
=========================  ============================================================================
``ios``, ``asa`` (CLI)     :class:`netchange.drivers.ios_cli.CliDriver` over a session that answers
                           ``show running-config`` from the file (banner and header lines stripped
                           by the profile's ``header_patterns``, as on the device); hier_config
                           predicts the result, as live. A NAPALM platform of that syntax
                           (``ios``, ``eos``, ``nxos``) is diffed with the CLI profile of the same
                           syntax (``ios_cli``): NAPALM's ``ios`` asks the device for its diff.
``haproxy``                :class:`netchange.drivers.haproxy.HaproxyDriver`'s own state model over
                           the stored managed state or ``haproxy.cfg``; ``haproxy -c`` checks the
                           rewritten file when the stored text is a whole configuration and
                           HAProxy is installed here.
``nftables``               :class:`netchange.drivers.nftables.NftablesDriver`: its prediction is the
                           kernel's own (load the stored ruleset and the candidate in a throw-away
                           network namespace), run here instead of on the firewall — so it needs
                           ``nft`` and ``unshare`` on this machine (root or unprivileged user
                           namespaces). Where it cannot run, the diff says "prediction unavailable"
                           and shows the script as added lines (classified major), as live.
=========================  ============================================================================

Not offline: ``bind`` (its state is the zone as AXFR gives it and its changes are DNS UPDATE
messages; a zone file backup is not that listing, and records such as the SOA move), ``netconf``
(the diff is the device's own, computed by its candidate datastore after ``edit-config``: there is
no local model of the device's validation). They are refused with one line, not planned wrongly.

The driver never commits: ``commit_config``, ``rollback`` and ``confirm_commit`` raise
:class:`OfflineRefused`. Anything that needs the live device (``cli`` show commands) raises
:class:`NotRunOffline`; a pre-check declares that need through
:meth:`netchange.changetype._contract.Context.device_check` and is then reported "not run offline".
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from functools import cache
from typing import Any

from netchange.drivers.base import DriverOptions, NetchangeDriver
from netchange.drivers.errors import CommitRefused
from netchange.errors import BadRequest, DriverError
from netchange.platforms import PLATFORMS, PlatformProfile, syntax_of

DRIVER_NAME = "stored_config"
OFFLINE_SYNTAXES = ("ios", "asa", "haproxy", "nftables")


class NotRunOffline(DriverError):
    """What was asked needs the live device (a show command); an offline plan cannot answer it."""


class OfflineRefused(CommitRefused):
    """An offline driver was asked to change a device: it has none."""


class StoredOptions(DriverOptions):
    """``optional_args`` of the stored-config driver (set by :mod:`netchange.plan._offline`)."""

    config: str
    """The host's stored running configuration, as the backup tool wrote it."""
    source: str = ""
    """Where it was read (for messages)."""
    platform: str
    """The host's own platform: chooses the engine (see the module)."""
    syntax: str | None = None
    """The host's ``syntax`` attribute, when the inventory sets one."""


# -- IOS-style CLI ---------------------------------------------------------------------------


class StoredSession:
    """A netmiko-like session that answers ``show running-config`` from a stored text, and nothing else."""

    def __init__(self, text: str, show_running: str, name: str) -> None:
        self.text = text
        self.show_running = show_running
        self.name = name

    def send_command(self, command: str, **_: Any) -> str:
        if command.strip() == self.show_running:
            return self.text
        raise NotRunOffline(f"{self.name}: {command!r} needs the live device (offline plan)")

    def send_config_set(self, *_: Any, **__: Any) -> str:
        raise OfflineRefused(f"{self.name}: an offline plan never sends configuration")

    def is_alive(self) -> bool:
        return True

    def check_config_mode(self) -> bool:
        return False

    def exit_config_mode(self) -> None:
        return None

    def disconnect(self) -> None:
        return None


def cli_profile(platform: str, syntax: str) -> PlatformProfile | None:
    """The CLI profile whose hier_config rules diff ``platform``: its own, else one of the same syntax."""
    own = PLATFORMS.find(platform)
    if own is not None and own.cli is not None and own.hier_config is not None:
        return own
    for name in PLATFORMS.names():
        profile = PLATFORMS.find(name)
        if profile is not None and profile.syntax == syntax and profile.cli is not None and profile.hier_config:
            return profile
    return None


@cache
def _cli_class(profile: PlatformProfile) -> type[Any]:
    from netchange.drivers.ios_cli import CliDriver

    return type(f"Stored{profile.name.title().replace('_', '')}Driver", (CliDriver,), {"platform": profile})


def _cli_engine(profile: PlatformProfile, text: str, name: str) -> NetchangeDriver:
    assert profile.cli is not None
    driver: NetchangeDriver = _cli_class(profile)(hostname=name, username="", password="",
                                                  optional_args={"running_reuse_seconds": 3600.0})
    driver.device = StoredSession(text, profile.cli.show_running, name)
    return driver


# -- HAProxy -----------------------------------------------------------------------------------


def haproxy_state_text(text: str) -> str:
    """The managed state (what the live driver's ``get_config`` returns) of a stored text.

    The stored text is that state already (a backup made with netchange), or ``haproxy.cfg``: then
    each backend's servers are its file's ``server`` lines (address, ``weight``; ``disabled`` is
    maintenance), which is what the runtime holds after the file is loaded.
    """
    from netchange.drivers.haproxy import Server, _managed_sections, parse_server, parse_state, render_state

    try:
        return render_state(parse_state(text))
    except ValueError:
        pass
    state = parse_state(_managed_sections(text))
    section = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0]
        words = line.split()
        if not words:
            continue
        if not raw[:1].isspace():
            section = state.get(" ".join(words[:2]))
        elif words[0] == "server" and section is not None and len(words) >= 3:
            weight = words[words.index("weight") + 1] if "weight" in words[:-1] else "1"
            srv: Server = parse_server(["server", words[1], words[2], "weight", weight], None)
            if "disabled" in words:
                srv = Server(srv.name, srv.address, srv.port, srv.weight, "maint")
            section.servers[srv.name] = srv
    return render_state(state)


def _haproxy_engine(text: str, name: str) -> NetchangeDriver:
    from netchange.drivers.haproxy import HaproxyDriver, parse_state, rewrite_config

    state_text = haproxy_state_text(text)
    whole_file = "global" in {ln.split()[0] for ln in text.splitlines() if ln.strip() and not ln[:1].isspace()}

    class StoredHaproxyDriver(HaproxyDriver):
        def _running(self) -> Any:
            return parse_state(state_text)

        def _command(self, command: str) -> str:
            raise NotRunOffline(f"{name}: {command!r} needs the live load balancer (offline plan)")

        def _check_file(self, desired: Any) -> str:
            """``haproxy -c`` on the stored file rewritten, when it is a whole file and HAProxy is here."""
            binary = shutil.which(self.haproxy_bin)
            if not whole_file or binary is None:
                return ""
            rewritten = rewrite_config(text, desired)
            with tempfile.NamedTemporaryFile("w", suffix=".cfg") as tmp:
                tmp.write(rewritten)
                tmp.flush()
                proc = subprocess.run([binary, "-c", "-q", "-f", tmp.name], capture_output=True, text=True,
                                      timeout=30, check=False)
            if proc.returncode != 0:
                detail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
                raise ValueError(f"haproxy -c refused the configuration: {detail}")
            return rewritten

    return StoredHaproxyDriver(hostname=name, username="", password="", optional_args={"config_path": "/nonexistent"})


# -- nftables ----------------------------------------------------------------------------------


def _unshare() -> list[str] | None:
    """How to enter a throw-away network namespace here: as root, or in a user namespace."""
    binary = shutil.which("unshare")
    if binary is None:
        return None
    return [binary, "--net"] if os.geteuid() == 0 else [binary, "--user", "--map-root-user", "--net"]


def _local(argv: list[str], stdin: str) -> tuple[int, str, str]:
    prefix = _unshare()
    if prefix is None or shutil.which("nft") is None:
        return 1, "", "the kernel's prediction needs nft and unshare on this machine"
    try:
        proc = subprocess.run([*prefix, "--", *argv], input=stdin, capture_output=True, text=True,
                              timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr


def _nftables_engine(text: str, name: str) -> NetchangeDriver:
    from netchange.drivers.nftables import NftablesDriver

    class StoredNftablesDriver(NftablesDriver):
        """The live driver's commands, run on this machine in a network namespace of its own."""

        def _exec(self, command: str, stdin: str | None = None) -> tuple[int, str, str]:
            nft = self.nft
            if command == f"{nft} list ruleset":
                return 0, text, ""
            if command == f"{nft} -c -f -":
                # Checked against the stored ruleset, loaded first in an empty namespace.
                return _local([nft, "-c", "-f", "-"], "flush ruleset\n" + text + "\n" + (stdin or ""))
            words = shlex.split(command)
            if words[:5] == ["unshare", "--net", "--", "sh", "-c"] and len(words) == 6:
                # The prediction: the live driver's own script (built from its nft path, never from
                # the request), run here.
                return _local(["sh", "-c", words[5]], stdin or "")
            raise NotRunOffline(f"{name}: {command!r} needs the live firewall (offline plan)")

    driver: NetchangeDriver = StoredNftablesDriver(hostname=name, username="", password="")
    return driver


# -- the driver ------------------------------------------------------------------------------


def engine_for(platform: str, syntax: str, text: str, name: str) -> NetchangeDriver:
    """The live driver's code for ``syntax``, fed from ``text``; refused for syntaxes it cannot serve."""
    if syntax in ("ios", "asa"):
        profile = cli_profile(platform, syntax)
        if profile is not None:
            return _cli_engine(profile, text, name)
    if syntax == "haproxy":
        try:
            return _haproxy_engine(text, name)
        except ValueError as exc:
            raise BadRequest(f"{name}: stored HAProxy configuration not understood: {exc}") from None
    if syntax == "nftables":
        return _nftables_engine(text, name)
    raise BadRequest(f"{name}: no offline plan for platform {platform!r} (syntax {syntax!r}): offline plans "
                     f"compute the diff from the configuration text, for {', '.join(OFFLINE_SYNTAXES)}")


class StoredConfigDriver(NetchangeDriver):
    """NAPALM's contract over a stored configuration: reads and diffs, never a session, never a commit."""

    Options = StoredOptions
    offline = True

    def __init__(self, hostname: str, username: str, password: str, timeout: int = 60,
                 optional_args: dict[str, Any] | None = None) -> None:
        super().__init__(hostname, username, password, timeout, optional_args)
        options: StoredOptions = self.options
        self.source = options.source
        self.engine = engine_for(options.platform, syntax_of(options.platform, options.syntax),
                                 options.config, hostname)

    def open(self) -> None:
        """Nothing to open: the configuration is on this machine."""

    def close(self) -> None:
        return None

    def is_alive(self) -> dict[str, bool]:
        return {"is_alive": True}

    def running_config(self) -> str:
        return str(self.engine.get_config(retrieve="running")["running"])

    def candidate_config(self) -> str | None:
        return self.engine.candidate_config()

    def normalize_config(self, text: str) -> str:
        return self.engine.normalize_config(text)

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        raise NotRunOffline(f"{self.hostname}: {', '.join(map(repr, commands))} needs the live device (offline plan)")

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        self.engine.load_merge_candidate(filename=filename, config=config)

    def load_replace_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        self.engine.load_replace_candidate(filename=filename, config=config)

    def compare_config(self) -> str:
        return str(self.engine.compare_config())

    def rollback_preview(self) -> str | None:
        return self.engine.rollback_preview()

    def discard_config(self) -> None:
        self.engine.discard_config()

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        raise OfflineRefused(f"{self.hostname}: a stored configuration is never committed (offline plan)")

    def confirm_commit(self) -> None:
        raise OfflineRefused(f"{self.hostname}: nothing to confirm (offline plan)")

    def has_pending_commit(self) -> bool:
        return False

    def rollback(self) -> None:
        raise OfflineRefused(f"{self.hostname}: nothing to roll back (offline plan)")


__all__ = [
    "DRIVER_NAME",
    "OFFLINE_SYNTAXES",
    "NotRunOffline",
    "OfflineRefused",
    "StoredConfigDriver",
    "StoredOptions",
    "StoredSession",
    "cli_profile",
    "engine_for",
    "haproxy_state_text",
]
