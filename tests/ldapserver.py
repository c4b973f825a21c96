"""An OpenLDAP directory for the tests, started once per test run (issue 24 item 6).

Debian's ``slapd`` 2.5 (package ``slapd``, installed by ``make lab-deps``) from a cn=config this
module writes (``slapadd -n0``) in a temporary directory: an mdb database for
``dc=netchange,dc=test`` with a few people and groups, a CA and a server certificate made here
for StartTLS, ``olcSecurity: tls=1`` so that nothing but a TLS session is answered (a client that
skipped StartTLS is refused), and a service account that may read entries and groups, never
passwords. It listens on ``ldap://127.0.0.1:PORT/`` only, runs in the foreground as this run's
child process (no service manager) and is stopped by its PID at the end of the run.

The people are those of the repository's policy (``policy.yaml``) plus one the policy does not
list (``zintrus``); the groups: ``netops`` (engineers), ``ops-doif``/``ops-doso`` (operations
managers of one site each), ``requesters``, ``pm``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from netchange.service.launch import stop

SUFFIX = "dc=netchange,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "admin-of-the-test-directory"
SERVICE_DN = f"cn=netchange,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-account-password"
PASSWORD = "directory password 1"
PEOPLE = ("amoreau", "bleroy", "crenard", "dnguyen", "efaure", "gperrin", "zintrus")
GROUPS = {
    "netops": ("dnguyen", "efaure", "zintrus"),
    "ops-doif": ("amoreau",),
    "ops-doso": ("bleroy",),
    "requesters": ("amoreau", "bleroy", "crenard"),
    "pm": ("gperrin",),
}


def person_dn(login: str) -> str:
    return f"uid={login},ou=people,{SUFFIX}"


def _ssha(password: str) -> str:
    salt = os.urandom(8)
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_ca_and_server(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a certificate for 127.0.0.1/localhost signed by it: (ca.pem, server.pem, server.key)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "netchange test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    paths[2].chmod(0o600)
    return paths


def _config_ldif(d: Path) -> str:
    return f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {d}/slapd.pid
olcTLSCACertificateFile: {d}/ca.pem
olcTLSCertificateFile: {d}/server.pem
olcTLSCertificateKeyFile: {d}/server.key

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file:///etc/ldap/schema/cosine.ldif

include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {SUFFIX}
olcDbDirectory: {d}/data
olcDbMaxSize: 16777216
olcRootDN: {ADMIN_DN}
olcRootPW: {_ssha(ADMIN_PASSWORD)}
olcSecurity: tls=1
olcAccess: {{0}}to attrs=userPassword by anonymous auth by * none
olcAccess: {{1}}to * by dn.exact="{SERVICE_DN}" read by self read by * none
"""


def _data_ldif() -> str:
    entries = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: netchange\no: netchange tests\n",
        f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n",
        f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services\n",
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: netchange\n"
        f"userPassword: {_ssha(SERVICE_PASSWORD)}\n",
    ]
    entries += [person_entry(login) for login in PEOPLE]
    entries += [
        # groupOfNames needs a member: a placeholder, so that a test may take the last person out.
        f"dn: cn={group},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: {group}\nmember: cn=placeholder,{SUFFIX}\n"
        + "".join(f"member: {person_dn(m)}\n" for m in members)
        for group, members in GROUPS.items()
    ]
    return "\n".join(entries)


def person_entry(login: str) -> str:
    return (f"dn: {person_dn(login)}\nobjectClass: inetOrgPerson\nuid: {login}\ncn: {login}\nsn: {login}\n"
            f"userPassword: {_ssha(PASSWORD)}\n")


@dataclass
class LdapServer:
    url: str
    ca_file: Path
    directory: Path
    startup_seconds: float

    def admin(self) -> Any:
        """A connection bound as the directory's administrator (StartTLS), to change people and groups."""
        import ldap

        conn = ldap.initialize(self.url)
        conn.set_option(ldap.OPT_X_TLS_CACERTFILE, str(self.ca_file))
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        conn.start_tls_s()
        conn.simple_bind_s(ADMIN_DN, ADMIN_PASSWORD)
        return conn

    def remove_person(self, login: str) -> None:
        import ldap

        conn = self.admin()
        try:
            with contextlib.suppress(ldap.NO_SUCH_OBJECT):
                conn.delete_s(person_dn(login))
        finally:
            conn.unbind_s()

    def add_person(self, login: str, groups: tuple[str, ...] = ()) -> None:
        """``login`` (back) in the directory, with the test password, in ``groups`` (added to them)."""
        import ldap
        import ldap.modlist

        conn = self.admin()
        try:
            attrs = {"objectClass": [b"inetOrgPerson"], "uid": [login.encode()], "cn": [login.encode()],
                     "sn": [login.encode()], "userPassword": [_ssha(PASSWORD).encode()]}
            with contextlib.suppress(ldap.ALREADY_EXISTS):
                conn.add_s(person_dn(login), ldap.modlist.addModlist(attrs))
            for group in groups:
                with contextlib.suppress(ldap.TYPE_OR_VALUE_EXISTS):
                    conn.modify_s(f"cn={group},ou=groups,{SUFFIX}",
                                  [(ldap.MOD_ADD, "member", [person_dn(login).encode()])])
        finally:
            conn.unbind_s()

    def set_groups(self, login: str, groups: tuple[str, ...]) -> None:
        """``login`` is a member of exactly ``groups`` (of :data:`GROUPS`)."""
        import ldap

        conn = self.admin()
        try:
            for group in GROUPS:
                op = ldap.MOD_ADD if group in groups else ldap.MOD_DELETE
                with contextlib.suppress(ldap.TYPE_OR_VALUE_EXISTS, ldap.NO_SUCH_ATTRIBUTE):
                    conn.modify_s(f"cn={group},ou=groups,{SUFFIX}", [(op, "member", [person_dn(login).encode()])])
        finally:
            conn.unbind_s()


def start(directory: Path) -> tuple[LdapServer, subprocess.Popen[bytes]]:
    slapd = shutil.which("slapd") or "/usr/sbin/slapd"
    if not Path(slapd).exists():
        raise RuntimeError("slapd is missing: install slapd and ldap-utils (make lab-deps)")
    started = time.monotonic()
    directory.mkdir(mode=0o700)
    make_ca_and_server(directory)
    (directory / "slapd.d").mkdir()
    (directory / "data").mkdir()
    (directory / "config.ldif").write_text(_config_ldif(directory))
    (directory / "data.ldif").write_text(_data_ldif())
    for args in (["-n0", "-l", "config.ldif"], ["-n1", "-l", "data.ldif"]):
        done = subprocess.run(["/usr/sbin/slapadd", "-F", str(directory / "slapd.d"), *args], cwd=directory,
                              capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"slapadd {args[0]} failed: {done.stderr[-2000:]}")
    port = _free_port()
    url = f"ldap://127.0.0.1:{port}/"
    log = (directory / "slapd.log").open("wb")
    # -d 0: in the foreground (our child, stopped by its PID), logging nothing but errors.
    proc = subprocess.Popen([slapd, "-h", url, "-F", str(directory / "slapd.d"), "-d", "0"], stdout=log,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"slapd did not start: {(directory / 'slapd.log').read_text()[-2000:]}") from None
            time.sleep(0.05)
    server = LdapServer(url=url, ca_file=directory / "ca.pem", directory=directory,
                        startup_seconds=time.monotonic() - started)
    return server, proc


@pytest.fixture(scope="session")
def slapd() -> Iterator[LdapServer]:
    """The run's LDAP directory (see the module's docstring); stopped at the end of the run."""
    with tempfile.TemporaryDirectory(prefix="netchange-slapd-") as tmp:
        server, proc = start(Path(tmp) / "ldap")
        try:
            yield server
        finally:
            stop(proc)
