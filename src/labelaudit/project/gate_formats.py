"""The ``check`` result in the shapes CI systems and data-quality dashboards read.

Three renderings of :meth:`labelaudit.project.check.CheckResult.to_dict` (nothing is
recomputed):

- :func:`check_junit`: JUnit XML (the de-facto schema Jenkins, GitLab, GitHub Actions test
  reporters, Azure Pipelines and CircleCI read). One ``<testsuite>`` for the batch, one
  ``<testcase>`` per gate (``classname="labelaudit.gates"``, ``name`` = the gate name); a
  failed gate, or an undefined value that fails its gate, carries a ``<failure>`` whose
  ``message`` is the verdict sentence of that gate; an undefined value allowed by
  ``allow_undefined`` is ``<skipped>``. Notes go to ``<system-out>``.
- :func:`check_github`: a GitHub-flavoured Markdown job summary (append it to
  ``$GITHUB_STEP_SUMMARY``): a status line, then the ``check`` document as Markdown.
- :func:`check_gx`: a Great Expectations validation result (``ExpectationSuiteValidationResult``
  JSON: ``success``, ``statistics``, ``results[]``, ``meta``), one expectation per gate. A
  gate ``metric op threshold`` becomes ``expect_labelaudit_metric_to_be_between`` (``>=``,
  ``>``, ``<=``, ``<``: ``min_value`` / ``max_value`` with ``strict_min`` / ``strict_max``),
  ``expect_labelaudit_metric_to_equal`` (``==``) or ``expect_labelaudit_metric_not_to_equal``
  (``!=``); the stored value is ``result.observed_value``. See ``docs/integrations.md``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from labelaudit.project.check import gate_failed
from labelaudit.results import clean_number

__all__ = ["GX_SUITE", "check_github", "check_gx", "check_junit"]

#: Expectation suite name of the Great Expectations rendering.
GX_SUITE = "labelaudit.gates"
#: Characters XML 1.0 cannot carry (everything below U+0020 but tab, LF, CR).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_BETWEEN = {
    ">=": ("min_value", False),
    ">": ("min_value", True),
    "<=": ("max_value", False),
    "<": ("max_value", True),
}


def _xml_text(value: Any) -> str:
    """``value`` as text XML 1.0 can hold (illegal control characters become U+FFFD)."""
    return _XML_ILLEGAL.sub("\ufffd", "" if value is None else str(value))


def _gate_line(gate: Mapping[str, Any]) -> str:
    value = "undefined" if gate.get("value") is None else f"{gate['value']:.6g}"
    return f"{gate['metric']} = {value}, needs {gate['op']} {gate['threshold']:g}"


def check_junit(report: Mapping[str, Any]) -> str:
    """The check result as a JUnit XML document (UTF-8 text with its declaration).

    Parameters
    ----------
    report : mapping
        :meth:`CheckResult.to_dict` (``passed``, ``batch``, ``gates``, ``notes``).

    Returns
    -------
    str
        ``<testsuites>`` holding one ``<testsuite name="labelaudit check: batch B">`` with
        ``tests``, ``failures``, ``errors`` (0) and ``skipped`` counts and one ``<testcase>``
        per gate. Element text and attributes are escaped by the XML writer; characters
        XML 1.0 cannot hold are replaced by U+FFFD.
    """
    gates = list(report.get("gates") or [])
    failed = [gate_failed(g) for g in gates]
    skipped = [g["verdict"] == "undefined" and not f for g, f in zip(gates, failed, strict=True)]
    counts = {
        "tests": str(len(gates)),
        "failures": str(sum(failed)),
        "errors": "0",
        "skipped": str(sum(skipped)),
    }
    root = ET.Element("testsuites", {"name": "labelaudit check", **counts})
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": _xml_text(f"labelaudit check: batch {report['batch']}"), **counts},
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "batch", "value": _xml_text(report["batch"])})
    ET.SubElement(props, "property", {"name": "passed", "value": str(bool(report["passed"]))})
    for gate, fail, skip in zip(gates, failed, skipped, strict=True):
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": "labelaudit.gates", "name": _xml_text(gate["name"]), "time": "0"},
        )
        if fail:
            kind = "undefined" if gate["verdict"] == "undefined" else "gate-failed"
            node = ET.SubElement(
                case, "failure", {"message": _xml_text(_gate_line(gate)), "type": kind}
            )
            node.text = _xml_text(gate.get("reason"))
        elif skip:
            ET.SubElement(case, "skipped", {"message": _xml_text(gate.get("reason"))})
        else:
            ET.SubElement(case, "system-out").text = _xml_text(_gate_line(gate))
    notes = report.get("notes") or []
    if notes:
        ET.SubElement(suite, "system-out").text = _xml_text("\n".join(map(str, notes)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def check_github(report: Mapping[str, Any]) -> str:
    """The check result as a GitHub-flavoured Markdown job summary.

    A first line ``### :white_check_mark: labelaudit check: batch B passed`` (or
    ``:x: ... failed``), then the ``check`` document (verdict sentence, gate table) as
    Markdown, user content escaped by the shared Markdown renderer.
    """
    from labelaudit.project.documents import check_document
    from labelaudit.report.document import render_document
    from labelaudit.report.format import text

    mark, word = (":white_check_mark:", "passed") if report.get("passed") else (":x:", "failed")
    head = f"### {mark} labelaudit check: batch {text(report['batch'])} {word}\n\n"
    return head + render_document(check_document(report), "markdown", width=100)


def _expectation(gate: Mapping[str, Any], batch: str) -> dict[str, Any]:
    """One gate as a Great Expectations ``ExpectationValidationResult`` dict."""
    op, threshold = str(gate["op"]), float(gate["threshold"])
    kwargs: dict[str, Any] = {"metric": gate["metric"], "batch_id": batch}
    if op in _BETWEEN:
        bound, strict = _BETWEEN[op]
        kind = "expect_labelaudit_metric_to_be_between"
        kwargs.update({"min_value": None, "max_value": None})
        kwargs.update({bound: threshold, "strict_min": False, "strict_max": False})
        kwargs["strict_min" if bound == "min_value" else "strict_max"] = strict
    else:
        kind = (
            "expect_labelaudit_metric_to_equal"
            if op == "=="
            else "expect_labelaudit_metric_not_to_equal"
        )
        kwargs["value"] = threshold
    meta = {"gate": gate["name"], "verdict": gate["verdict"], "reason": gate.get("reason")}
    return {
        "success": not gate_failed(gate),
        "expectation_config": {
            "type": kind,
            "expectation_type": kind,
            "kwargs": kwargs,
            "meta": {"gate": gate["name"], "op": op},
        },
        "result": {"observed_value": clean_number(gate.get("value"))},
        "meta": meta,
        "exception_info": {
            "raised_exception": False,
            "exception_message": None,
            "exception_traceback": None,
        },
    }


def check_gx(report: Mapping[str, Any]) -> dict[str, Any]:
    """The check result as a Great Expectations validation result (JSON-ready dict).

    Returns
    -------
    dict
        ``{"success", "results": [...], "suite_name", "suite_parameters", "statistics":
        {"evaluated_expectations", "successful_expectations", "unsuccessful_expectations",
        "success_percent"}, "meta": {"labelaudit_batch", "run_id", "notes", ...}}``; the
        overall ``success`` is the check's ``passed``; ``success_percent`` is None when
        there is no gate (as Great Expectations reports an empty suite).
    """
    batch = str(report["batch"])
    results = [_expectation(g, batch) for g in report.get("gates") or []]
    good = sum(r["success"] for r in results)
    return {
        "success": bool(report["passed"]),
        "results": results,
        "suite_name": GX_SUITE,
        "suite_parameters": {},
        "statistics": {
            "evaluated_expectations": len(results),
            "successful_expectations": good,
            "unsuccessful_expectations": len(results) - good,
            "success_percent": 100.0 * good / len(results) if results else None,
        },
        "meta": {
            "expectation_suite_name": GX_SUITE,
            "active_batch_definition": {"batch": batch},
            "run_id": {"run_name": f"labelaudit check {batch}", "run_time": None},
            "validation_time": None,
            "producer": "labelaudit check --format gx",
            "notes": list(report.get("notes") or []),
        },
        "id": None,
    }
