"""Chart building blocks shared by every report: the public face of the drawing code.

Other packages draw their charts with these names (the drawing itself lives in
:mod:`labelaudit.report._charts`): :class:`Chart` (one SVG with its title and alt text),
:func:`new_figure` (a figure on an Agg canvas, no pyplot), :func:`chart_label` (a user
string made safe and short for a tick label) and :func:`draw_charts` (render a set of
drawing functions to checked, inert SVG).
"""

from __future__ import annotations

from labelaudit.report._charts import Chart, chart_label, draw_charts, is_inert_svg
from labelaudit.report._charts import _figure as new_figure

__all__ = ["Chart", "chart_label", "draw_charts", "is_inert_svg", "new_figure"]
