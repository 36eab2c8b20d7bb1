"""From guideline to platform: the Label Studio labelling config (XML) of a guideline."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from labelaudit.exceptions import UsageError
from labelaudit.guidelines.model import Guideline

__all__ = ["label_studio_config"]

#: Task type -> (object tag, control tag, child tag, choice mode).
_TAGS = {
    "categorical": ("Text", "Choices", "Choice", "single"),
    "multilabel": ("Text", "Choices", "Choice", "multiple"),
    "spans": ("Text", "Labels", "Label", ""),
    "boxes": ("Image", "RectangleLabels", "Label", ""),
    "polygons": ("Image", "PolygonLabels", "Label", ""),
    "keypoints": ("Image", "KeyPointLabels", "Label", ""),
}


def label_studio_config(
    guide: Guideline, *, data_field: str = "text", control: str = "label"
) -> str:
    """The ``<View>`` labelling config for the guideline's labels.

    Each label becomes a ``Choice`` (categorical, multilabel) or ``Label`` (spans, boxes,
    polygons, keypoints) whose ``value`` is the label code (what the data and labelaudit
    store) and whose ``hint`` (shown on hover in Label Studio) is the label's name and
    definition (or its ``hint`` when given). A ``Header`` carries the guideline's title and version.

    Parameters
    ----------
    guide : Guideline
    data_field : str
        Task-data field the object tag shows (``$text``).
    control : str
        Name of the control tag (the ``from_name`` of the results).

    Raises
    ------
    UsageError
        Task types without a Label Studio control here (ranking, text, pairwise,
        cuboids: Label Studio has no 3D cuboid control).
    """
    if guide.task not in _TAGS:
        raise UsageError(
            f"{guide.source}: task {guide.task!r} has no Label Studio config here; "
            f"expected one of {', '.join(_TAGS)}"
        )
    object_tag, control_tag, child_tag, choice = _TAGS[guide.task]
    view = ET.Element("View")
    title = guide.title or "Guidelines"
    ET.SubElement(view, "Header", {"value": f"{title} ({guide.version})"})
    source = "image" if object_tag == "Image" else "text"
    ET.SubElement(view, object_tag, {"name": source, "value": f"${data_field}"})
    attributes = {"name": control, "toName": source}
    if choice:
        attributes["choice"] = choice
        attributes["showInline"] = "true"
    parent = ET.SubElement(view, control_tag, attributes)
    for label in guide.labels:
        hint = label.hint or (
            f"{label.name}: {label.definition}" if label.definition else label.name
        )
        ET.SubElement(parent, child_tag, {"value": label.id, "hint": " ".join(hint.split())})
    ET.indent(view, space="  ")
    return ET.tostring(view, encoding="unicode") + "\n"
