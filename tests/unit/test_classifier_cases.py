"""The classifier against a table of diffs, one or more per quality-plan item and per syntax.

Each case names the quality-plan item it checks, the category it must get and the rules that must
give it. A last test makes sure every rule of the shipped rule set is exercised by some case, so a
rule nobody tests cannot creep in.
"""

# ruff: noqa: E501 - tables of diffs and quoted quality-plan items read best one per line
from __future__ import annotations

from dataclasses import dataclass

import pytest

from netchange.classifiers import classify_diff, load_ruleset
from netchange.vocabulary import Category, Role

MINOR, MEDIUM, MAJOR = Category.MINOR, Category.MEDIUM, Category.MAJOR


@dataclass(frozen=True)
class Case:
    id: str
    paq: str
    platform: str
    role: Role
    diff: str
    category: Category
    rules: tuple[str, ...]


def ios(case_id: str, paq: str, diff: str, category: Category, *rules: str, platform: str = "ios") -> Case:
    return Case(case_id, paq, platform, Role.SWITCH, diff, category, rules)


def asa(case_id: str, paq: str, diff: str, category: Category, *rules: str) -> Case:
    return Case(case_id, paq, "asa", Role.FIREWALL, diff, category, rules)


def nft(case_id: str, paq: str, diff: str, category: Category, *rules: str) -> Case:
    return Case(case_id, paq, "nftables", Role.FIREWALL, diff, category, rules)


def dns(case_id: str, paq: str, diff: str, category: Category, *rules: str) -> Case:
    return Case(case_id, paq, "bind", Role.DNS, diff, category, rules)


def lb(case_id: str, paq: str, diff: str, category: Category, *rules: str) -> Case:
    return Case(case_id, paq, "haproxy", Role.LOAD_BALANCER, diff, category, rules)


GI = " interface GigabitEthernet1/0/3\n"
TABLE = " table inet filter {\n"
FWD = TABLE + " \tchain forward {\n"

# Issue 13: management plane, platform variants and context rules, one line each (the realistic
# edits on real configurations are in test_classifier_corpus.py).
GEN = "general definition (issue 13)"
ISSUE13: list[Case] = [
    asa("asa-nat0-82", GEN, "+nat (inside) 0 access-list NO_NAT\n", MEDIUM, "asa.nat_exemption_82"),
    asa("asa-nat-control", GEN, "+nat-control\n", MAJOR, "asa.nat_control"),
    asa("asa-icmp-permit", GEN, "+icmp permit any outside\n", MAJOR, "asa.icmp_access"),
    asa("asa-dhcpd", GEN, "+dhcpd address 192.0.2.10-192.0.2.50 inside\n", MEDIUM, "asa.dhcp_services"),
    asa("asa-privilege", GEN, "+privilege cmd level 3 mode exec command capture\n", MAJOR, "asa.privilege"),
    asa("asa-if-params", GEN, " interface GigabitEthernet0/3\n+ speed 1000\n+ no ip address\n", MINOR, "asa.interface_params"),
    asa("asa-5505-port-zone", GEN, " interface Ethernet0/2\n+ switchport access vlan 2\n", MAJOR, "asa.port_zone"),
    ios("ios-fex-settings", GEN, " fex 101\n+  pinning max-links 1\n", MAJOR, "ios.stack_settings", platform="nxos"),
    ios("ios-numbered-any", GEN, "+access-list 101 permit ip any any\n", MAJOR, "ios.numbered_acl_bound_permit_any"),
    ios("ios-l3-to-l2-with-address", GEN, " interface Gi1/0/1\n  ip address 10.0.0.1 255.255.255.0\n+ switchport\n", MAJOR, "ios.l3_switchover"),
    ios("ios-dialer-list", GEN, "+dialer-list 1 protocol ip permit\n", MAJOR, "ios.wan_globals"),
    ios("nxos-mgmt0", GEN, "+interface mgmt0\n+  vrf member management\n", MAJOR, "ios.mgmt_interface", "ios.mgmt_interface_settings", platform="nxos"),
    ios("nxos-feature", GEN, "+feature ospf\n", MEDIUM, "ios.nxos_feature", platform="nxos"),
    ios("ios-track", GEN, "+track 1 interface GigabitEthernet0/1 line-protocol\n+ delay down 5\n", MAJOR, "ios.tracking", "ios.tracking_settings"),
    ios("ios-bridge-group", GEN, " interface GigabitEthernet0/1\n+ bridge-group 1\n", MAJOR, "ios.bridging"),
    ios("ios-if-ip-params", GEN, GI + "+ no cdp enable\n+ carrier-delay msec 0\n", MINOR, "ios.interface_ip_params"),
    # Judgment calls round up (issue 22 item 11): tests/unit/test_judgment_calls.py lists them all.
    ios("ios-if-forwarding", GEN, GI + "+ no ip redirects\n+ no ip proxy-arp\n", MEDIUM, "ios.interface_forwarding"),
    ios("ios-line-access", GEN, " line vty 0 4\n+ transport input ssh\n", MEDIUM, "ios.line_access"),
    ios("ios-mgmt-access", GEN, "+ip ssh version 2\n", MEDIUM, "ios.mgmt_access"),
    ios("ios-mgmt-services", GEN, "+ip tftp source-interface Vlan10\n", MINOR, "ios.mgmt_services"),
    asa("asa-mtu", GEN, "-mtu outside 1500\n+mtu outside 1400\n", MEDIUM, "asa.interface_mtu"),
    asa("asa-boot", GEN, "+boot system disk0:/asa9-18-1-smp-k8.bin\n", MEDIUM, "asa.boot"),
    asa("asa-mgmt-access", GEN, "+ssh version 2\n", MEDIUM, "asa.mgmt_access"),
    ios("ios-if-bandwidth", GEN, GI + "+ bandwidth 100000\n", MEDIUM, "ios.interface_metric"),
    ios("ios-if-nat", GEN, GI + "+ ip nat inside\n", MEDIUM, "ios.interface_nat"),
    ios("ios-if-dot1x", GEN, GI + "+ dot1x pae authenticator\n", MAJOR, "ios.port_authentication"),
    ios("ios-line-con", GEN, "+line con 0\n+ logging synchronous\n", MINOR, "ios.line", "ios.line_settings"),
    ios("ios-line-no-login", GEN, " line vty 0 4\n+ no login\n", MAJOR, "ios.line_login_removed"),
    ios("ios-line-aaa", GEN, " line vty 0 4\n+ login authentication VTY\n", MAJOR, "ios.line_aaa"),
    ios("ios-rmon-archive", GEN, "+rmon event 1 log trap public\n+archive\n+ path flash:cfg\n", MINOR, "ios.monitoring", "ios.archive_settings"),
    ios("ios-config-header", GEN, "+version 15.4\n+boot-start-marker\n+end\n", MINOR, "ios.config_header"),
    ios("ios-boot", GEN, "+boot system flash:c2960-new.bin\n+redundancy\n+ mode sso\n", MEDIUM, "ios.boot", "ios.boot_settings"),
    ios("ios-forwarding", GEN, "+ip dhcp snooping vlan 10\n", MEDIUM, "ios.forwarding_globals"),
    ios("ios-dhcp-pool", GEN, "+ip dhcp pool USERS\n+ network 10.1.0.0 255.255.255.0\n", MEDIUM, "ios.dhcp_server", "ios.dhcp_pool_settings"),
    ios("ios-dynamic-nat", GEN, "+ip nat inside source list 1 interface Dialer1 overload\n", MEDIUM, "ios.dynamic_nat"),
    ios("ios-qos", GEN, "+class-map match-all VOICE\n+ match dscp ef\n", MEDIUM, "ios.qos", "ios.qos_settings"),
    ios("ios-zbf", GEN, "+zone security INSIDE\n+ description users\n", MAJOR, "ios.security_policy", "ios.security_policy_settings"),
    ios("ios-eem", GEN, "+event manager applet X\n+ action 1.0 cli command enable\n", MAJOR, "ios.eem", "ios.eem_settings"),
    ios("ios-aaa-group", GEN, " aaa group server radius RAD\n+ server 10.0.0.5 auth-port 1812 acct-port 1813\n", MAJOR, "ios.aaa_settings"),
    ios("nxos-port-profile", GEN, "+port-profile type ethernet VM\n+  switchport mode trunk\n", MAJOR, "ios.port_profile", "ios.port_profile_settings", platform="nxos"),
    ios("eos-trunk-group", GEN, " vlan 4094\n+   trunk group MLAG\n", MAJOR, "ios.vlan_trunk_group", platform="eos"),
    ios("eos-prefix-list-add", GEN, " ip prefix-list PL\n+   seq 30 permit 10.0.0.0/8\n", MINOR, "ios.prefix_list_entry_add", platform="eos"),
    ios("eos-prefix-list-remove", GEN, " ip prefix-list PL\n-   seq 10 permit 10.0.0.0/8\n", MEDIUM, "ios.prefix_list_entry_remove", platform="eos"),
    ios("ios-span", GEN, " monitor session 1 source interface Gi1/0/1\n+ description tap\n", MEDIUM, "ios.span_settings"),
]

CASES: list[Case] = [
    # ---------------------------------------------------------------- IOS: minor, network
    ios(
        "ios-new-lan-interface",
        "create or reconfigure a LAN interface",
        "+interface GigabitEthernet1/0/9\n+ description server-42\n+ no shutdown\n",
        MINOR,
        "ios.lan_interface",
        "ios.port_description",
        "ios.port_admin_state",
    ),
    ios("ios-connect-link", "connect a new LAN link", GI + "- shutdown\n", MINOR, "ios.port_admin_state"),
    ios(
        "ios-server-port-params",
        "change the parameters of a server port",
        GI + "+ speed 1000\n+ duplex full\n+ storm-control broadcast level 1.00\n",
        MINOR,
        "ios.port_parameters",
    ),
    ios(
        "ios-user-port-edge",
        "change the parameters of a user port (edge STP)",
        GI + "+ spanning-tree portfast\n+ spanning-tree bpduguard enable\n",
        MINOR,
        "ios.port_edge_spanning_tree",
    ),
    ios(
        "ios-access-vlan",
        "assign one or more ports to an existing VLAN",
        GI + "- switchport access vlan 10\n+ switchport access vlan 20\n",
        MINOR,
        "ios.port_access_vlan",
    ),
    ios(
        "ios-access-vlan-eos",
        "assign one or more ports to an existing VLAN (EOS)",
        " interface Ethernet3\n+ switchport access vlan 20\n",
        MINOR,
        "ios.port_access_vlan",
        platform="eos",
    ),
    ios(
        "ios-passwords",
        "change passwords on switches",
        "-enable secret 9 $9$old\n+enable secret 9 $9$new\n+username ops privilege 15 secret 9 $9$x\n"
        " line vty 0 4\n+ password 7 0822455D0A16\n",
        MINOR,
        "ios.passwords",
    ),
    ios(
        "ios-line-settings",
        "general definition: minor (line settings)",
        " line vty 0 4\n+ exec-timeout 10 0\n",
        MINOR,
        "ios.line_settings",
    ),
    ios(
        "ios-syslog",
        "change syslog parameters",
        "+logging host 192.0.2.50\n-logging trap warnings\n+logging trap informational\n",
        MINOR,
        "ios.syslog",
    ),
    ios(
        "ios-snmp-traps",
        "change SNMP parameters for traps",
        "+snmp-server host 192.0.2.60 version 2c TRAPS\n+snmp-server enable traps snmp linkdown linkup\n",
        MINOR,
        "ios.snmp_traps",
    ),
    ios(
        "ios-acl-create",
        "create, modify or delete an ACL (network perimeter)",
        "+ip access-list extended USERS-IN\n+ 10 permit tcp 10.1.0.0 0.0.255.255 any eq 443\n",
        MINOR,
        "ios.acl",
        "ios.acl_entry",
    ),
    ios(
        "ios-acl-entries",
        "add/remove entries in existing access-lists",
        " ip access-list extended USERS-IN\n- 20 deny ip any any\n+ 15 permit udp any host 10.0.0.53 eq 53\n",
        MINOR,
        "ios.acl_entry",
    ),
    ios(
        "ios-acl-numbered",
        "create, modify or delete an ACL (numbered)",
        "+access-list 10 permit 10.1.1.0 0.0.0.255\n",
        MINOR,
        "ios.acl",
    ),
    ios(
        "ios-static-route",
        "add a static route",
        "+ip route 10.50.0.0 255.255.0.0 10.0.0.254\n",
        MINOR,
        "ios.static_route_add",
    ),
    ios(
        "ios-route-map-add",
        "add networks/routes to existing route-maps",
        "+route-map RM-OUT permit 30\n+ match ip address prefix-list PL-NEW\n"
        "+ip prefix-list PL-NEW seq 5 permit 10.60.0.0/16\n",
        MINOR,
        "ios.route_map_add",
        "ios.route_map_clause_add",
        "ios.prefix_list_add",
    ),
    ios(
        "ios-static-nat",
        "add / remove / reassign a static translation",
        "-ip nat inside source static 10.0.0.5 203.0.113.5\n+ip nat inside source static 10.0.0.6 203.0.113.5\n",
        MINOR,
        "ios.static_nat",
    ),
    ios(
        "ios-vlan-name",
        "general definition: minor (VLAN name)",
        " vlan 20\n- name OLD\n+ name USERS\n",
        MINOR,
        "ios.vlan_name",
    ),
    # ---------------------------------------------------------------- IOS: medium, network
    ios(
        "ios-etherchannel",
        "build a server port-group trunk (EtherChannel)",
        "+interface Port-channel10\n+ description srv-bond\n" + GI + "+ channel-group 10 mode active\n",
        MEDIUM,
        "ios.port_channel_create",
        "ios.port_channel_member",
    ),
    ios(
        "ios-route-removed",
        "change routing without a topology change (static route removed)",
        "-ip route 10.50.0.0 255.255.0.0 10.0.0.254\n+ip route 10.50.0.0 255.255.0.0 10.0.0.253\n",
        MEDIUM,
        "ios.static_route_remove",
        "ios.static_route_add",
    ),
    ios(
        "ios-route-map-removed",
        "change routing without a topology change (route-map shrinks)",
        "-route-map RM-OUT permit 30\n- match ip address prefix-list PL-OLD\n"
        "-ip prefix-list PL-OLD seq 5 permit 10.60.0.0/16\n",
        MEDIUM,
        "ios.route_map_remove",
        "ios.route_map_clause_remove",
        "ios.prefix_list_remove",
    ),
    ios(
        "ios-routing-tuning",
        "change routing without a topology change (tuning)",
        " router ospf 1\n+ maximum-paths 4\n",
        MEDIUM,
        "ios.routing_tuning",
    ),
    ios(
        "ios-default-gateway",
        "change routing without a topology change (gateway)",
        "+ip default-gateway 10.0.0.1\n",
        MEDIUM,
        "ios.default_gateway",
    ),
    ios(
        "ios-new-vlan",
        "create a new VLAN and its routing",
        "+vlan 30\n+ name SERVERS\n+interface Vlan30\n+ ip address 10.30.0.1 255.255.255.0\n",
        MEDIUM,
        "ios.vlan_create",
        "ios.svi_create",
        "ios.interface_address",
    ),
    ios(
        "ios-secondary-subnet",
        "add a DMZ (new subnet)",
        " interface Vlan10\n+ ip address 10.12.0.1 255.255.255.0 secondary\n",
        MAJOR,
        "ios.secondary_subnet",
        "ios.interface_address",
    ),
    ios(
        "ios-apply-acl",
        "put an access-list in place (apply it)",
        GI + "+ ip access-group USERS-IN in\n",
        MEDIUM,
        "ios.interface_acl_binding",
    ),
    ios(
        "ios-vty-acl",
        "put an access-list in place (management lines)",
        " line vty 0 4\n+ access-class MGMT in\n",
        MEDIUM,
        "ios.line_acl_binding",
    ),
    ios(
        "ios-readdress-one",
        "change the addressing plan for fewer than 10 resources (same subnet)",
        # Issue 13: was 10.10.0.1 -> 10.11.0.1 (another subnet), now major (ios-readdress-moved).
        " interface Vlan10\n- ip address 10.10.0.1 255.255.255.0\n+ ip address 10.10.0.2 255.255.255.0\n",
        MEDIUM,
        "ios.interface_address",
        "change.addressing_plan",
    ),
    ios(
        "ios-readdress-moved",
        "add a DMZ (new subnet); change IP addressing",
        " interface Vlan10\n- ip address 10.10.0.1 255.255.255.0\n+ ip address 10.11.0.1 255.255.255.0\n",
        MAJOR,
        "ios.subnet_moved",
        "ios.interface_address",
    ),
    ios(
        "netconf-new-vlan",
        "create a new VLAN and its routing (NETCONF)",
        "+vlan 40\n+ name LAB\n",
        MEDIUM,
        "netconf.vlan_create",
        "netconf.vlan_name",
        platform="netconf",
    ),
    # ---------------------------------------------------------------- IOS: major, network
    ios("ios-stack", "add or remove a switch in a stack", "+switch 3 provision ws-c3850-48p\n", MAJOR, "ios.stack"),
    ios(
        "ios-svi-removed",
        "change inter-VLAN routing rules",
        "-interface Vlan30\n- ip address 10.30.0.1 255.255.255.0\n",
        MAJOR,
        "ios.svi_remove",
    ),
    ios("ios-ip-routing", "change inter-VLAN routing rules (routing off)", "+no ip routing\n", MAJOR, "ios.ip_routing"),
    ios(
        "ios-vrf",
        "change inter-VLAN routing rules (VRF)",
        "+vrf definition BLUE\n+ rd 65000:1\n" + GI + "+ vrf forwarding BLUE\n",
        MAJOR,
        "ios.vrf",
        "ios.vrf_settings",
        "ios.interface_vrf",
    ),
    ios(
        "ios-snmp-community",
        "change SNMP communities",
        "+snmp-server community s3cret RO\n",
        MAJOR,
        "ios.snmp_community",
    ),
    ios("ios-debug", "use debug commands", "+debug ip packet\n", MAJOR, "ios.debug"),
    ios(
        "ios-spanning-tree",
        "change the dynamic L2 architecture: spanning tree",
        "-spanning-tree mode pvst\n+spanning-tree mode rapid-pvst\n",
        MAJOR,
        "ios.spanning_tree",
    ),
    ios(
        "ios-port-stp-cost",
        "change the dynamic L2 architecture: spanning tree (port)",
        GI + "+ spanning-tree cost 100\n",
        MAJOR,
        "ios.port_spanning_tree",
    ),
    ios("ios-vtp", "change the dynamic L2 architecture: VTP", "+vtp mode transparent\n", MAJOR, "ios.vtp"),
    ios(
        "ios-trunk",
        "change the dynamic L2 architecture: trunks",
        GI + "- switchport mode access\n+ switchport mode trunk\n+ switchport trunk allowed vlan 10,20\n",
        MAJOR,
        "ios.trunk",
    ),
    ios(
        "ios-portchannel-removed",
        "change the dynamic L2 architecture: trunks (port-channel removed)",
        "-interface Port-channel10\n",
        MAJOR,
        "ios.port_channel_remove",
    ),
    ios(
        "ios-vlan-removed", "change the dynamic L2 architecture (VLAN removed)", "-vlan 30\n", MAJOR, "ios.vlan_remove"
    ),
    ios(
        "netconf-vlan-removed",
        "change the dynamic L2 architecture (VLAN removed, NETCONF)",
        "-vlan 40\n- name LAB\n",
        MAJOR,
        "netconf.vlan_remove",
        platform="netconf",
    ),
    ios(
        "ios-loopback",
        "change the dynamic L3 architecture (loopback)",
        "+interface Loopback0\n",
        MAJOR,
        "ios.loopback_tunnel",
    ),
    ios(
        "ios-ospf",
        "any routing-protocol change with side effects",
        "+router ospf 1\n+ network 10.0.0.0 0.255.255.255 area 0\n" + GI + "+ ip ospf cost 10\n",
        MAJOR,
        "ios.routing_process",
        "ios.routing_process_change",
        "ios.interface_routing",
    ),
    ios(
        "ios-hsrp",
        "set up or change VRRP / HSRP",
        " interface Vlan10\n+ standby 1 ip 10.10.0.254\n+ standby 1 priority 110\n",
        MAJOR,
        "ios.fhrp",
    ),
    ios(
        "ios-aaa",
        "authentication methods (security plan) on a switch",
        "+aaa authentication login default group tacacs+ local\n",
        MAJOR,
        "ios.aaa",
    ),
    # ---------------------------------------------------------------- ASA: security perimeter
    asa(
        "asa-group-member",
        "add one or more objects to a group",
        " object-group network WEB-SERVERS\n+ network-object host 10.2.2.21\n",
        MINOR,
        "asa.group_member",
    ),
    asa(
        "asa-rule-objects",
        "add or remove objects in an existing rule",
        "-access-list OUTSIDE-IN extended permit tcp host 198.51.100.7 host 10.2.2.20 eq 443\n"
        "+access-list OUTSIDE-IN extended permit tcp object-group PARTNERS host 10.2.2.20 eq 443\n",
        MINOR,
        "asa.acl_known_flow",
        "asa.acl_rule_objects",
    ),
    asa(
        "asa-known-flow",
        "create a new rule for a fully known flow",
        "+access-list OUTSIDE-IN extended permit tcp host 198.51.100.7 host 10.2.2.20 eq 443\n"
        "+access-list OUTSIDE-IN remark CHG-2026-0042\n",
        MINOR,
        "asa.acl_known_flow",
        "asa.acl_remark",
    ),
    asa(
        "asa-static-route",
        "create a new static route",
        "+route outside 10.99.0.0 255.255.0.0 192.0.2.1 1\n",
        MINOR,
        "asa.static_route_add",
    ),
    asa(
        "asa-static-nat",
        "add / remove / reassign a static translation",
        " object network WEB01\n+ nat (inside,outside) static 203.0.113.20\n"
        "+nat (inside,outside) source static SRV SRV-PUB\n",
        MINOR,
        "asa.static_nat",
    ),
    asa(
        "asa-descriptions",
        "general definition: minor (descriptions)",
        " object network WEB01\n+ description web front\n interface GigabitEthernet0/1\n+ description uplink\n",
        MINOR,
        "asa.object_description",
        "asa.interface_description",
    ),
    asa(
        "asa-syslog-traps-passwords",
        "syslog, SNMP traps, passwords (read from the network list)",
        "+logging host inside 10.0.0.50\n+snmp-server host inside 10.0.0.60 community x\n+passwd 2KFQnbNIdI.2KYOU\n",
        MINOR,
        "asa.syslog",
        "asa.snmp_traps",
        "asa.passwords",
    ),
    asa(
        "asa-new-object",
        "create a new object in the firewall database",
        "+object network WEB02\n+ host 10.2.2.22\n",
        MEDIUM,
        "asa.object",
        "asa.object_definition",
    ),
    asa(
        "asa-new-group",
        "create a new object (group)",
        "+object-group network PARTNERS\n+ network-object host 198.51.100.7\n",
        MEDIUM,
        "asa.group",
        "asa.group_member",
    ),
    asa(
        "asa-time-range",
        "create a new object (time range)",
        "+time-range WORKHOURS\n+ periodic weekdays 8:00 to 20:00\n",
        MEDIUM,
        "asa.time_range",
    ),
    asa(
        "asa-name-user",
        "create a new object (name, user)",
        "+name 10.2.2.30 db01\n+username auditor password x privilege 3\n",
        MEDIUM,
        "asa.name",
        "asa.username",
    ),
    asa(
        "asa-unknown-flow",
        "create a new rule for a flow that is not fully known",
        "+access-list OUTSIDE-IN extended permit ip any host 10.2.2.20\n",
        MEDIUM,
        "asa.acl_unknown_flow",
    ),
    asa(
        "asa-unknown-flow-no-port",
        "create a new rule for a flow that is not fully known (no port)",
        "+access-list OUTSIDE-IN extended permit tcp host 198.51.100.7 host 10.2.2.20\n",
        MEDIUM,
        "asa.acl_unknown_flow",
    ),
    asa(
        "asa-dynamic-nat",
        "general definition: medium (dynamic NAT)",
        "+nat (inside,outside) source dynamic INSIDE-NET interface\n",
        MEDIUM,
        "asa.dynamic_nat",
    ),
    asa(
        "asa-route-removed",
        "general definition: medium (static route removed)",
        "-route outside 10.99.0.0 255.255.0.0 192.0.2.1 1\n",
        MEDIUM,
        "asa.static_route_remove",
    ),
    asa(
        "asa-acl-binding",
        "set up or change a security policy (creating an ACL on a firewall)",
        "+access-list DMZ-IN extended permit tcp host 10.3.0.5 host 10.2.2.20 eq 5432\n"
        "+access-group DMZ-IN in interface dmz\n",
        MAJOR,
        "asa.access_group",
        "asa.acl_known_flow",
    ),
    asa(
        "asa-aaa",
        "set up or change a security policy (authentication mechanism)",
        "+aaa-server RADIUS protocol radius\n+aaa-server RADIUS (inside) host 10.0.0.70\n+ key s3cret\n",
        MAJOR,
        "asa.aaa",
        "asa.aaa_settings",
    ),
    asa(
        "asa-threat",
        "security plan: attacks, URL filtering",
        "+threat-detection basic-threat\n+ip audit name ATTACKS attack action alarm drop\n"
        "+url-server (inside) host 10.0.0.80\n",
        MAJOR,
        "asa.threat_and_filtering",
    ),
    asa(
        "asa-inspection",
        "security plan: how attacks are treated (inspection)",
        " policy-map global_policy\n+ class inspection_default\n+service-policy global_policy global\n",
        MAJOR,
        "asa.inspection",
        "asa.inspection_settings",
    ),
    asa(
        "asa-management-access",
        "security plan: access filtering (management)",
        "+ssh 10.0.0.0 255.0.0.0 inside\n",
        MAJOR,
        "asa.management_access",
    ),
    asa(
        "asa-vpn",
        "security plan: authentication methods (VPN)",
        "+crypto ikev2 policy 10\n+ encryption aes-256\n+tunnel-group 198.51.100.9 type ipsec-l2l\n",
        MAJOR,
        "asa.crypto",
        "asa.crypto_settings",
    ),
    asa(
        "asa-ospf",
        "OSPF changes",
        "+router ospf 1\n+ network 10.2.0.0 255.255.0.0 area 0\n interface GigabitEthernet0/1\n+ ospf cost 10\n",
        MAJOR,
        "asa.routing",
        "asa.routing_settings",
        "asa.interface_ospf",
    ),
    asa(
        "asa-failover",
        "VRRP or failover set-up or change",
        "+failover lan unit primary\n+monitor-interface dmz\n",
        MAJOR,
        "asa.failover",
    ),
    asa(
        "asa-dmz",
        "add or remove a DMZ",
        "+interface GigabitEthernet0/3\n+ nameif dmz2\n+ security-level 50\n+ ip address 10.4.0.1 255.255.255.0\n",
        MAJOR,
        "asa.interface",
        "asa.interface_security",
        "asa.interface_address",
    ),
    asa(
        "asa-snmp-community-debug",
        "SNMP communities, debug (read from the network list)",
        "+snmp-server community s3cret\n+debug crypto ikev2 platform 255\n",
        MAJOR,
        "asa.snmp_community",
        "asa.debug",
    ),
    # ---------------------------------------------------------------- nftables
    nft(
        "nft-known-flow",
        "create a new rule for a fully known flow",
        FWD + "+\t\tip saddr 10.0.1.0/24 ip daddr 10.0.2.10 tcp dport 443 accept\n",
        MINOR,
        "nft.rule_known_flow",
    ),
    nft(
        "nft-known-flow-removed",
        "create a new rule for a fully known flow (removed)",
        FWD + "-\t\tip saddr 10.0.1.0/24 ip daddr 10.0.2.10 tcp dport 443 counter packets 0 bytes 0 accept\n",
        MINOR,
        "nft.rule_known_flow",
    ),
    nft(
        "nft-set-elements",
        "add one or more objects to a group",
        TABLE + " \tset web_clients {\n-\t\telements = { 10.0.1.1, 10.0.1.2 }\n+\t\telements = { 10.0.1.1, 10.0.1.2,\n"
        "+\t\t\t     10.0.1.3 }\n",
        MINOR,
        "nft.set_elements",
    ),
    nft(
        "nft-static-nat",
        "add / remove / reassign a static translation",
        TABLE.replace("filter", "nat")
        + " \tchain prerouting {\n+\t\tip daddr 203.0.113.10 tcp dport 443 dnat ip to 10.0.2.10\n",
        MINOR,
        "nft.rule_static_nat",
    ),
    nft(
        "nft-unknown-flow",
        "create a new rule for a flow that is not fully known",
        FWD + "+\t\ttcp dport 8080 accept\n+\t\tip saddr 10.0.1.5 drop\n",
        MEDIUM,
        "nft.rule_other",
    ),
    nft(
        "nft-new-set",
        "create a new object in the firewall database",
        TABLE + "+\tset admins {\n+\t\ttype ipv4_addr\n+\t\telements = { 10.0.9.1 }\n+\t}\n",
        MEDIUM,
        "nft.set",
        "nft.set_definition",
        "nft.set_elements",
    ),
    nft(
        "nft-map-elements",
        "a verdict map's elements are rules",
        TABLE + " \tmap port_verdicts {\n+\t\telements = { 22 : accept, 80 : drop }\n",
        MEDIUM,
        "nft.map_elements",
    ),
    nft(
        "nft-new-chain",
        "set up or change a security policy (new chain)",
        TABLE + "+\tchain dmz_in {\n+\t\ttype filter hook input priority filter; policy drop;\n+\t}\n",
        MAJOR,
        "nft.chain",
        "nft.chain_policy",
    ),
    nft(
        "nft-new-table",
        "set up or change a security policy (new table)",
        "+table ip mangle {\n+}\n",
        MAJOR,
        "nft.table",
    ),
    nft(
        "nft-policy",
        "set up or change a security policy (default policy)",
        FWD + "-\t\ttype filter hook forward priority filter; policy drop;\n"
        "+\t\ttype filter hook forward priority filter; policy accept;\n",
        MAJOR,
        "nft.chain_policy",
    ),
    nft(
        "nft-ct-state",
        "set up or change a security policy (connection state, jumps)",
        FWD + "-\t\tct state established,related accept\n+\t\tjump dmz_in\n",
        MAJOR,
        "nft.rule_policy_wide",
    ),
    # ---------------------------------------------------------------- BIND
    dns(
        "dns-add-name",
        "add or remove DNS entries (name)",
        "+www2.doif.lab.example. 300 IN A 192.0.2.11\n+www2.doif.lab.example. 300 IN AAAA 2001:db8::11\n"
        '+11.2.0.192.in-addr.arpa. 300 IN PTR www2.doif.lab.example.\n+doif.lab.example. 300 IN TXT "v=spf1 -all"\n',
        MINOR,
        "bind.name_record",
    ),
    dns(
        "dns-alias",
        "add or remove DNS entries (alias)",
        "-intranet.doif.lab.example. 300 IN CNAME www.doif.lab.example.\n",
        MINOR,
        "bind.alias_record",
    ),
    dns(
        "dns-ttl-change",
        "add or remove DNS entries (a TTL change shows as both)",
        "-www.doif.lab.example. 300 IN A 192.0.2.10\n+www.doif.lab.example. 60 IN A 192.0.2.10\n",
        MINOR,
        "bind.name_record",
    ),
    dns(
        "dns-new-zone",
        "create a DNS zone",
        "+newzone.example. 3600 IN SOA ns1.newzone.example. admin.newzone.example. 1 7200 3600 1209600 300\n"
        "+newzone.example. 3600 IN NS ns1.newzone.example.\n",
        MEDIUM,
        "bind.zone_soa",
        "bind.delegation",
    ),
    dns(
        "dns-delegation",
        "other advanced DNS configuration (delegation)",
        "+sub.doif.lab.example. 3600 IN NS ns.sub.doif.lab.example.\n",
        MEDIUM,
        "bind.delegation",
    ),
    dns(
        "dns-mx-srv",
        "other advanced DNS configuration (MX, SRV)",
        "+doif.lab.example. 300 IN MX 10 mail.doif.lab.example.\n"
        "+_ldap._tcp.doif.lab.example. 300 IN SRV 0 0 389 dc1.doif.lab.example.\n",
        MEDIUM,
        "bind.advanced_record",
    ),
    dns(
        "dns-directive",
        "other advanced DNS configuration (directives)",
        "-$TTL 3600\n+$TTL 300\n",
        MEDIUM,
        "bind.directive",
    ),
    # ---------------------------------------------------------------- HAProxy
    lb(
        "lb-add-server",
        "add a server in an existing backend",
        " backend be_web\n+    server web3 127.0.0.1:8003 weight 1 state ready\n",
        MINOR,
        "haproxy.server",
    ),
    lb(
        "lb-remove-server-kept",
        "remove a server in an existing backend (others shown)",
        " backend be_web\n     server web1 127.0.0.1:8001 weight 1 state ready\n"
        "-    server web2 127.0.0.1:8002 weight 1 state ready\n",
        MINOR,
        "haproxy.server",
    ),
    lb(
        "lb-weight",
        "change a server's weight",
        " backend be_web\n-    server web1 127.0.0.1:8001 weight 1 state ready\n"
        "+    server web1 127.0.0.1:8001 weight 5 state ready\n",
        MINOR,
        "haproxy.server",
    ),
    lb(
        "lb-drain",
        "drain one server (runtime state)",
        " backend be_web\n-    server web2 127.0.0.1:8002 weight 1 state ready\n"
        "+    server web2 127.0.0.1:8002 weight 1 state drain\n",
        MINOR,
        "haproxy.server",
    ),
    lb(
        "lb-runtime",
        "runtime-API commands on one server",
        "+set server be_web/web2 state maint\n",
        MINOR,
        "haproxy.runtime_server",
    ),
    lb(
        "lb-proxy-acl",
        "add or remove entries in proxy ACLs",
        " frontend fe_web\n+    acl blocked src 198.51.100.0/24\n+    http-request deny if blocked\n",
        MINOR,
        "haproxy.proxy_acl",
    ),
    lb(
        "lb-logging",
        "general definition: minor (logging)",
        " frontend fe_web\n+    option httplog\n",
        MINOR,
        "haproxy.logging",
    ),
    lb(
        "lb-new-backend",
        "new backend",
        "+backend be_api\n+    balance leastconn\n+    server api1 10.0.5.1:8080 check\n",
        MEDIUM,
        "haproxy.backend_add",
        "haproxy.balance",
        "haproxy.server",
    ),
    lb(
        "lb-new-frontend",
        "new frontend",
        "+frontend fe_api\n+    bind 10.0.0.81:443\n+    default_backend be_api\n",
        MEDIUM,
        "haproxy.frontend_add",
        "haproxy.vip_new",
        "haproxy.backend_switching",
    ),
    lb(
        "lb-balance",
        "balance algorithm",
        " backend be_web\n-    balance roundrobin\n+    balance leastconn\n",
        MEDIUM,
        "haproxy.balance",
    ),
    lb(
        "lb-persistence",
        "persistence (cookie/stick)",
        " backend be_web\n+    cookie SRV insert indirect nocache\n+    stick-table type ip size 1m\n",
        MEDIUM,
        "haproxy.persistence",
    ),
    lb(
        "lb-health",
        "health check",
        " backend be_web\n+    option httpchk GET /health\n",
        MEDIUM,
        "haproxy.health_check",
    ),
    lb(
        "lb-health-timing",
        "health check (check inter)",
        " backend be_web\n-    server web1 127.0.0.1:8001 check\n"
        "+    server web1 127.0.0.1:8001 check inter 2s fall 3\n",
        MEDIUM,
        "haproxy.server_health",
    ),
    lb(
        "lb-tuning",
        "general definition: medium (timeouts)",
        " frontend fe_web\n+    timeout client 30s\n",
        MEDIUM,
        "haproxy.tuning",
    ),
    lb(
        "lb-vip",
        "change a frontend's VIP (bind)",
        " frontend fe_web\n-    bind 10.0.0.80:443\n+    bind 10.0.0.90:443\n",
        MAJOR,
        "haproxy.vip_change",
    ),
    lb(
        "lb-remove-frontend",
        "remove a frontend",
        "-frontend fe_old\n-    bind 10.0.0.70:80\n",
        MAJOR,
        "haproxy.frontend_remove",
        "haproxy.removed_section_content",
    ),
    lb(
        "lb-remove-backend",
        "leave a backend without any server (backend removed)",
        "-backend be_old\n-    server old1 10.0.7.1:80\n",
        MAJOR,
        "haproxy.backend_remove",
    ),
    lb(
        "lb-empty-backend",
        "leave a backend without any server",
        " backend be_web\n-    server web1 127.0.0.1:8001 weight 1 state ready\n"
        "-    server web2 127.0.0.1:8002 weight 1 state ready\n",
        MAJOR,
        "haproxy.backend_emptied",
    ),
    lb(
        "lb-defaults",
        "general definition: unknown impact (defaults)",
        " defaults\n+    timeout connect 5s\n",
        MAJOR,
        "haproxy.global_defaults",
    ),
    # ---------------------------------------------------------------- Safety
    ios(
        "ios-unclassified",
        "general definition: unknown impact is treated as major",
        GI + "+ switchport access vlan 20\n+ip sla 10\n",
        MAJOR,
        "unclassified",
    ),
    asa(
        "role-mismatch",
        "general definition: a rule applies only on its perimeter",
        "+access-group DMZ-IN in interface dmz\n",
        MAJOR,
        "unclassified",
    ),
]


CASES += ISSUE13


def frr(case_id: str, paq: str, diff: str, category: Category, *rules: str) -> Case:
    return Case(case_id, paq, "frr", Role.SWITCH, diff, category, rules)


def kad(case_id: str, paq: str, diff: str, category: Category, *rules: str) -> Case:
    return Case(case_id, paq, "keepalived", Role.SWITCH, diff, category, rules)


ROUTING_FRR = "major/network: any routing-protocol change with side effects (topology, several flows)"
NO_TOPO = "medium/network: change routing without a topology change"
RM_ADD = "minor/network: add networks/routes to existing route-maps or proven existing configurations"
VRRP = "major/network: set up or change VRRP / HSRP"
GEN = "general definition: minor — no functional impact, no service interruption"

# Issue 16: FRR routers and keepalived VRRP pairs, diffs as their drivers show them.
ISSUE16: list[Case] = [
    frr("frr-static-add", "minor/network: add a static route", "+ip route 10.99.0.0/16 10.210.1.2\n", MINOR, "frr.static_route_add"),
    frr("frr-static-remove", NO_TOPO, "-ip route 10.99.0.0/16 10.210.1.2\n", MEDIUM, "frr.static_route_remove"),
    frr("frr-static-no", NO_TOPO, "+no ip route 10.99.0.0/16 10.210.1.2\n", MEDIUM, "frr.static_route_remove"),
    frr("frr-prefix-list-add", RM_ADD, "+ip prefix-list FROM-UPSTREAM seq 15 permit 192.0.2.0/24\n", MINOR, "frr.prefix_list_add"),
    frr("frr-prefix-list-remove", NO_TOPO, "-ip prefix-list FROM-UPSTREAM seq 5 permit 198.51.100.0/24\n", MEDIUM, "frr.prefix_list_remove"),
    frr("frr-route-map-entry-add", RM_ADD, "+route-map FROM-UPSTREAM permit 20\n+ match ip address prefix-list EXTRA\n+exit\n", MINOR,
        "frr.route_map_add", "frr.route_map_clause_add", "frr.block_end"),
    # Issue 26: a path attribute on a route-map moves traffic between operators when a neighbour uses
    # the route-map; classified alone, that use is unknown, so major (unknown impact is major).
    frr("frr-route-map-local-preference", ROUTING_FRR,
        " route-map FROM-OPERATOR-B permit 10\n- set local-preference 50\n+ set local-preference 150\n", MAJOR,
        "frr.route_map_path_selection"),
    frr("frr-route-map-prepend-gshut", ROUTING_FRR,
        " route-map TO-UPSTREAM permit 10\n+ set as-path prepend 65001 65001 65001\n+ set community graceful-shutdown additive\n",
        MAJOR, "frr.route_map_path_selection"),
    frr("frr-bgp-ecmp", ROUTING_FRR, " router bgp 65001\n  address-family ipv4 unicast\n+  maximum-paths 2\n", MAJOR,
        "frr.routing_process_change"),
    frr("frr-route-map-entry-remove", NO_TOPO, "-route-map FROM-UPSTREAM permit 10\n- match ip address prefix-list FROM-UPSTREAM\n", MEDIUM,
        "frr.route_map_remove", "frr.route_map_clause_remove"),
    frr("frr-ospf-cost", ROUTING_FRR, " interface peer0\n+ ip ospf cost 100\n", MAJOR, "frr.interface_ospf"),
    frr("frr-ospf-area", ROUTING_FRR, " router ospf\n- network 10.210.1.0/30 area 0\n+ network 10.210.1.0/30 area 1\n", MAJOR, "frr.routing_process_change"),
    frr("frr-ospf-process", ROUTING_FRR, "+router ospf\n+ ospf router-id 10.255.1.1\n", MAJOR, "frr.routing_process", "frr.routing_process_change"),
    frr("frr-ospf-logging", NO_TOPO, " router ospf\n+ log-adjacency-changes\n", MEDIUM, "frr.routing_tuning"),
    frr("frr-bgp-neighbor-add", ROUTING_FRR, " router bgp 65001\n+ neighbor 10.211.1.9 remote-as 64500\n", MAJOR, "frr.routing_process_change"),
    frr("frr-bgp-prefix-list-in", ROUTING_FRR, " router bgp 65001\n  address-family ipv4 unicast\n+  neighbor 10.211.1.1 prefix-list FROM-UPSTREAM in\n", MAJOR,
        "frr.routing_process_change"),
    frr("frr-bgp-shutdown", ROUTING_FRR, " router bgp 65001\n+ neighbor 10.211.1.1 shutdown\n", MAJOR, "frr.routing_process_change"),
    frr("frr-forwarding", "major/network: change inter-VLAN routing rules", "+no ip forwarding\n", MAJOR, "frr.forwarding"),
    frr("frr-nht", NO_TOPO, "+ip nht resolve-via-default\n", MEDIUM, "frr.nexthop_tracking"),
    frr("frr-vrf", "major/network: change inter-VLAN routing rules", "+vrf blue\n+ vni 100\n+exit-vrf\n", MAJOR, "frr.vrf", "frr.vrf_content"),
    frr("frr-interface-description", "minor/network: create or reconfigure a LAN interface; connect a new LAN link",
        "+interface lan1\n+ description to the new LAN\n", MINOR, "frr.interface", "frr.interface_description"),
    frr("frr-interface-address", "medium/network: change the addressing plan for fewer than 10 resources",
        " interface lan0\n+ ip address 10.212.1.1/24\n", MEDIUM, "frr.interface_address", "change.addressing_plan"),
    frr("frr-interface-vrrp", VRRP, " interface srv0\n+ vrrp 5 priority 200\n", MAJOR, "frr.interface_vrrp"),
    frr("frr-interface-shutdown", "major/network: change the dynamic L2/L3 architecture: spanning tree, routing, inter-VLAN, VTP, trunks",
        " interface peer0\n+ shutdown\n", MAJOR, "frr.interface_shutdown"),
    frr("frr-link-detect", NO_TOPO, " interface peer0\n+ no link-detect\n", MEDIUM, "frr.interface_link"),
    frr("frr-debug", "major/network: use debug commands", "+debug ospf event\n", MAJOR, "frr.debug"),
    frr("frr-logging", "minor/network: change syslog parameters; change SNMP parameters for traps", "+log syslog informational\n", MINOR, "frr.logging"),
    frr("frr-hostname", GEN, "-hostname r1\n+hostname rtr-doif-a\n", MINOR, "frr.identity"),
    frr("frr-unknown", "general definition: unknown impact is treated as major", "+agentx\n", MAJOR, "unclassified"),
    kad("keepalived-priority", VRRP, " vrrp_instance SRV_DOIF {\n-    priority 150\n+    priority 50\n", MAJOR, "keepalived.vrrp_content"),
    kad("keepalived-priority-no-header", VRRP, "     interface srv0\n     virtual_router_id 51\n-    priority 150\n+    priority 50\n     advert_int 1\n", MAJOR,
        "keepalived.vrrp_keyword"),
    kad("keepalived-new-instance", VRRP, "+vrrp_instance SRV_NEW {\n+    interface srv0\n+    virtual_router_id 60\n+}\n", MAJOR,
        "keepalived.vrrp", "keepalived.vrrp_content"),
    kad("keepalived-vip", VRRP, " vrrp_instance SRV_DOIF {\n  virtual_ipaddress {\n-        10.213.1.1/24\n+        10.213.1.254/24\n", MAJOR, "keepalived.vrrp_content"),
    kad("keepalived-static-route-add", "minor/network: add a static route", "+static_routes {\n+    192.168.210.0/24 via 192.168.200.254 dev eth0\n+}\n", MINOR,
        "keepalived.static_routes", "keepalived.static_route_add"),
    kad("keepalived-static-route-remove", NO_TOPO, " static_routes {\n-    192.168.210.0/24 via 192.168.200.254 dev eth0\n", MEDIUM,
        "keepalived.static_route_remove"),
    kad("keepalived-router-id", GEN, " global_defs {\n-   router_id LVS_DEVEL\n+   router_id rtr-doif-a\n", MINOR, "keepalived.identity"),
    kad("keepalived-global-defs", GEN, "+global_defs {\n+   notification_email {\n+     ops@example.net\n+   }\n+}\n", MINOR,
        "keepalived.global_defs", "keepalived.identity"),
    kad("keepalived-unknown", "general definition: unknown impact is treated as major", "+virtual_server 10.0.0.1 80 {\n+}\n", MAJOR, "unclassified"),
]
CASES += ISSUE16


def iosfw(case_id: str, paq: str, diff: str, category: Category, *rules: str) -> Case:
    """An IOS router acting as the firewall (role firewall: the security perimeter)."""
    return Case(case_id, paq, "ios_cli", Role.FIREWALL, diff, category, rules)


SEC_KNOWN = "minor/security: create a new rule for a fully known flow (sources, destinations, protocol given on the request form)"
SEC_UNKNOWN = "medium/security: create a new rule for a flow that is not fully known and needs testing"
SEC_POLICY = "major/security: set up or change a security policy (creating an ACL on a firewall, an authentication mechanism)"
SEC_DMZ = "major/security: add or remove a DMZ"
ACL_IN = " ip access-list extended OUTSIDE_IN\n"

# Issue 22 (finding 3): on an IOS host with role firewall every line was "unclassified -> major"
# (the IOS rules served the network perimeter only). The security list's readings, in IOS syntax;
# what only the network list names (a description, syslog) is read on firewalls too.
ISSUE22: list[Case] = [
    iosfw("iosfw-acl-known-flow", SEC_KNOWN, ACL_IN + "+ 25 permit tcp 10.0.0.0 0.255.255.255 host 192.0.2.10 eq 443\n",
          MINOR, "ios.fw_acl_known_flow"),
    iosfw("iosfw-numbered-known-flow", SEC_KNOWN, "+access-list 101 permit tcp host 192.0.2.1 host 192.0.2.2 eq 22\n",
          MINOR, "ios.fw_acl_known_flow"),
    iosfw("iosfw-acl-object-groups", SEC_KNOWN, ACL_IN + "+ permit object-group WEB object-group LAN object-group SRV\n",
          MINOR, "ios.fw_acl_known_flow"),
    iosfw("iosfw-acl-any", SEC_UNKNOWN, ACL_IN + "+ 25 permit tcp any host 192.0.2.10 eq 443\n", MEDIUM,
          "ios.fw_acl_unknown_flow"),
    iosfw("iosfw-acl-ip", SEC_UNKNOWN, ACL_IN + "- 20 permit ip host 192.0.2.1 host 192.0.2.2\n", MEDIUM,
          "ios.fw_acl_unknown_flow"),
    iosfw("iosfw-acl-remark", "general definition: minor — no functional impact, no service interruption",
          ACL_IN + "+ remark web servers\n", MINOR, "ios.fw_acl_remark"),
    iosfw("iosfw-acl-created", SEC_POLICY, "+ip access-list extended DMZ_IN\n+ permit tcp host 192.0.2.1 host 192.0.2.2 eq 22\n",
          MAJOR, "ios.fw_acl", "ios.fw_acl_known_flow"),
    iosfw("iosfw-acl-bound", SEC_POLICY, " interface GigabitEthernet0/1\n+ ip access-group OUTSIDE_IN in\n", MAJOR,
          "ios.fw_acl_binding"),
    iosfw("iosfw-vty-acl", SEC_POLICY, " line vty 0 4\n+ access-class MGMT in\n", MAJOR, "ios.fw_acl_binding"),
    iosfw("iosfw-group", "medium/security: create a new object in the firewall database (network element, service, resource, server, user, time range, key, group)",
          "+object-group network ADMINS\n+ host 192.0.2.5\n", MEDIUM, "ios.fw_group", "ios.fw_group_member"),
    iosfw("iosfw-group-member", "minor/security: add one or more objects to a group",
          " object-group network ADMINS\n+ host 192.0.2.6\n+ description the admins' hosts\n", MINOR,
          "ios.fw_group_member", "ios.fw_group_description"),
    iosfw("iosfw-static-route", "minor/security: create a new static route", "+ip route 10.9.0.0 255.255.0.0 192.0.2.1\n",
          MINOR, "ios.fw_static_route_add"),
    iosfw("iosfw-interface", SEC_DMZ, "+interface GigabitEthernet0/3\n+ description new DMZ\n", MAJOR, "ios.fw_interface"),
    iosfw("iosfw-interface-address", SEC_DMZ, " interface GigabitEthernet0/2\n+ ip address 192.0.2.1 255.255.255.0\n", MAJOR,
          "ios.fw_interface_address"),
    iosfw("iosfw-zone", SEC_DMZ, " interface GigabitEthernet0/2\n+ zone-member security DMZ\n", MAJOR, "ios.fw_interface_zone"),
    iosfw("iosfw-network-items-too", "minor/network: change syslog parameters; change SNMP parameters for traps",
          " interface GigabitEthernet0/1\n+ description to the ISP\n+logging host 192.0.2.50\n", MINOR,
          "ios.port_description", "ios.syslog"),
    ios("ios-router-acl-entry", "minor/network: create, modify or delete an ACL (network perimeter); add/remove entries in existing access-lists",
        ACL_IN + "+ 25 permit tcp any host 192.0.2.10 eq 443\n", MINOR, "ios.acl_entry"),
]
CASES += ISSUE22


def gslb(case_id: str, paq: str, diff: str, category: Category, *rules: str) -> Case:
    return Case(case_id, paq, "gdnsd", Role.LOAD_BALANCER, diff, category, rules)


# Issue 26: the global load balancer (gdnsd), the gdnsd driver's managed state with every centre
# shown as context. Load moving between centres is major; a drained centre's own changes are not.
GSLB_RES = " resource www\n"
DOIF_UP = "     member doif 127.0.1.80 weight 1 state up\n"
GSLB26: list[Case] = [
    gslb("gslb-drain", "drain a centre", GSLB_RES + DOIF_UP + "-    member doso 127.0.2.80 weight 1 state up\n"
         "+    member doso 127.0.2.80 weight 1 state drain\n", MAJOR, "gdnsd.serving_centre", "gdnsd.drained_centre"),
    gslb("gslb-return", "bring a centre back", GSLB_RES + DOIF_UP + "-    member doso 127.0.2.80 weight 1 state drain\n"
         "+    member doso 127.0.2.80 weight 1 state up\n", MAJOR, "gdnsd.serving_centre", "gdnsd.drained_centre"),
    gslb("gslb-weight", "re-weight a serving centre", GSLB_RES + "-    member doif 127.0.1.80 weight 1 state up\n"
         "+    member doif 127.0.1.80 weight 3 state up\n", MAJOR, "gdnsd.serving_centre"),
    gslb("gslb-add", "add a serving centre", GSLB_RES + DOIF_UP + "+    member dr 127.0.3.80 weight 1 state up\n",
         MAJOR, "gdnsd.serving_centre"),
    gslb("gslb-weight-drained", "re-weight a drained centre", GSLB_RES + DOIF_UP
         + "-    member doso 127.0.2.80 weight 1 state drain\n+    member doso 127.0.2.80 weight 4 state drain\n",
         MINOR, "gdnsd.drained_centre"),
    gslb("gslb-remove-drained", "remove a drained centre", GSLB_RES + DOIF_UP
         + "-    member doso 127.0.2.80 weight 1 state drain\n", MINOR, "gdnsd.drained_centre"),
    gslb("gslb-priority", "re-prioritise a serving centre (failover)", " resource www_failover\n"
         "-    member doif 127.0.1.80 priority 1 state up\n-    member doso 127.0.2.80 priority 2 state up\n"
         "+    member doso 127.0.2.80 priority 1 state up\n+    member doif 127.0.1.80 priority 2 state up\n",
         MAJOR, "gdnsd.serving_centre"),
    gslb("gslb-unknown", "general definition: unknown impact is treated as major",
         GSLB_RES + "+    service_types centre_tcp\n", MAJOR, "unclassified"),
]
CASES += GSLB26


def _ids() -> list[str]:
    return [case.id for case in CASES]


@pytest.mark.parametrize("case", CASES, ids=_ids())
def test_case(case: Case) -> None:
    role = Role.SWITCH if case.id == "role-mismatch" else case.role
    verdict = classify_diff(case.diff, platform=case.platform, role=role)
    got = {r.rule for r in verdict.reasons}
    assert verdict.category == case.category, (case.paq, verdict.model_dump())
    assert set(case.rules) <= got, (case.paq, sorted(got))
    if "unclassified" not in case.rules:
        assert verdict.unclassified == (), verdict.unclassified


def test_table_is_large_and_ids_unique() -> None:
    assert len(CASES) >= 60
    assert len(set(_ids())) == len(CASES)


def test_every_rule_is_exercised() -> None:
    """By a case of this table or an edit of the real-configuration corpus (test_classifier_corpus)."""
    from tests.unit.test_classifier_corpus import EDITS

    rs = load_ruleset()
    exercised = {rule for case in CASES for rule in case.rules} | {rule for edit in EDITS for rule in edit.rules}
    declared = {r.id for r in rs.rules} | {c.id for c in rs.checks} | {e.id for e in rs.escalations}
    assert declared - exercised == set()
    assert exercised - declared - {"unclassified"} == set()


def test_every_listed_item_that_can_show_in_a_diff_has_a_rule() -> None:
    """Every quality-plan item is quoted by a rule, except those a diff cannot show."""
    rs = load_ruleset()
    quoted = {r.paq_item for r in rs.rules} | {c.paq_item for c in rs.checks}
    quoted |= {e.paq_medium for e in rs.escalations} | {e.paq_major for e in rs.escalations}
    quoted |= {rs.hardware.paq_medium, rs.hardware.paq_major}
    not_in_a_diff = {
        # Hardware work and new devices are declared on the request (request.hardware), or are a
        # new host whose whole configuration is classified line by line.
        "medium/network: add a device identical in function to an existing one",
        "medium/security: add interface cards; replace a redundant power supply",
        "medium/network: add interface cards (hot-plug or reboot < 15 min); replace a redundant power supply",
        "major/security: hardware change with an outage over 15 min",
        "a category may be raised, never lowered",
    }
    missing = set(rs.paq_items) - quoted - not_in_a_diff
    assert missing == set()
