"""An LLM-judge rubric from a guideline: the same definitions and edge cases as humans get."""

from __future__ import annotations

from collections.abc import Sequence

from labelaudit.exceptions import UsageError
from labelaudit.guidelines.model import Guideline

__all__ = ["judge_from_guideline", "rubric_text"]


def rubric_text(guide: Guideline) -> str:
    """The rubric: task, each label with its definition and examples, every rule (section)
    with its id and text, as plain text."""
    parts = [f"{guide.title or 'Annotation guideline'} (guideline {guide.version})", ""]
    parts.append("Labels (answer with the label code):")
    for label in guide.labels:
        parts.append(f"- {label.id}: {label.name}. {label.definition}".rstrip())
        for example in label.examples:
            if example.text:
                kind = "example" if example.kind == "positive" else "counter-example"
                parts.append(f"  {kind}: {example.text} -> {example.expected}")
    if guide.sections:
        parts += ["", "Rules and edge cases:"]
        for section in guide.sections:
            parts.append(f"[{section.id}] {section.title}")
            if section.text:
                parts.append(section.text)
    return "\n".join(parts).strip() + "\n"


def judge_from_guideline(
    guide: Guideline,
    *,
    model: str,
    base_url: str,
    fields: Sequence[str] = ("text",),
    name: str | None = None,
) -> str:
    """A ``label``-mode judge TOML whose prompt carries the guideline's rubric.

    The rubric is kept verbatim inside ``{% raw %}`` (guideline text is never run as
    template code); the item's DATA ``fields`` follow it, each in its own tags.
    Categories are the guideline's label codes. Written by
    :func:`labelaudit.judge.writer.judge_toml`, which validates it.
    """
    from labelaudit.judge.writer import judge_toml

    if guide.task != "categorical":
        raise UsageError(f"{guide.source}: judge init supports categorical guidelines only")
    if not fields:
        raise UsageError("--field: name at least one DATA field of the items")
    rubric = rubric_text(guide).replace("{% endraw %}", "{ % endraw % }")
    shown = "\n".join(f"<{f}>{{{{ {f} }}}}</{f}>" for f in fields)
    template = (
        "{% raw %}" + rubric + "{% endraw %}\n"
        "Label the item below by these rules. Apply the rules in order; cite none.\n" + shown + "\n"
    )
    return judge_toml(
        {
            "name": name or f"guideline-{guide.version}",
            "mode": "label",
            "model": model,
            "base_url": base_url,
            "categories": list(guide.label_ids),
            "template": template,
            "params": {"temperature": 0},
        },
        comment=(
            f"LLM judge written by `labelaudit judge init --from-guidelines {guide.source}`\n"
            f"from guideline version {guide.version}: the same definitions and edge cases as\n"
            "the annotators. Edit model and base_url; the API key is read from OPENAI_API_KEY."
        ),
        source=f"judge from {guide.source}",
    )
