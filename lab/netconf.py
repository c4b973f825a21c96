"""A NETCONF device: netconfd (yuma123) behind sshd's ``netconf`` subsystem, with our own YANG.

Why it is wired this way (docs/lab-notes.md, netconfd section):

* netconfd only speaks on a unix socket; sshd runs ``netconf-subsystem`` per session, which
  relays to that socket. netconfd refuses sessions unless its ``--port`` equals sshd's port.
* netconfd writes ``~/.yuma`` from the password database whatever ``$HOME`` says, so it runs in a
  private mount namespace with a tmpfs over the home directory; ``$YUMA_HOME/data`` must exist.
* sshd needs ``/run/sshd``: it runs in its own private mount namespace with a tmpfs ``/run``.
* The data model is ``lab/yang/netchange-vlans.yang`` (no plug-in code: ietf-system would run
  ``hostname``/``reboot``, ietf-interfaces crashes without a helper script).

Login is root with a key generated at ``lab up``; the host key goes to the lab's known_hosts.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from netchange.lab import keys
from netchange.lab.component import LabContext, LabHost
from netchange.lab.spawn import alive, free_port, start, stop, tcp_open, wait_until

SITES = ("doif",)
YANG = Path(__file__).resolve().parent / "yang" / "netchange-vlans.yang"
NAMESPACE = "urn:netchange:params:xml:ns:yang:netchange-vlans"
STARTUP = (
    '<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">\n'
    f'  <vlans xmlns="{NAMESPACE}">\n'
    "    <vlan><id>1</id><name>default</name></vlan>\n"
    "    <vlan><id>10</id><name>users</name></vlan>\n"
    "  </vlans>\n"
    "</config>\n"
)
USER = "root"


def host_name(site: str) -> str:
    return f"nc-{site}"


def _ssh_banner(port: int, host: str = "127.0.0.1", netns: str | None = None) -> bool:
    """sshd is up when it sends its version banner (a bare TCP accept is not enough); asked from
    inside ``netns`` when the device lives in one (the team lab's)."""
    if netns is not None:
        probe = (f"import socket,sys; s = socket.create_connection(({host!r}, {port}), timeout=0.5); "
                 "sys.exit(0 if s.recv(64).startswith(b'SSH-') else 1)")
        return subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", probe], check=False,
                              capture_output=True, timeout=20).returncode == 0
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            return sock.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def sshd_config(base: Path, port: int, socket_path: Path, listen_host: str = "127.0.0.1") -> str:
    return (
        f"Port {port}\n"
        f"ListenAddress {listen_host}\n"
        f"HostKey {base / 'ssh_host_ed25519_key'}\n"
        "PidFile none\n"
        f"AuthorizedKeysFile {base / 'authorized_keys'}\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
        "StrictModes no\n"
        "UsePAM no\n"
        "LogLevel ERROR\n"
        f'Subsystem netconf "/usr/sbin/netconf-subsystem --ncxserver-sockname={port}@{socket_path}"\n'
    )


def _in(netns: str | None) -> list[str]:
    return ["ip", "netns", "exec", netns] if netns else []


class NetconfLab:
    """netconfd + sshd per site (a :class:`netchange.lab.component.LabComponent`)."""

    name = "netconf"
    platforms: tuple[str, ...] = ("netconf",)

    def available(self) -> str | None:
        missing = [
            tool
            for tool in ("netconfd", "netconf-subsystem", "sshd", "unshare", "mount")
            if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists()
        ]
        if missing:
            return f"{', '.join(missing)} not installed (apt-get install netconfd openssh-server)"
        if os.geteuid() != 0:
            return "needs root (private mount namespaces for netconfd and sshd)"
        return None

    def up(self, ctx: LabContext) -> list[LabHost]:
        return [self.start_site(ctx, site) for site in SITES]

    def start_site(self, ctx: LabContext, site: str, *, listen_host: str = "127.0.0.1",
                   netns: str | None = None) -> LabHost:
        """The site's NETCONF device; inside ``netns`` listening on ``listen_host`` for the team lab
        (its site's device namespace)."""
        base = ctx.root / f"netconf-{site}"
        yuma_home = base / "yuma"
        (yuma_home / "data").mkdir(parents=True, exist_ok=True)
        socket_path = base / "ncxserver.sock"
        socket_path.unlink(missing_ok=True)  # a stale socket makes netconfd refuse to start
        startup = base / "startup.xml"
        startup.write_text(STARTUP)
        port = free_port(ctx)
        self._netconfd(ctx, site, port, netns)

        host_key = keys.ed25519_keypair(base / "ssh_host_ed25519_key", f"{host_name(site)}-host")
        client_key = base / "client_ed25519"
        (base / "authorized_keys").write_text(
            keys.ed25519_keypair(client_key, f"netchange@{host_name(site)}") + "\n"
        )
        conf = base / "sshd_config"
        conf.write_text(sshd_config(base, port, socket_path, listen_host))
        inner = (
            "mount -t tmpfs tmpfs /run && mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e -f "
            + shlex.quote(str(conf))
        )
        slog = base / "sshd.log"
        start(ctx, f"netconf-{site}-sshd", [*_in(netns), "unshare", "-m", "sh", "-c", inner], log=slog)
        wait_until(lambda: _ssh_banner(port, listen_host, netns), timeout=10, what=f"sshd {site}", log=slog)
        with ctx.known_hosts.open("a") as fh:
            fh.write(keys.known_hosts_line(listen_host, port, host_key) + "\n")
        ctx.secrets[host_name(site)] = {"username": USER}
        return LabHost(
            name=host_name(site),
            hostname=listen_host,
            port=port,
            platform="netconf",
            role="switch",
            site=site,
            data={"yang_module": "netchange-vlans", "namespace": NAMESPACE},
            optional_args={"key_file": str(client_key), "known_hosts": str(ctx.known_hosts)},
        )

    def _netconfd(self, ctx: LabContext, site: str, port: int, netns: str | None = None) -> None:
        """Start the site's netconfd (from its ``--startup`` file) and wait for its socket."""
        base = ctx.root / f"netconf-{site}"
        yuma_home = base / "yuma"
        socket_path = base / "ncxserver.sock"
        socket_path.unlink(missing_ok=True)  # a stale socket makes netconfd refuse to start
        startup = base / "startup.xml"
        home = pwd.getpwuid(os.geteuid()).pw_dir
        netconfd = [
            "/usr/sbin/netconfd",
            f"--module={YANG}",
            "--target=candidate",
            # A startup datastore apart (:startup advertised): a commit changes running only,
            # <copy-config> running -> startup saves to the --startup file, a restart reads it
            # (issue 21 item 4; with false, netconfd wrote every commit to that file itself).
            "--with-startup=true",
            "--with-validate=true",
            f"--startup={startup}",
            f"--ncxserver-sockname={socket_path}",
            f"--port={port}",
            f"--superuser={USER}",
            "--access-control=permissive",
            "--log-level=info",
        ]
        inner = f"mount -t tmpfs tmpfs {shlex.quote(home)} && exec {shlex.join(netconfd)}"
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "YUMA_HOME": str(yuma_home),
            "HOME": str(base),
        }
        log = base / "netconfd.log"
        start(ctx, f"netconf-{site}-netconfd", [*_in(netns), "unshare", "-m", "sh", "-c", inner], log=log, env=env)
        wait_until(socket_path.exists, timeout=15, what=f"netconfd {site}", log=log)

    def restart(self, ctx: LabContext, host: str) -> bool:
        """Power-cycle the NETCONF device ``host`` (issue 21 item 4's test): netconfd stops and
        starts again from its startup datastore (the ``--startup`` file); sshd stays. False: not
        one of this component's devices."""
        site = next((s for s in SITES if host_name(s) == host), None)
        if site is None:
            return False
        stop(ctx, [f"netconf-{site}-netconfd"], timeout=10)
        port = int((ctx.root / f"netconf-{site}" / "sshd_config").read_text().split()[1])
        self._netconfd(ctx, site, port)
        return True

    def status(self, ctx: LabContext) -> dict[str, str]:
        result = {}
        for site in SITES:
            daemon = ctx.pids.get(f"netconf-{site}-netconfd")
            sshd = ctx.pids.get(f"netconf-{site}-sshd")
            if not (alive(daemon) and alive(sshd)):
                result[host_name(site)] = (
                    f"stopped (netconfd {'up' if alive(daemon) else 'down'}, "
                    f"sshd {'up' if alive(sshd) else 'down'})"
                )
                continue
            conf = (ctx.root / f"netconf-{site}" / "sshd_config").read_text()
            port = int(conf.split()[1])
            state = "answering" if tcp_open(port) else "not answering"
            result[host_name(site)] = (
                f"running (netconfd pid {daemon}, sshd pid {sshd}), 127.0.0.1:{port} {state}"
            )
        return result
