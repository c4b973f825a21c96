"""Offline plans: the plan pipeline over stored configurations, with no session to any device.

:func:`use_stored_configs` gives each target host of a Nornir inventory the ``stored_config``
driver (:mod:`netchange.drivers.stored`) holding its backup (:mod:`netchange.plan._backups`), through
the host's connection options: the host keeps its own platform, syntax, role and site, so
:func:`netchange.plan._build.build_plan` runs unchanged (render, merge, diff, rollback preview,
classification, requirements, pre-checks) and only the connection is different.

An offline plan is a preview for reviewers and CI jobs: it is never stored in the plan store nor
recorded in the journal (nothing of it can be approved or applied; apply re-reads the device and
needs a plan made against it).
"""

from __future__ import annotations

from collections.abc import Iterable

from nornir.core import Nornir
from nornir.core.inventory import ConnectionOptions

from netchange.drivers.stored import DRIVER_NAME, engine_for
from netchange.errors import BadRequest
from netchange.inventory import CONNECTION_NAME
from netchange.plan._backups import BackupSource, StoredConfig, load_all
from netchange.platforms import syntax_of


def use_stored_configs(nr: Nornir, hosts: Iterable[str], source: BackupSource) -> dict[str, StoredConfig]:
    """Point every host of ``hosts`` at its stored configuration; returns what was read, by host.

    Bad input surfaces here, before anything is planned: a host without a stored configuration
    (or with two), a platform whose diff is not computed from text (one line per host).
    """
    names = list(dict.fromkeys(hosts))
    inventory = nr.inventory.hosts
    stored = load_all(source, ((n, inventory[n].hostname) for n in names))
    problems = []
    for name in names:
        host = inventory[name]
        platform = host.platform or ""
        try:
            # Checked now (one error for all hosts) rather than as each host's plan error.
            engine_for(platform, syntax_of(platform, host.get("syntax")), stored[name].text, name)
        except BadRequest as exc:
            problems.append(str(exc))
            continue
        host.connection_options[CONNECTION_NAME] = ConnectionOptions(
            hostname=name, port=None, username="", password="", platform=DRIVER_NAME,
            extras={"optional_args": {"config": stored[name].text, "source": stored[name].source,
                                      "platform": platform, "syntax": host.get("syntax")}},
        )
    if problems:
        raise BadRequest("; ".join(problems))
    return stored


__all__ = ["use_stored_configs"]
