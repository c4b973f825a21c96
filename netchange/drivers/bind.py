"""BIND (any RFC 2136 primary) through the DNS protocol: AXFR to read, signed UPDATE to change.

Why the protocol rather than zone files: the server stays the owner of its zones (serial, journal,
notifies), and every change is one atomic, TSIG-signed UPDATE per zone whose prerequisites say
"the records are still what the plan saw" (RFC 2136 §2.4), so a zone that drifted after the plan
is refused by the server itself.

Optional args: ``zones`` (list, or ``zone`` for one), ``tsig_name``, ``tsig_secret`` (base64),
``tsig_algorithm`` (default ``hmac-sha256``), ``port`` (53), ``default_ttl`` (300).

**Running state** (``get_config()["running"]``): every record of the zones, one per line, absolute
names, sorted, SOA left out (its serial moves with every update)::

    www.doif.lab.example. 300 IN A 192.0.2.10

**Merge candidate**: one action per line; names are absolute (ending in ``.``) or relative to the
first zone; ``;`` or ``#`` starts a comment::

    add NAME [TTL] [IN] TYPE DATA        (TTL defaults to the existing record set's, else default_ttl)
    delete NAME [TTL] [IN] TYPE [DATA]   (without DATA: every record of that type at NAME)

Types A, AAAA, CNAME, PTR, TXT, MX and SRV; SOA and NS are the zone's own business and refused.

**Replace candidate**: a running-state text (a snapshot); the zones end up holding exactly it.

There is no server-side dry run, so a candidate is validated locally: dnspython parses every
record, CNAME exclusivity is checked, and ``named-checkzone`` (when installed) checks a local copy
of each changed zone. After a commit the zones are read back: BIND answers NOERROR to some
updates it ignores (a CNAME beside other data), and that must not pass for success.
"""

from __future__ import annotations

import binascii
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update
import dns.xfr
import dns.zone
from pydantic import Field

from netchange.drivers.base import DriverOptions, NetchangeDriver, NoCommitConfirm
from netchange.drivers.diffformat import set_diff
from netchange.drivers.errors import CommandRefused, CommitRefused, MergeRejected, OpenFailed, ReplaceRejected

MANAGED_TYPES = frozenset({"A", "AAAA", "CNAME", "PTR", "TXT", "MX", "SRV"})
ZONE_TYPES = frozenset({"SOA", "NS"})


@dataclass(frozen=True, order=True)
class Record:
    """One resource record; ``data`` is dnspython's canonical text with absolute names."""

    name: str
    rdtype: str
    data: str
    ttl: int

    def line(self) -> str:
        return f"{self.name} {self.ttl} IN {self.rdtype} {self.data}"

    @property
    def rrset(self) -> tuple[str, str]:
        return (self.name, self.rdtype)


Records = frozenset[Record]


def render_records(records: Iterable[Record]) -> str:
    """The running-state text: one line per record, sorted by name, type, data."""
    lines = [r.line() for r in sorted(records, key=lambda r: (r.name, r.rdtype, r.data, r.ttl))]
    return "\n".join(lines) + "\n" if lines else ""


def diff_records(old: Records, new: Records) -> str:
    """``-`` lines for records that go, ``+`` for those that come (a TTL change shows as both)."""
    return set_diff(render_records(old - new).splitlines(), render_records(new - old).splitlines())


def _name(text: str, origin: dns.name.Name) -> dns.name.Name:
    try:
        return dns.name.from_text(text, origin=origin)
    except dns.exception.DNSException as exc:
        raise ValueError(f"{text!r} is not a DNS name: {exc}") from None


def parse_record_tokens(tokens: list[str], origin: dns.name.Name, default_ttl: int | None) -> Record:
    """``NAME [TTL] [IN] TYPE [DATA…]`` → record (``data`` empty when not given)."""
    if len(tokens) < 2:
        raise ValueError(f"expected NAME [TTL] [IN] TYPE DATA, got {' '.join(tokens)!r}")
    name = _name(tokens[0], origin)
    rest = tokens[1:]
    ttl = default_ttl
    if rest and rest[0].isdigit():
        ttl = int(rest.pop(0))
        if not 0 <= ttl <= 2147483647:
            raise ValueError(f"TTL {ttl} out of range")
    if rest and rest[0].upper() == "IN":
        rest.pop(0)
    if not rest:
        raise ValueError(f"{' '.join(tokens)!r}: missing record type")
    rdtype = rest.pop(0).upper()
    try:
        dns.rdatatype.from_text(rdtype)
    except dns.exception.DNSException:
        raise ValueError(f"{rdtype!r} is not a record type") from None
    data = ""
    if rest:
        try:
            rdata = dns.rdata.from_text(
                dns.rdataclass.IN, rdtype, " ".join(rest), origin=origin, relativize=False
            )
        except (dns.exception.DNSException, ValueError) as exc:
            raise ValueError(f"{' '.join(tokens)!r}: bad {rdtype} data: {exc}") from None
        data = rdata.to_text()
    return Record(name.to_text(), rdtype, data, ttl if ttl is not None else -1)


def parse_records(text: str, origin: dns.name.Name) -> Records:
    """A running-state text (a snapshot) back into records; SOA lines are ignored."""
    out = set()
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        record = parse_record_tokens(line.split(), origin, None)
        if record.ttl < 0 or not record.data:
            raise ValueError(f"{line!r}: a snapshot line needs NAME TTL IN TYPE DATA")
        if record.rdtype != "SOA":
            out.add(record)
    return frozenset(out)


def merge_records(running: Records, candidate: str, origin: dns.name.Name, default_ttl: int) -> Records:
    """The records after the ``add``/``delete`` actions of ``candidate`` (see the module docstring)."""
    records = set(running)
    for raw in candidate.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        action, _, rest = line.partition(" ")
        action = action.lower()
        if action not in ("add", "delete"):
            raise ValueError(f"{line!r}: a line starts with 'add' or 'delete'")
        record = parse_record_tokens(rest.split(), origin, None)
        if record.rdtype not in MANAGED_TYPES:
            raise ValueError(f"{line!r}: {record.rdtype} records are not changed by netchange")
        same_set = {r for r in records if r.rrset == record.rrset}
        if action == "delete":
            doomed = {r for r in same_set if not record.data or r.data == record.data}
            if not doomed:
                raise ValueError(f"{line!r}: no such record to delete")
            records -= doomed
            continue
        if not record.data:
            raise ValueError(f"{line!r}: add needs DATA")
        ttl = record.ttl
        if ttl < 0:
            ttl = next(iter(same_set)).ttl if same_set else default_ttl
        # A record set shares one TTL: adding with another TTL moves the whole set, as DNS does.
        records -= same_set
        records |= {Record(r.name, r.rdtype, r.data, ttl) for r in same_set}
        records.add(Record(record.name, record.rdtype, record.data, ttl))
    return frozenset(records)


def check_records(records: Records, zones: list[dns.name.Name]) -> None:
    """Local validation that the server cannot do for us without changing the zone."""
    by_name: dict[str, set[str]] = {}
    for record in records:
        by_name.setdefault(record.name, set()).add(record.rdtype)
        name = dns.name.from_text(record.name)
        if not any(name.is_subdomain(zone) for zone in zones):
            raise ValueError(f"{record.name} is outside the zones {', '.join(z.to_text() for z in zones)}")
        if record.rdtype == "CNAME" and name in zones:
            raise ValueError(f"{record.name}: a zone apex cannot be a CNAME")
    for owner, types in by_name.items():
        if "CNAME" in types and types - {"CNAME", "RRSIG", "NSEC"}:
            raise ValueError(f"{owner}: a CNAME cannot coexist with {', '.join(sorted(types - {'CNAME'}))}")
    cnames = [r for r in records if r.rdtype == "CNAME"]
    if len({r.name for r in cnames}) != len(cnames):
        raise ValueError("a name can hold only one CNAME")


def zone_of(name: str, zones: list[dns.name.Name]) -> dns.name.Name:
    """The most specific of ``zones`` that contains ``name``."""
    dname = dns.name.from_text(name)
    best = [z for z in zones if dname.is_subdomain(z)]
    if not best:
        raise ValueError(f"{name} is outside the managed zones")
    return max(best, key=lambda z: len(z.labels))


class BindOptions(DriverOptions):
    """``optional_args`` of the BIND driver (the TSIG key comes from the secrets file)."""

    zones: tuple[str, ...] | str = ()
    """The zones this server is primary for (a list, or names separated by commas)."""
    zone: str | None = None
    """One zone (instead of ``zones``)."""
    default_ttl: int = 300
    tsig_name: str = ""
    tsig_secret: str = Field(default="", repr=False)
    tsig_algorithm: str = "hmac-sha256"


class BindDriver(NoCommitConfirm, NetchangeDriver):
    """NAPALM-contract driver for an RFC 2136 primary (BIND 9)."""

    Options = BindOptions
    default_port = 53

    def __init__(
        self,
        hostname: str,
        username: str,
        password: str,
        timeout: int = 60,
        optional_args: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(hostname or "127.0.0.1", username, password, timeout, optional_args)
        options: BindOptions = self.options
        self.timeout = float(min(timeout, 30))  # type: ignore[assignment]
        zones = options.zones or ([options.zone] if options.zone else [])
        if isinstance(zones, str):
            zones = [z.strip() for z in zones.split(",") if z.strip()]
        self.zones = [dns.name.from_text(str(z)) for z in zones]
        self.default_ttl = options.default_ttl
        self.key_name = options.tsig_name
        self._secret = options.tsig_secret
        self.key_algorithm = options.tsig_algorithm or "hmac-sha256"
        self._keyring: dict[dns.name.Name, dns.tsig.Key] | None = None
        self._desired: Records | None = None
        self._base: Records = frozenset()
        """The records the candidate was computed from: the UPDATE's prerequisites."""
        self._pre_commit: Records | None = None

    # --- session -------------------------------------------------------------------------------

    def open(self) -> None:
        if not self.zones:
            raise OpenFailed("bind driver needs optional_args.zones (or zone)")
        if not (self.key_name and self._secret):
            raise OpenFailed("bind driver needs tsig_name and tsig_secret (from the secrets file)")
        try:
            self._keyring = dns.tsigkeyring.from_text({self.key_name: (self.key_algorithm, self._secret)})
        except (binascii.Error, ValueError, dns.exception.DNSException) as exc:
            raise OpenFailed(
                f"TSIG key {self.key_name!r}: the secret is not valid base64 ({exc})"
            ) from None
        self._read()  # proves reachability, the key and the transfer permission at once

    def close(self) -> None:
        self._desired = None

    def is_alive(self) -> dict[str, bool]:
        return {"is_alive": self._keyring is not None}

    def _tsig(self) -> dict[str, Any]:
        if self._keyring is None:
            raise OpenFailed("bind driver is not open")
        return {"keyring": self._keyring, "keyname": self.key_name, "keyalgorithm": self.key_algorithm}

    def _read(self) -> Records:
        records: set[Record] = set()
        for zone in self.zones:
            records |= self._axfr(zone)
        return frozenset(records)

    def _axfr(self, zone: dns.name.Name) -> set[Record]:
        where = f"{self.hostname}:{self.port}"
        try:
            xfr = dns.query.xfr(
                self.hostname, zone, port=self.port, relativize=False, lifetime=self.timeout, **self._tsig()
            )
            parsed = dns.zone.from_xfr(xfr, relativize=False)
        except dns.tsig.PeerError as exc:
            raise OpenFailed(
                f"{where} refused the TSIG key {self.key_name!r} ({type(exc).__name__}): "
                "check tsig_name, tsig_secret and tsig_algorithm"
            ) from None
        except dns.xfr.TransferError as exc:
            raise OpenFailed(f"{where}: zone transfer of {zone} refused ({exc})") from None
        except (dns.exception.DNSException, OSError, EOFError) as exc:
            raise OpenFailed(
                f"{where}: cannot read zone {zone}: {type(exc).__name__}: {exc}"
            ) from None
        out = set()
        for name, ttl, rdata in parsed.iterate_rdatas():
            rdtype = dns.rdatatype.to_text(rdata.rdtype)
            if rdtype != "SOA":
                out.add(Record(name.to_text(), rdtype, rdata.to_text(), int(ttl)))
        return out

    def cli(self, commands: list[str], encoding: str = "text") -> dict[str, str]:
        """``NAME TYPE`` queries answered by this server (read-only), one answer per line."""
        out = {}
        for command in commands:
            parts = command.split()
            if len(parts) != 2:
                raise CommandRefused(f"bind: cli() takes 'NAME TYPE' queries, not {command!r}")
            query = dns.message.make_query(parts[0], parts[1])
            try:
                answer = dns.query.udp(query, self.hostname, port=self.port, timeout=self.timeout)
            except (dns.exception.DNSException, OSError) as exc:
                raise OpenFailed(f"query {command!r}: {exc}") from None
            lines = [dns.rcode.to_text(answer.rcode())] + [rrset.to_text() for rrset in answer.answer]
            out[command] = "\n".join(lines)
        return out

    # --- state and candidate -------------------------------------------------------------------

    def running_config(self) -> str:
        return render_records(self._read())

    def candidate_config(self) -> str | None:
        return render_records(self._desired) if self._desired is not None else None

    def normalize_config(self, text: str) -> str:
        return render_records(parse_records(text, self.zones[0]))

    def load_merge_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        text = _read_text(filename, config)
        base = self._read()
        try:
            desired = merge_records(base, text, self.zones[0], self.default_ttl)
            self._validate(desired)
        except ValueError as exc:
            raise MergeRejected(str(exc)) from None
        self._desired, self._base = desired, base
        self._checked_state = render_records(base)

    def load_replace_candidate(self, filename: str | None = None, config: str | None = None) -> None:
        text = _read_text(filename, config)
        try:
            desired = parse_records(text, self.zones[0])
            running = self._read()
            zone_records = {r for r in desired ^ running if r.rdtype in ZONE_TYPES}
            if zone_records:
                raise ValueError(
                    f"NS records differ from the zone's ({sorted(r.line() for r in zone_records)[0]})"
                )
            self._validate(desired)
        except ValueError as exc:
            raise ReplaceRejected(str(exc)) from None
        self._desired, self._base = desired, running
        self._checked_state = render_records(running)

    def _validate(self, desired: Records) -> None:
        check_records(desired, self.zones)
        if shutil.which("named-checkzone") is None:
            return
        for zone in self.zones:
            mine = [r for r in desired if zone_of(r.name, self.zones) == zone]
            _named_checkzone(zone, mine)

    def compare_config(self) -> str:
        if self._desired is None:
            return ""
        running = self._read()
        self._checked_state = render_records(running)
        return diff_records(running, self._desired)

    def rollback_preview(self) -> str:
        """``add``/``delete`` lines that undo the loaded candidate."""
        if self._desired is None:
            return ""
        running = self._read()
        lines = [f"delete {r.line()}" for r in sorted(self._desired - running)]
        lines += [f"add {r.line()}" for r in sorted(running - self._desired)]
        return "\n".join(lines) + "\n" if lines else ""

    def discard_config(self) -> None:
        self._desired = None

    # --- commit --------------------------------------------------------------------------------

    def commit_config(self, message: str = "", revert_in: int | None = None) -> None:
        if revert_in is not None:
            raise NotImplementedError("DNS UPDATE has no confirmed commit; roll back with rollback()")
        if self._desired is None:
            raise CommitRefused("no candidate loaded")
        # Another hand: read again last, refused unless the zones are still as checked and as
        # the candidate was computed from. Then prerequisites from those records: if a touched
        # record set moved since (another change, a manual edit), the server refuses the whole
        # update, atomically (DNS UPDATE's own compare-and-swap: no window for those sets).
        self._reread_and_compare("commit", base=render_records(self._base))
        self._writing()
        self._update(self._base, self._desired)
        self._pre_commit = self._base
        self._desired = None
        self._read_running()  # the state this commit left: what a rollback is checked against

    def rollback(self) -> None:
        """The inverse update: back to the records read just before the last commit."""
        if self._pre_commit is None:
            raise CommitRefused("nothing to roll back: no commit in this session")
        running = parse_records(self._reread_and_compare("rollback"), self.zones[0])
        self._writing()
        self._update(running, self._pre_commit)
        self._pre_commit = None



    def _update(self, running: Records, desired: Records) -> None:
        """One UPDATE per changed zone: prerequisites = the touched record sets as read, then
        each touched set replaced (or deleted) whole. Then read back and compare."""
        touched = {r.rrset for r in running ^ desired}
        for zone in self.zones:
            sets = sorted(rs for rs in touched if zone_of(rs[0], self.zones) == zone)
            if not sets:
                continue
            update = dns.update.UpdateMessage(zone, **self._tsig())
            for name, rdtype in sets:
                # A value-dependent prerequisite carries TTL 0 (RFC 2136 §2.4.2).
                old = _rdataset(running, name, rdtype, ttl=0)
                new = _rdataset(desired, name, rdtype)
                if old is None:
                    update.absent(name, rdtype)
                else:
                    update.present(name, old)
                if new is None:
                    update.delete(name, rdtype)
                else:
                    update.replace(name, new)
            self._send(update, zone)
        after = self._read()
        if after != desired:
            missing = sorted(r.line() for r in desired - after)[:3]
            extra = sorted(r.line() for r in after - desired)[:3]
            raise CommitRefused(
                f"the server accepted the update but the zone differs: missing {missing}, extra {extra}"
            )

    def _send(self, update: dns.update.UpdateMessage, zone: dns.name.Name) -> None:
        where = f"{self.hostname}:{self.port}"
        try:
            response = dns.query.tcp(update, self.hostname, port=self.port, timeout=self.timeout)
        except dns.tsig.PeerError as exc:
            raise CommitRefused(
                f"{where} refused the TSIG key {self.key_name!r} ({type(exc).__name__})"
            ) from None
        except (dns.exception.DNSException, OSError) as exc:
            raise CommitRefused(f"{where}: update of {zone} failed: {type(exc).__name__}: {exc}") from None
        rcode = response.rcode()
        if rcode in (dns.rcode.NXRRSET, dns.rcode.YXRRSET, dns.rcode.NXDOMAIN, dns.rcode.YXDOMAIN):
            raise CommitRefused(
                f"{zone}: the zone changed since it was read "
                f"(prerequisite failed: {dns.rcode.to_text(rcode)})"
            )
        if rcode != dns.rcode.NOERROR:
            raise CommitRefused(f"{zone}: update refused ({dns.rcode.to_text(rcode)})")


def _rdataset(
    records: Records, name: str, rdtype: str, ttl: int | None = None
) -> dns.rdataset.Rdataset | None:
    mine = [r for r in records if r.rrset == (name, rdtype)]
    if not mine:
        return None
    return dns.rdataset.from_text_list(
        "IN", rdtype, mine[0].ttl if ttl is None else ttl, [r.data for r in mine]
    )


def _named_checkzone(zone: dns.name.Name, records: list[Record]) -> None:
    """Check a local copy of ``zone`` holding ``records`` (a placeholder SOA stands in for the real one)."""
    origin = zone.to_text()
    lines = [f"{origin} 300 IN SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 300"]
    lines += [r.line() for r in sorted(records)]
    with tempfile.TemporaryDirectory(prefix="netchange-zone-") as tmp:
        path = Path(tmp) / "zone"
        path.write_text("\n".join(lines) + "\n")
        proc = subprocess.run(
            ["named-checkzone", "-q", "-i", "local", "-k", "fail", "-n", "fail", origin, str(path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    if proc.returncode != 0:
        detail = " | ".join(line for line in (proc.stdout + proc.stderr).splitlines() if line.strip())
        raise ValueError(f"named-checkzone {origin}: {detail or 'refused'}")


def _read_text(filename: str | None, config: str | None) -> str:
    if config is not None:
        return config
    if filename is None:
        raise MergeRejected("give a filename or a config text")
    return Path(filename).read_text()
