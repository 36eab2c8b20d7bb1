"""Wawa: worker agreement with aggregate (majority vote re-weighted by agreement)."""

from __future__ import annotations

import numpy as np

from labelaudit.consensus._base import TIE_RULES, Aggregator, Codes, Gold, TieRule, check_choice
from labelaudit.consensus.majority import agreement_with, weighted_vote

__all__ = ["Wawa"]


class Wawa(Aggregator):
    """Worker Agreement With Aggregate (as crowd-kit's ``Wawa``).

    1. majority vote; 2. each annotator's skill = fraction of their labels equal to the
    majority label (abstained items skipped); 3. majority vote weighted by the skills.

    Parameters
    ----------
    tie : {"random", "abstain"}
        Tie rule of both votes (see :class:`MajorityVote`).
    random_state : int
        Seed of the tie draws.

    Attributes
    ----------
    labels_, probas_, confidence_
        Of the weighted vote (``probas_`` = weighted vote shares).
    skills_ : ndarray, shape (n_annotators,)
        Agreement with the first majority vote (0 when it has no decided item).
    confusions_ : ndarray, shape (n_annotators, q, q)
        Final consensus (row) x given label (column), rows normalised.
    """

    cli_name = "wawa"

    def __init__(self, tie: TieRule = "random", random_state: int = 0) -> None:
        self.tie = tie
        self.random_state = random_state

    def _check_params(self) -> None:
        check_choice(self, "tie", self.tie, TIE_RULES)

    def _fit(self, codes: Codes, gold: Gold | None) -> None:
        _, first = weighted_vote(codes, None, self.tie, self.random_state, gold)
        skills, _ = agreement_with(codes, first)
        self.skills_ = np.nan_to_num(skills, nan=0.0)
        self.probas_, self.labels_ = weighted_vote(
            codes, self.skills_, self.tie, self.random_state, gold
        )
        _, self.confusions_ = agreement_with(codes, self.labels_)
