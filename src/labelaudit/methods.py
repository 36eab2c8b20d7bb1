"""Names shared by the library, the CLI and the reports: one list each.

Light on purpose (no numpy): the CLI builds its ``--method`` choices from here at start-up.
"""

from __future__ import annotations

__all__ = [
    "CATEGORICAL_METHODS",
    "CONSENSUS_METHODS",
    "DEFAULT_QUALITY_METHODS",
    "METRIC_ORDER",
]

#: Every ``labelaudit consensus --method`` name, in the order the docs list them. Each is
#: the ``cli_name`` of one aggregator class (:data:`labelaudit.consensus.api.METHODS`).
CONSENSUS_METHODS: tuple[str, ...] = (
    "majority",
    "weighted",
    "wawa",
    "dawid-skene",
    "one-coin",
    "glad",
    "mace",
    "label-model",
    "mean",
    "median",
    "trimmed-mean",
)
#: Categorical aggregators that need nothing but the table (weighted voting needs weights):
#: the ones the annotator, item and adjudication analyses can fit.
CATEGORICAL_METHODS: tuple[str, ...] = (
    "majority",
    "wawa",
    "dawid-skene",
    "one-coin",
    "glad",
    "mace",
)
#: Fitted by :func:`labelaudit.quality.annotator_report` unless told otherwise.
DEFAULT_QUALITY_METHODS: tuple[str, ...] = ("majority", "dawid-skene", "mace")

#: Agreement coefficients in the order of the JSON output, the tables and the charts.
METRIC_ORDER: tuple[str, ...] = (
    "percent_agreement",
    "krippendorff_alpha",
    "fleiss_kappa",
    "gwet_ac",
    "conger_kappa",
    "brennan_prediger",
    "cohen_kappa",
    "scott_pi",
)
