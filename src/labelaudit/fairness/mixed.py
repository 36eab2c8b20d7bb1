"""Mixed-model cross-check of group effects: statsmodels MixedLM (optional dependency).

``rating ~ C(group, Treatment(reference)) + (1 | item)``, fitted by REML with one random
intercept per item (``groups = item``). This is the model of the published POPQUORN
analysis; it treats ratings of one rater as independent, so its standard errors are too
small when raters give many ratings (use the offsets' two-way bootstrap for inference).
Crossed item + rater random effects (``vc_formula`` over one all-covering group) are
possible in statsmodels but build dense (ratings x levels) design blocks: on POPQUORN
(13,036 ratings, 1,762 levels) the fit did not finish in 15 minutes here, so it is not
offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.fairness.attributes import Grouping
from labelaudit.table import AnnotationTable

__all__ = ["MixedEffect", "mixed_model"]


@dataclass(frozen=True)
class MixedEffect:
    """One group's fixed effect against the reference group."""

    by: str
    group: str
    reference: str
    estimate: float
    se: float
    ci95: tuple[float, float]
    p: float
    model: str

    def to_dict(self) -> dict[str, Any]:
        """``{"by", "group", "reference", "estimate", "se", "ci95", "p", "model"}``."""
        return {**self.__dict__, "ci95": list(self.ci95)}


def mixed_model(
    table: AnnotationTable,
    grouping: Grouping,
    reference: str,
    *,
    covariates: tuple[Grouping, ...] = (),
) -> list[MixedEffect]:
    """Fit ``rating ~ group (+ covariates) + (1 | item)`` with statsmodels MixedLM (REML).

    Parameters
    ----------
    table : AnnotationTable
    grouping : Grouping
        An annotator attribute; its groups become treatment-coded fixed effects.
    reference : str
        The reference group (its effect is 0).
    covariates : tuple of Grouping
        Further annotator attributes adjusted for (e.g. gender and education), each with
        its most frequent group as reference.

    Returns
    -------
    list of MixedEffect
        One per non-reference group of ``grouping``, Wald 95% interval.

    Raises
    ------
    UsageError
        statsmodels or pandas not installed, or not an annotator attribute.
    """
    try:
        import pandas as pd
        import statsmodels.formula.api as smf
    except ImportError as error:  # pragma: no cover - both are dev dependencies
        raise UsageError(
            "the mixed model needs statsmodels and pandas: pip install statsmodels"
        ) from error
    if grouping.kind != "annotator" or any(c.kind != "annotator" for c in covariates):
        raise UsageError("the mixed model takes annotator attributes only")
    if reference not in grouping.names:
        raise UsageError(f"reference {reference!r} is not a group of {grouping.by!r}")
    frame = pd.DataFrame({"rating": table.values, "item": table.item_codes})
    terms = []
    for index, attribute in enumerate((grouping, *covariates)):
        # group names never enter the formula (patsy evaluates it): codes "c0", "c1", ...
        codes = attribute.codes[table.annotator_codes]
        frame[f"g{index}"] = np.char.add("c", codes.astype(str))
        base = grouping.names.index(reference) if index == 0 else np.bincount(codes).argmax()
        terms.append(f"C(g{index}, Treatment('c{base}'))")
    formula = "rating ~ " + " + ".join(terms)
    shown = "rating ~ " + " + ".join(a.by for a in (grouping, *covariates))
    fit = smf.mixedlm(formula, frame, groups=frame["item"]).fit(reml=True)
    conf = fit.conf_int()
    prefix = f"{terms[0]}[T."
    return [
        MixedEffect(
            by=grouping.by,
            group=grouping.names[int(key[len(prefix) + 1 : -1])],
            reference=reference,
            estimate=float(fit.params[key]),
            se=float(fit.bse[key]),
            ci95=(float(conf.loc[key, 0]), float(conf.loc[key, 1])),
            p=float(fit.pvalues[key]),
            model=f"statsmodels MixedLM (REML): {shown} + (1 | item)",
        )
        for key in fit.params.index
        if key.startswith(prefix)
    ]
