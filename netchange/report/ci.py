"""Reports of a plan for a CI pipeline: JUnit XML for the test view, Markdown for a merge-request comment.

JUnit (``plan --junit FILE``): one test case per host (failed when its plan failed; its output says
"no change" when the device already matches) and one per pre-check (failed, passed, or skipped
when it was not run offline), plus one for the category gate when ``--fail-on`` is given; written
with the standard library's ElementTree, which escapes every value. Markdown (``plan --markdown
FILE``): the category ("no change" when no host has anything to change), the reasons with their
quality-plan items, the requirements and each host's diff, rendered by the package's one document
environment (values escaped for Markdown, device text fenced). Both are scrubbed of secrets.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from netchange import redact
from netchange.plan import Plan, Verdict, precheck_failed
from netchange.report.render import render


def _case(suite: ET.Element, classname: str, name: str, *, seconds: float = 0.0) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=classname, name=name, time=f"{seconds:.3f}")


def junit_xml(plan: Plan, verdict: Verdict, *, seconds: float = 0.0) -> str:
    """The plan as a JUnit XML document (``testsuites`` > one ``testsuite``)."""
    change = plan.change.id
    root = ET.Element("testsuites", name="netchange plan")
    suite = ET.SubElement(root, "testsuite", name=f"netchange plan {change}", time=f"{seconds:.3f}")
    props = ET.SubElement(suite, "properties")
    for key, value in (("change_id", change), ("plan_hash", plan.plan_hash),
                       ("category", plan.category.value if plan.category else "none"),
                       ("fail_on", verdict.fail_on.value if verdict.fail_on else "none"),
                       ("reason", verdict.reason), ("exit_code", str(verdict.exit_code))):
        ET.SubElement(props, "property", name=key, value=value)
    if verdict.no_change:
        ET.SubElement(props, "property", name="no_change", value=",".join(verdict.no_change))
    for host in plan.hosts:
        classname = f"{change}.{host.host}"
        case = _case(suite, classname, "plan")
        if host.error is not None:
            kind = "precheck_failed" if precheck_failed(host) else "host_failed"
            ET.SubElement(case, "failure", message=host.error, type=kind).text = host.error
        elif host.no_change:
            ET.SubElement(case, "system-out").text = "no change: the device already matches\n"
        else:
            category = host.category.value if host.category else "none"
            ET.SubElement(case, "system-out").text = f"category: {category}\n{host.diff}"
        for check in host.pre_checks:
            case = _case(suite, classname, f"pre-check: {check.name}")
            if check.not_run:
                ET.SubElement(case, "skipped", message=check.not_run)
            elif not check.passed:
                ET.SubElement(case, "failure", message=check.detail or "failed", type="precheck_failed")
    if verdict.fail_on is not None:
        case = _case(suite, change, f"category below {verdict.fail_on.value}")
        if verdict.gate_reached:
            category = plan.category.value if plan.category else "none"
            message = f"category {category} reaches --fail-on {verdict.fail_on.value}"
            ET.SubElement(case, "failure", message=message, type="gate").text = message
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", "0")
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    ET.indent(root)
    return redact.scrub('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n")


def markdown_summary(plan: Plan, verdict: Verdict, *, source: str | None = None) -> str:
    """A merge-request comment: category and gate, reasons (quality-plan items), requirements, diffs."""
    return render("plan_comment", "md", {"plan": plan, "verdict": verdict, "source": source,
                                         "precheck_failed": precheck_failed})


__all__ = ["junit_xml", "markdown_summary"]
