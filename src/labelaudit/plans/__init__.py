"""Plans before data: pilot sample sizes, review sampling plans, gold allocation.

- :func:`plan_pilot` (:mod:`~labelaudit.plans.pilot`): items (and annotators) for an
  agreement CI of a target half-width; closed forms and simulation.
- :func:`plan_review` (:mod:`~labelaudit.plans.acceptance`): exact single and double
  acceptance sampling plans for a batch, their OC curve, and the MIL-STD-105E plan.
- :func:`draw_review_sample` and :func:`score_review` (:mod:`~labelaudit.plans.review`):
  a stratified review sample with inclusion weights and its Horvitz-Thompson error rate.
- :func:`plan_kappa` (:mod:`~labelaudit.plans.kappa`): items for a kappa study with a
  binary outcome (Donner & Eliasziw 1992 power / CI / fixed-n for 2-6 raters, Cantor 1996).
- :func:`plan_gold` (:mod:`~labelaudit.plans.gold`): gold questions per annotator, exact
  binomial and sequential (SPRT).

Every function returns a typed result with ``to_dict()`` (the JSON contract) and
``to_pandas()``. Formulas and references: ``docs/plans.md``.
"""

from __future__ import annotations

from labelaudit.plans.acceptance import (
    DoublePlan,
    ReviewPlan,
    SinglePlan,
    double_accept_probability,
    oc_curve,
    plan_review,
    single_accept_probability,
)
from labelaudit.plans.gold import GoldPlan, plan_gold
from labelaudit.plans.kappa import (
    KappaPlan,
    cantor_items,
    ci_items,
    fixed_n_lower,
    plan_kappa,
    power_items,
)
from labelaudit.plans.pilot import PilotPlan, plan_pilot, simulate_half_widths
from labelaudit.plans.review import ReviewScore, draw_review_sample, score_review

__all__ = [
    "DoublePlan",
    "GoldPlan",
    "KappaPlan",
    "PilotPlan",
    "ReviewPlan",
    "ReviewScore",
    "SinglePlan",
    "cantor_items",
    "ci_items",
    "double_accept_probability",
    "draw_review_sample",
    "fixed_n_lower",
    "oc_curve",
    "plan_gold",
    "plan_kappa",
    "plan_pilot",
    "plan_review",
    "power_items",
    "score_review",
    "simulate_half_widths",
    "single_accept_probability",
]
