"""Which unit Label Studio 1.23.2's editor counts span offsets in, checked in Chromium.

A person's selection is reproduced with the mouse: log in, open the task, pick the
``LOC`` label, drag over "Houston" in a text that starts with an emoji (a character outside
the Basic Multilingual Plane, 2 UTF-16 code units), submit; then read the annotation back
through the API. Code-point offsets give (14, 21), UTF-16 offsets would give (15, 22).
"""

from __future__ import annotations

from typing import Any

import pytest

from browser import browser  # noqa: F401  (session fixture)
from ls_harness import ADMIN, LabelStudio, label_studio  # noqa: F401  (session fixture)
from ls_seed import NER_CONFIG

pytestmark = [pytest.mark.label_studio, pytest.mark.browser]

TEXT = "🚀 Apollo left Houston for the Moon."
WORD = "Houston"
_FIND = """word => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  let node;
  while ((node = walker.nextNode())) {
    const at = node.data.indexOf(word);
    if (at < 0 || !node.parentElement.closest('[class*="lsf-richtext"]')) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + word.length);
    const box = range.getBoundingClientRect();
    found.push({x: box.left, y: box.top, w: box.width, h: box.height});
  }
  return found;
}"""


def _label_by_hand(page: Any, ls: LabelStudio, project: int, task: int) -> None:
    page.goto(f"{ls.url}/user/login/")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", ls.password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{ls.url}/projects/{project}/data?task={task}")
    page.get_by_text("LOC", exact=True).first.wait_for(timeout=60_000)
    page.get_by_text("LOC", exact=True).first.click()
    page.wait_for_function(f"() => ({_FIND})({WORD!r}).length > 0", timeout=60_000)
    [box] = page.evaluate(_FIND, WORD)
    y = box["y"] + box["h"] / 2
    page.mouse.move(box["x"] + 1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["w"] - 1, y, steps=5)
    page.mouse.up()
    page.get_by_role("button", name="Submit").click()


def test_editor_writes_code_point_offsets(
    label_studio: LabelStudio,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    ls = label_studio
    project = ls.create_project("offsets", NER_CONFIG)
    [task] = ls.import_tasks(project, [{"data": {"text": TEXT}}])
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        page = context.new_page()
        _label_by_hand(page, ls, project, task)
        page.wait_for_function(
            "async url => (await (await fetch(url)).json()).annotations.length > 0",
            arg=f"{ls.url}/api/tasks/{task}",
            timeout=60_000,
        )
    finally:
        context.close()
    [annotation] = ls.api("GET", f"/api/tasks/{task}")["annotations"]
    [region] = annotation["result"]
    value = region["value"]
    assert (value["start"], value["end"], value["text"]) == (14, 21, WORD)
    assert TEXT[value["start"] : value["end"]] == WORD  # code points, not UTF-16 units
    assert len(TEXT[:14].encode("utf-16-le")) // 2 == 15
