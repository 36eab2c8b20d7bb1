"""Annotation guidelines as versioned files: parse, check, diff, platform config, rules
behind disagreements, before/after comparison of a revision and calibration rounds.

The file format (Markdown with a TOML front matter) is described in
:mod:`labelaudit.guidelines.model` and docs/guidelines.md; its JSON schema ships as
``guideline.schema.json`` beside this module.
"""

from __future__ import annotations

from labelaudit.guidelines.check import (
    GuidelineCheck,
    GuidelineDiff,
    check_guideline,
    diff_guidelines,
    previous_from_git,
)
from labelaudit.guidelines.model import (
    SCHEMA_PATH,
    Confusion,
    Example,
    Guideline,
    GuidelineLabel,
    GuidelineSection,
    parse_guideline,
    read_guideline,
)
from labelaudit.guidelines.platform import label_studio_config
from labelaudit.guidelines.rules import mentioned_labels, rules_for_confusions, sections_for_pair

__all__ = [
    "SCHEMA_PATH",
    "Confusion",
    "Example",
    "Guideline",
    "GuidelineCheck",
    "GuidelineDiff",
    "GuidelineLabel",
    "GuidelineSection",
    "check_guideline",
    "diff_guidelines",
    "label_studio_config",
    "mentioned_labels",
    "parse_guideline",
    "previous_from_git",
    "read_guideline",
    "rules_for_confusions",
    "sections_for_pair",
]
