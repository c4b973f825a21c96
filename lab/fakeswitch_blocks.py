"""Banners, certificates and macros on fake-switches (adjustment 7 of :mod:`netchange.lab.fakeswitch_launcher`).

fake-switches 1.5.0 knows none of IOS's multi-line constructs: ``banner motd #`` answered ``No
such command`` and every text line after it was a command of its own. The driver types and
removes them as whole blocks (issue 22 item 5, :mod:`netchange.drivers.cli_blocks`); to replay
that on the lab, the stand-in learns them as IOS behaves (Cisco IOS configuration guides; the
printing as the corpus's IOS configurations show it):

- ``banner <kind> <c>`` prints ``Enter TEXT message.  End with the character '<c>'.`` and takes
  every line up to the next ``<c>`` as text (no prompt meanwhile); ``show running-config``
  prints it ``banner <kind> ^C`` … ``^C`` whatever the delimiter, before ``end``; ``no banner
  <kind>`` removes it;
- ``macro name <m>`` prints ``Enter macro commands one per line. End with the character '@'.``
  and takes the lines up to ``@``; printed unindented, ended by ``@``, after ``hostname``;
  ``no macro name <m>`` removes it;
- ``crypto pki certificate chain <t>`` enters ``(config-cert-chain)``; there ``certificate
  <id…>`` takes hex lines up to ``quit``, ``no certificate <id…>`` asks ``[yes/no]`` and removes
  it on ``yes``; printed `` certificate <id…>``, the hex lines two spaces in, ``  \\tquit``.

Lines inside a block are taken as typed (fake-switches' own reading splits a line at `` | ``
for its piping, so a text line holding it is not one these tests use).
"""

from __future__ import annotations

from typing import Any

from fake_switches.cisco.command_processor.config import ConfigCommandProcessor
from fake_switches.cisco.command_processor.enabled import EnabledCommandProcessor
from fake_switches.command_processing.base_command_processor import BaseCommandProcessor

BANNERS = "netchange_banners"
MACROS = "netchange_macros"
CHAINS = "netchange_certificate_chains"
"""Where each construct is kept, on the switch's ``SwitchConfiguration``."""


def _store(config: Any, name: str) -> dict[str, Any]:
    if not hasattr(config, name):
        setattr(config, name, {})
    value: dict[str, Any] = getattr(config, name)
    return value


def _collect(processor: Any, until: Any, done: Any) -> None:
    """Take the following lines as text until ``until(line)`` says where it ends; then ``done``."""
    taken: list[str] = []

    def take(line: str) -> None:
        taken.append(line)
        if until(line):
            done(taken)
        else:
            processor.continue_to(take)

    processor.continue_to(take)


class ConfigCertChainProcessor(BaseCommandProcessor):  # type: ignore[misc]
    """``(config-cert-chain)``: the certificates of one trustpoint's chain."""

    def init(self, switch_configuration: Any, terminal_controller: Any, logger: Any, piping_processor: Any,
             *args: Any) -> None:
        super().init(switch_configuration, terminal_controller, logger, piping_processor)
        self.chain: dict[str, list[str]] = args[0]

    def get_prompt(self) -> str:
        return f"{self.switch_configuration.name}(config-cert-chain)#"

    def do_certificate(self, *args: str) -> None:
        header = " ".join(args)
        self.write_line("Enter the certificate in hexidecimal representation....")
        self.write_line("End with a blank line or \"quit\" on a line by itself")

        def done(lines: list[str]) -> None:
            self.chain[header] = [line.strip() for line in lines[:-1]]

        _collect(self, lambda line: line.strip() in ("quit", ""), done)

    def do_no_certificate(self, *args: str) -> None:
        header = " ".join(args)
        self.write("% Are you sure you want to do this? [yes/no]: ")

        def answer(line: str) -> None:
            if line.strip() == "yes":
                self.chain.pop(header, None)
            self.write_line("")

        self.continue_to(answer)

    def do_exit(self) -> None:
        self.is_done = True


def _banner(self: Any, *args: str) -> None:
    if len(args) < 2:
        self.write_line("% Incomplete command.")
        return
    kind, rest = args[0], " ".join(args[1:])
    delimiter, after = rest[0], rest[1:]
    banners = _store(self.switch_configuration, BANNERS)
    if delimiter in after:  # opened and closed on its line
        banners[kind] = after[:after.index(delimiter)]
        return
    self.write_line(f"Enter TEXT message.  End with the character '{delimiter}'.")

    def done(lines: list[str]) -> None:
        text = "\n".join([after, *lines])
        banners[kind] = text[:text.index(delimiter)]

    _collect(self, lambda line: delimiter in line, done)


def _no_banner(self: Any, *args: str) -> None:
    if args:
        _store(self.switch_configuration, BANNERS).pop(args[0], None)


def _macro(self: Any, *args: str) -> None:
    if len(args) != 2 or args[0] != "name":
        self.write_line("% Invalid input detected at '^' marker.")
        return
    name = args[1]
    self.write_line("Enter macro commands one per line. End with the character '@'.")

    def done(lines: list[str]) -> None:
        _store(self.switch_configuration, MACROS)[name] = [line.strip() for line in lines[:-1]]

    _collect(self, lambda line: line.strip() == "@", done)


def _no_macro(self: Any, *args: str) -> None:
    if len(args) == 2 and args[0] == "name":
        _store(self.switch_configuration, MACROS).pop(args[1], None)


def _crypto(self: Any, *args: str) -> None:
    if len(args) != 4 or args[:3] != ("pki", "certificate", "chain"):
        self.write_line("% Invalid input detected at '^' marker.")
        return
    chain = _store(self.switch_configuration, CHAINS).setdefault(args[3], {})
    self.move_to(ConfigCertChainProcessor(), chain)


def _no_crypto(self: Any, *args: str) -> None:
    if len(args) == 4 and args[:3] == ("pki", "certificate", "chain"):
        _store(self.switch_configuration, CHAINS).pop(args[3], None)


def printed(config: Any, lines: list[str]) -> list[str]:
    """``show running-config``'s configuration lines (after its ``Current configuration`` line)
    with the constructs of this module where IOS prints them."""
    macros = [line for name, body in sorted(_store(config, MACROS).items())
              for line in (f"macro name {name}", *body, "@", "!")]
    chains = [line for name, certs in sorted(_store(config, CHAINS).items())
              for line in (f"crypto pki certificate chain {name}",
                           *(x for header, hexes in certs.items()
                             for x in (f" certificate {header}", *(f"  {h}" for h in hexes), "  \tquit")), "!")]
    banners = [line for kind, text in sorted(_store(config, BANNERS).items())
               for line in f"banner {kind} ^C{text}^C".split("\n")]
    out = list(lines)
    if macros or chains:
        at = next((i + 1 for i, line in enumerate(out) if line.startswith("hostname ")), 0)
        while at < len(out) and out[at] == "!":
            at += 1
        out[at:at] = macros + chains
    if banners:
        end = max(i for i, line in enumerate(out) if line == "end")
        out[end:end] = [*banners, "!"]
    return out


def patch() -> None:
    """Teach the cisco core classes the constructs above."""
    ConfigCommandProcessor.do_banner = _banner
    ConfigCommandProcessor.do_no_banner = _no_banner
    ConfigCommandProcessor.do_macro = _macro
    ConfigCommandProcessor.do_no_macro = _no_macro
    ConfigCommandProcessor.do_crypto = _crypto
    ConfigCommandProcessor.do_no_crypto = _no_crypto

    original_show_run = EnabledCommandProcessor.show_run

    def show_run(self: Any) -> None:
        captured: list[str] = []
        write_line = self.write_line  # show_run writes line by line: catch them, then write them
        self.write_line = captured.append
        try:
            original_show_run(self)
        finally:
            self.write_line = write_line
        at = next(i for i, line in enumerate(captured) if line.startswith("Current configuration :"))
        body = printed(self.switch_configuration, captured[at + 1:])
        for line in captured[:at]:
            self.write_line(line)
        self.write_line(f"Current configuration : {len(chr(10).join(body)) + 1} bytes")
        for line in body:
            self.write_line(line)

    EnabledCommandProcessor.show_run = show_run
