"""Generated IOS-style running configurations, as the ios_cli driver reads them (canonical form)."""

from __future__ import annotations


def ios_config(lines: int, *, seed: int = 0) -> str:
    """A switch configuration of about ``lines`` lines: VLANs, described ports, SVIs, static routes.

    ``seed`` varies names and addresses so that hosts differ (one inventory, many configs).
    """
    out = [f"hostname sw-bench-{seed}"]
    vlans = max(3, lines // 10)
    for v in range(10, 10 + min(vlans, 3000)):
        out += [f"vlan {v}", f" name v{v}-s{seed % 97}"]
    port = 0
    while len(out) < lines * 0.9:
        slot, idx = divmod(port, 48)
        out += [f"interface GigabitEthernet{slot}/0/{idx + 1}", f" description desk {seed}-{port}",
                " switchport mode access", f" switchport access vlan {10 + port % vlans}", " spanning-tree portfast"]
        port += 1
    route = 0
    while len(out) < lines:
        a, b = divmod(route, 250)
        out.append(f"ip route 10.{100 + a % 100}.{b}.0 255.255.255.0 10.{seed % 250}.99.254")
        route += 1
    return "\n".join(out[:lines]) + "\n"


def show_vlan_brief(config: str) -> str:
    """``show vlan brief`` for the VLANs of ``config``, as IOS prints it (ntc-templates parses it)."""
    rows = ["", "VLAN Name                             Status    Ports",
            "---- -------------------------------- --------- -------------------------------",
            "1    default                          active    "]
    name = ""
    lines = config.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("vlan "):
            vid = line.split()[1]
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            name = nxt.split(" name ", 1)[1] if nxt.startswith(" name ") else f"VLAN{int(vid):04d}"
            rows.append(f"{vid:<4} {name:<32} active    ")
    return "\n".join(rows) + "\n"
