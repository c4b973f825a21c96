"""Every secret an invocation could print or store, registered before it writes anything.

A command that never loads the Nornir inventory (``approve``, ``close``, ``show``, ``report``,
``notify``...) still journals and prints text a person typed: a comment holding a switch's
password must come out scrubbed (issue 21 item 6). So the CLI's root callback registers, with
:mod:`netchange.redact`, the values of every place a credential of this invocation lives:

- the secret ``NETCHANGE_*`` variables (``Settings.secret_values``: device logins, SMTP password,
  API token, journal key, any ``*_PASSWORD``/``*_SECRET``/``*_TOKEN``/``*_KEY``);
- the secrets file of the settings (``NETCHANGE_SECRETS`` > ``<home>/secrets.yaml``), whose
  ``mail.password`` and ``server.token`` are the SMTP and API secrets;
- the secrets file the inventory's transform reads (``transform_function_options.secrets_file`` of
  the Nornir configuration in use: the lab names its own), and secret values written in the
  inventory files themselves (``password:``, ``optional_args.secret``...);
- the lab's secrets file (``<home>/lab/secrets.yaml``) whenever a lab is up, with or without
  ``--lab``: a password seen in the lab is as likely to be pasted without the flag;
- the journal key files (``journal.key`` beside the secrets and beside the journal);
- the API token of a NetBox or Nautobot inventory (:data:`SOURCE_TOKENS`: the plugin's option in
  the Nornir configuration, or the variable the plugin reads).

Nothing here imports Nornir: the Nornir configuration and inventory files are read as text, and
YAML is parsed only for a file that names a secrets file or holds a secret-looking key (start-up).
A secrets file that cannot be parsed is a refusal: its values could not be scrubbed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from netchange import redact
from netchange.config._credentials import _secret_values
from netchange.config._secretsfile import load_secrets
from netchange.config._settings import Settings
from netchange.errors import BadRequest

_NORNIR_FILES = ("host_file", "group_file", "defaults_file", "secrets_file")
_NORNIR_LINE = re.compile(
    rb"^[ \t]*(host_file|group_file|defaults_file|secrets_file)[ \t]*:[ \t]*(['\"]?)([^'\"#\r\n]+?)\2[ \t]*(?:#.*)?$",
    re.MULTILINE)
_SECRET_KEY = re.compile(rb"(?:^|[{,])[ \t-]*['\"]?\w*(?:password|secret|passphrase|token)['\"]?[ \t]*:",
                         re.IGNORECASE | re.MULTILINE)
"""A key that may hold a secret, at the start of a line or in a flow mapping (not in a comment)."""
LAB_SECRETS = Path("lab") / "secrets.yaml"
"""The lab's secrets file, relative to the home (``netchange lab up`` writes it)."""
_KEY_FILE = "journal.key"  # netchange.journal.key.KEY_FILE_NAME (the journal is not imported here)
SOURCE_TOKENS = {"nautobot_token": "NAUTOBOT_TOKEN", "nb_token": "NB_TOKEN"}
"""The source-of-truth plugins' token option → the environment variable each reads without it
(nornir_nautobot's ``NautobotInventory``, nornir_netbox's ``NetBoxInventory2``)."""


def register_every_secret(cfg: Settings) -> None:
    """Register every credential of ``cfg``'s invocation (see the module's text); idempotent."""
    for value in cfg.secret_values:
        redact.register(value)
    secrets_files = [cfg.secrets, cfg.home / LAB_SECRETS]
    inventory_files: list[Path] = []
    for name, path in _nornir_files(cfg.nornir_config):
        (secrets_files if name == "secrets_file" else inventory_files).append(path)
    for path in dict.fromkeys(secrets_files):
        for value in _secret_values(_read_yaml(path, always=True)):
            redact.register(value)
    for path in dict.fromkeys(inventory_files):
        for value in _secret_values(_read_yaml(path, always=False)):
            redact.register(value)
    for value in _source_tokens(cfg.nornir_config):
        redact.register(value)
    for path in dict.fromkeys((cfg.secrets.parent / _KEY_FILE, cfg.journal.parent / _KEY_FILE)):
        try:
            redact.register(path.read_text(encoding="ascii", errors="replace").strip())
        except OSError:
            continue


def _source_tokens(config: Path) -> Iterator[str]:
    """The NetBox/Nautobot API tokens ``config`` names (YAML parsed only when the file names a token
    option). The plugins' environment variables (:data:`SOURCE_TOKENS`' values) are read by the
    settings, with the other secrets of the environment (``Settings.secret_values``)."""
    try:
        text = config.read_bytes()
    except OSError:
        return
    if not any(option.encode() in text for option in SOURCE_TOKENS):
        return
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return
    inventory = data.get("inventory") if isinstance(data, dict) else None
    options = inventory.get("options") if isinstance(inventory, dict) else None
    if isinstance(options, dict):
        yield from (str(options[o]) for o in SOURCE_TOKENS if options.get(o))


def _nornir_files(config: Path) -> Iterator[tuple[str, Path]]:
    """The inventory and secrets files a Nornir configuration names (as text: no YAML when the
    usual block layout is used; an unreadable or odd file is Nornir's to report later)."""
    try:
        text = config.read_bytes()
    except OSError:
        return
    found = [(m.group(1).decode(), m.group(3).decode("utf-8", "replace").strip()) for m in _NORNIR_LINE.finditer(text)]
    if sum(text.count(key.encode()) for key in _NORNIR_FILES) != len(found):
        found = _nornir_files_parsed(text)  # flow style, quotes, anchors...: ask YAML
    for name, value in found:
        if value:
            yield name, Path(value).expanduser()


def _nornir_files_parsed(text: bytes) -> list[tuple[str, str]]:
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return []
    inventory = data.get("inventory") if isinstance(data, dict) else None
    if not isinstance(inventory, dict):
        return []
    found: list[tuple[str, str]] = []
    for section in ("options", "transform_function_options"):
        options = inventory.get(section)
        if isinstance(options, dict):
            found.extend((k, str(v)) for k, v in options.items() if k in _NORNIR_FILES and v)
    return found


def _read_yaml(path: Path, *, always: bool) -> Any:
    """``path`` parsed, or ``None`` when it does not exist. ``always``: a secrets file, read as
    the transform reads it (mode checked; unreadable: a refusal); else an inventory file, parsed
    only when it holds a secret-looking key (an inventory without credentials costs no YAML)."""
    if always:
        if not path.exists():
            return None
        import yaml

        try:
            return load_secrets(path)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise BadRequest(f"{path}: cannot read this secrets file, so its values could not be hidden"
                             f" from what netchange prints and stores: {exc}") from None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not _SECRET_KEY.search(data):
        return None
    import yaml

    try:
        return yaml.safe_load(data)
    except yaml.YAMLError:
        return None  # not an inventory Nornir could load either: it says so when asked to
