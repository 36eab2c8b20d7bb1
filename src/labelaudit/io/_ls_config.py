"""Label Studio labelling configs (the ``<View>`` XML): controls, their labels and inputs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from labelaudit.exceptions import InputError

__all__ = ["Control", "LabelConfig", "parse_label_config"]

#: Control tags whose results labelaudit maps (lower-case tag = result ``type``).
_LABELLED = {"labels", "rectanglelabels", "polygonlabels", "keypointlabels"}
_CHOICE = {"choices", "taxonomy"}


@dataclass(frozen=True)
class Control:
    """One control tag: name, type (lower-case tag), declared labels, input objects."""

    name: str
    type: str
    labels: tuple[str, ...] = ()
    to_name: tuple[str, ...] = ()
    multiple: bool = False
    max_rating: int | None = None
    path_separator: str = "/"


@dataclass(frozen=True)
class LabelConfig:
    """Controls by name and the data field each object tag shows (``$text`` -> ``text``)."""

    controls: dict[str, Control] = field(default_factory=dict)
    objects: dict[str, str] = field(default_factory=dict)

    def data_field(self, object_name: str) -> str | None:
        """The task-data field an object tag displays, or None."""
        return self.objects.get(object_name)


def _taxonomy_paths(node: ET.Element, prefix: tuple[str, ...], sep: str) -> list[str]:
    paths: list[str] = []
    for child in node:
        if child.tag.lower() != "choice":
            continue
        value = child.get("value") or child.get("alias") or ""
        path = (*prefix, value)
        paths.append(sep.join(path))
        paths.extend(_taxonomy_paths(child, path, sep))
    return paths


def _control(element: ET.Element) -> Control | None:
    tag = element.tag.lower()
    name = element.get("name")
    if name is None or not element.get("toName"):
        return None
    to_name = tuple(t.strip() for t in (element.get("toName") or "").split(",") if t.strip())
    labels: tuple[str, ...] = ()
    sep = element.get("pathSeparator") or "/"
    if tag in _LABELLED:
        labels = tuple(
            (child.get("value") or child.get("alias") or "")
            for child in element.iter()
            if child.tag.lower() == "label"
        )
    elif tag == "choices":
        labels = tuple(
            (child.get("value") or child.get("alias") or "")
            for child in element.iter()
            if child.tag.lower() == "choice"
        )
    elif tag == "taxonomy":
        labels = tuple(_taxonomy_paths(element, (), sep))
    max_rating = None
    if tag == "rating":
        max_rating = int(element.get("maxRating") or 5)
        labels = tuple(str(i) for i in range(1, max_rating + 1))
    multiple = tag in _CHOICE and (element.get("choice") or "single") == "multiple"
    return Control(name, tag, labels, to_name, multiple, max_rating, sep)


def parse_label_config(config: str | Path) -> LabelConfig:
    """Parse a Label Studio labelling config.

    Parameters
    ----------
    config : str or Path
        The XML text (``<View>...</View>``) or a path to a file holding it.

    Returns
    -------
    LabelConfig
        Control tags (Choices, Labels, RectangleLabels, Rating, Pairwise, Taxonomy,
        TextArea, Ranker, ...) by name with their declared labels in config order, and
        the data field each object tag (Text, Image, ...) displays.

    Raises
    ------
    InputError
        The file cannot be read or is not well-formed XML.
    """
    text = str(config)
    source = "<label config>"
    if not text.lstrip().startswith("<"):
        path = Path(text)
        source = str(path)
        if not path.is_file():
            raise InputError(
                "label config not found", source=source, expected="an XML file", actual=text
            )
        text = path.read_text(encoding="utf-8")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        raise InputError(
            "malformed label config",
            source=source,
            line=error.position[0],
            expected="well-formed <View> XML",
            actual=str(error),
        ) from None
    controls: dict[str, Control] = {}
    objects: dict[str, str] = {}
    for element in root.iter():
        value = element.get("value") or ""
        name = element.get("name")
        if name and value.startswith("$") and not element.get("toName"):
            objects[name] = value[1:]
            continue
        control = _control(element)
        if control is not None:
            controls[control.name] = control
    return LabelConfig(controls, objects)
