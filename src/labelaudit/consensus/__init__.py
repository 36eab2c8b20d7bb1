"""Consensus labels and annotator quality: aggregators in scikit-learn style.

Every aggregator takes an :class:`~labelaudit.table.AnnotationTable` in ``fit(table,
gold=None)`` and learns ``labels_`` (category codes, -1 = abstained), ``probas_``
(n_items x q posterior or vote shares), ``confidence_``, per-annotator quality
(``skills_``, ``confusions_``) and, for EM models, ``n_iter_``, ``converged_`` and
``log_likelihood_``. ``consensus_table`` turns a fit into the per-item output table.
"""

from __future__ import annotations

from labelaudit.consensus._base import Aggregator, Codes
from labelaudit.consensus._result import ConsensusResult, consensus_table
from labelaudit.consensus.dawid_skene import DawidSkene, OneCoinDawidSkene
from labelaudit.consensus.glad import GLAD
from labelaudit.consensus.mace import MACE
from labelaudit.consensus.majority import MajorityVote, WeightedMajorityVote
from labelaudit.consensus.numeric import MeanAggregator, MedianAggregator, TrimmedMeanAggregator
from labelaudit.consensus.wawa import Wawa

__all__ = [
    "GLAD",
    "MACE",
    "Aggregator",
    "Codes",
    "ConsensusResult",
    "DawidSkene",
    "MajorityVote",
    "MeanAggregator",
    "MedianAggregator",
    "OneCoinDawidSkene",
    "TrimmedMeanAggregator",
    "Wawa",
    "WeightedMajorityVote",
    "consensus_table",
]
