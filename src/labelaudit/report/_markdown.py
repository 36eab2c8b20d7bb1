"""Markdown escaping: the one Markdown escaping function (tables and text are laid out by
the document renderers, :mod:`labelaudit.report.document`)."""

from __future__ import annotations

import re

__all__ = ["escape_markdown"]

_NEWLINES = re.compile(r"\r\n|\r|\n|\u2028|\u2029")
_SPECIALS = re.compile(r"([\\`*_\[\]|~$])")


def escape_markdown(value: str) -> str:
    """Make user content inert inside a GFM table cell or a line of Markdown text.

    ``&``, ``<`` and ``>`` become HTML entities (so no renderer sees markup), Markdown
    punctuation that could start emphasis, code, links, math or a new table cell gets a
    backslash, and line breaks become ``<br>``.

    Parameters
    ----------
    value : str
        Untrusted text (item id, annotator name, label, file name, reason).

    Returns
    -------
    str
        Text that renders as the original characters, on one line.

    Examples
    --------
    >>> escape_markdown("a|b <i>")
    'a\\\\|b &lt;i&gt;'
    """
    out = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = _SPECIALS.sub(r"\\\1", out)
    return _NEWLINES.sub("<br>", out)
