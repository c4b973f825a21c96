"""The order in which the CLI driver types a remediation's top-level blocks: by named structures.

hier_config types removals in the order of the configuration they leave and additions in the
order of the one they reach, whatever names one line gives another. A rollback of an AAA change
then typed ``no tacacs server T`` before the group's ``no server name T``, and ``no aaa group
server tacacs+ G`` before the method list naming ``G`` (issue 22, finding 6): a device refuses
to remove what is still in use, or is left a moment with a method list naming no group. The
named structures of the syntax (``netchange/platforms/references/``) say which block defines,
uses, removes or stops using which name; :func:`netchange.platforms.structures.dependency_order`
pulls forward what a block needs (the user's removal before the used one's, a definition before
its first use) and keeps every other block where hier_config put it. A line that replaces
another of its kind (the profile's idempotent commands: ``ip access-group NEW in``) stops using
what the replaced line named, which the remediation does not show: the removal of the old ACL
waits for it.
"""

from __future__ import annotations

from hier_config import HConfig

from netchange.platforms import PlatformProfile
from netchange.platforms.structures import catalog, dependency_order


def in_reference_order(config: HConfig, platform: PlatformProfile) -> HConfig:
    """``config`` (a remediation or a rollback) with its top-level blocks in an order that defines
    a name before a line uses it and stops using it before removing it; ``config`` itself when
    its order already does, or the platform's syntax declares no named structures."""
    kinds = catalog(platform.syntax) if platform.syntax else None
    children = list(config.children)
    if kinds is None or len(children) < 2:
        return config
    lines = [(child, *child.all_children()) for child in children]
    blocks = [[tuple(node.text for node in line.lineage()) for line in block] for block in lines]
    rules = config.driver.rules.idempotent_commands
    replacing = {tuple(node.text for node in line.lineage()) for block in lines for line in block
                 if any(line.is_lineage_match(rule.match_rules) for rule in rules)}
    order = dependency_order(blocks, kinds, replacing)
    if order == list(range(len(children))):
        return config
    ordered = HConfig(config.driver)
    for i in order:
        ordered.add_deep_copy_of(children[i])
    return ordered
