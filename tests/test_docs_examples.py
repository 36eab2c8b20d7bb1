"""The example outputs in README.md and docs/*.md are what the code prints now.

``python -m labelaudit.docs_examples`` rewrites them; this test fails when a marked
example differs from the output of its command run today.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from labelaudit.docs_examples import DOCUMENTS, regenerate

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_examples_match_the_code(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    assert "<!-- example" in text, f"{name}: no generated example"
    assert regenerate(text, ROOT) == text, (
        f"{name}: examples are stale; run `python -m labelaudit.docs_examples`"
    )
