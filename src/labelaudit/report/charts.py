"""Chart drawing shared by every page: one style, inline SVG, labels never cut, SVG safety.

The public home of the chart helpers (other packages import these, never
``labelaudit.report._charts``) and of the preference and judge audit charts:

- :func:`draw_charts` draws ``(key, caption, draw)`` triples in the shared style and
  keeps each SVG only if :func:`is_inert_svg` holds.
- :func:`bradley_terry_chart`, :func:`position_bias_chart`, :func:`length_bias_chart`
  take the dicts of :mod:`labelaudit.preferences` (or their result objects) and return
  one ``<svg>`` as text, or None when there is nothing to draw.
"""

from __future__ import annotations

from labelaudit.report._audit_charts import (
    audit_charts,
    bradley_terry_chart,
    length_bias_chart,
    position_bias_chart,
)
from labelaudit.report._charts import (
    Chart,
    add_key,
    chart_label,
    draw_charts,
    fit_labels,
    is_inert_svg,
    label_values,
    new_figure,
    outside_legend,
    rows_height,
    set_labels,
    text_color,
)

__all__ = [
    "Chart",
    "add_key",
    "audit_charts",
    "bradley_terry_chart",
    "chart_label",
    "draw_charts",
    "fit_labels",
    "is_inert_svg",
    "label_values",
    "length_bias_chart",
    "new_figure",
    "outside_legend",
    "position_bias_chart",
    "rows_height",
    "set_labels",
    "text_color",
]
