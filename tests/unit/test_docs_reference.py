"""docs/change-request-format.md is generated from the models: stale, it fails here."""

from __future__ import annotations

from pathlib import Path

from netchange.changetype import change_request_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "change-request-format.md"


def test_the_change_request_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == change_request_reference(), (
        "docs/change-request-format.md is stale: "
        "run `python -m netchange.changetype._typeinfo > docs/change-request-format.md`")


def test_every_field_of_the_request_and_of_netchange_s_types_is_documented() -> None:
    from netchange.changetype import change_type_names, get_change_type
    from netchange.models import ChangeRequest, Targets

    text = DOC.read_text(encoding="utf-8")
    for field in (*ChangeRequest.model_fields, *Targets.model_fields):
        assert f"| `{field}` |" in text, field
    for name in change_type_names():
        kind = get_change_type(name)
        if type(kind).__module__.startswith("netchange.tasks."):
            assert f"### `{name}`" in text
            for field in kind.Params.model_fields:
                assert f"| `{field}` |" in text, f"{name}.{field}"


def test_the_tutorial_shows_the_example_as_it_is() -> None:
    """docs/write-a-change-type.md quotes examples/netchange-ntp: the quotes must stay true."""
    repo = DOC.parents[1]
    tutorial = (repo / "docs" / "write-a-change-type.md").read_text(encoding="utf-8")
    example = repo / "examples" / "netchange-ntp"
    template = (example / "src" / "netchange_ntp" / "templates" / "ntp_server" / "ios.j2").read_text(encoding="utf-8")
    assert template in tutorial
    pyproject = (example / "pyproject.toml").read_text(encoding="utf-8")
    for line in ('ntp_server = "netchange_ntp.ntp:NtpServer"', 'ntp = "netchange_ntp.rules"',
                 'netchange_ntp = ["templates/*/*.j2", "rules/*.yaml"]'):
        assert line in pyproject and line in tutorial, line
    rules = (example / "src" / "netchange_ntp" / "rules" / "ntp.yaml").read_text(encoding="utf-8")
    for line in ("  - id: ntp_server.source_interface", "    category: medium", "    match: '^ntp source\\s'"):
        assert line in rules and line in tutorial, line
    tests = (example / "tests" / "test_ntp_server.py").read_text(encoding="utf-8")
    quoted = tutorial.split("def test_a_new_source_interface_is_medium_by_this_package_s_rule")[1].split("```")[0]
    assert "def test_a_new_source_interface_is_medium_by_this_package_s_rule" + quoted.rstrip("\n") in tests
