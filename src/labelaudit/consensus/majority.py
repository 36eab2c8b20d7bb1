"""Majority vote and weighted majority vote, with an explicit, seeded tie rule."""

from __future__ import annotations

import numpy as np

from labelaudit.consensus._base import (
    TIE_RULES,
    Aggregator,
    Codes,
    Gold,
    TieRule,
    check_choice,
    row_max,
    tie_winners,
    vote_counts,
)
from labelaudit.exceptions import InputError, UsageError
from labelaudit.table import AnnotationTable, code_counts, code_type, narrow_codes

__all__ = [
    "MajorityVote",
    "WeightedMajorityVote",
    "agreement_with",
    "annotator_weights",
    "gold_accuracy",
    "vote_shares",
    "vote_ties",
    "vote_winners",
    "weighted_vote",
]


def agreement_with(codes: Codes, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-annotator agreement with reference labels and the confusion against them.

    Parameters
    ----------
    codes : Codes
    reference : ndarray of int64, shape (n_items,)
        Reference category per item; -1 (abstained) items are skipped.

    Returns
    -------
    skills : ndarray, shape (n_annotators,)
        Fraction of the annotator's labels equal to the reference (NaN: none compared).
    confusions : ndarray, shape (n_annotators, q, q)
        Row = reference category, column = given label, rows sum to 1 (NaN rows where the
        annotator labelled no item of that reference category).
    """
    q, n_annotators = codes.n_categories, codes.n_annotators
    # key (annotator, reference + 1, label) of each row in the narrowest type, the
    # reference repeated per item (rows are in item order): -1 (abstained) lands in
    # slot 0, dropped below, so no row is filtered out and no int64 array is built
    size = n_annotators * (q + 1) * q
    key = codes.annotator_small.astype(code_type(size))
    key *= q + 1
    key += codes.item_values(narrow_codes(reference, q + 1))
    key += 1
    key *= q
    key += codes.label_small
    counts = code_counts(key, size).reshape(n_annotators, q + 1, q)[:, 1:, :]
    counts = counts.astype(np.float64)
    totals = counts.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        confusions = counts / totals[:, :, None]
        skills = np.trace(counts, axis1=1, axis2=2) / totals.sum(axis=1)
    return skills, confusions


def weighted_vote(
    codes: Codes,
    weights: np.ndarray | None,
    tie: str,
    random_state: int,
    gold: Gold | None,
    counts: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Vote shares and winners of a (weighted) vote.

    Parameters
    ----------
    codes : Codes
    weights : ndarray, shape (n_annotators,), or None
        Weight of each annotator's vote (None = 1 each).
    tie : {"random", "abstain"}
        Tie rule (:func:`labelaudit.consensus._base.break_ties`).
    random_state : int
        Seed of the tie draws.
    gold : Gold or None
        Gold items take their gold label.
    counts : ndarray of int, shape (n_items, q), optional
        The items' category counts when already built (the table's
        :meth:`~labelaudit.table.AnnotationTable.to_item_category_counts`, shared with
        the agreement figures): the vote totals when ``weights`` is None.

    Returns
    -------
    probas : ndarray, shape (n_items, q)
        Weighted vote shares; uniform for an item whose annotators all weigh 0.
    labels : ndarray of int64, shape (n_items,)
        Winning category; -1 for an abstained tie.
    """
    totals = vote_counts(codes, weights) if weights is not None or counts is None else counts
    probas, labels = vote_winners(totals, tie, np.random.default_rng(random_state))
    if gold is not None:
        labels[gold.items] = gold.labels
    return probas, labels


def vote_winners(
    scores: np.ndarray, tie: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Vote shares (n, q) and winners (n,) of item x category vote totals ``scores``.

    An item whose totals are all 0 gets uniform shares. ``rng`` draws the random ties:
    the rows of ``scores`` are items ``start .. start + n`` of a table when ``rng`` has
    been advanced by ``start * q`` draws (how the Spark engine finishes item by item).
    """
    probas, labels, _ = vote_ties(scores, tie, rng)
    return probas, labels


def vote_ties(
    scores: np.ndarray, tie: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`vote_winners` and which items tied, (probas, labels, tied).

    ``scores`` (n, q) are vote totals, integer counts (read as they are: no float copy)
    or weighted floats; ``tied`` (n,) bool marks the items whose largest shares tie
    (:func:`~labelaudit.consensus._base.tie_winners`), before the tie rule.
    """
    probas = vote_shares(scores, scores.sum(axis=1))
    labels, tied = tie_winners(probas, tie, rng)
    return probas, labels, tied


def vote_shares(scores: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Vote shares (n, q) of vote totals ``scores`` (n, q) whose rows sum to ``totals``
    (n,); uniform shares for an item whose totals are all 0."""
    empty = ~(totals > 0)
    probas = scores / np.where(empty, 1.0, totals)[:, None]
    if bool(empty.any()):
        probas[empty] = 1.0 / scores.shape[1]
    return probas


def gold_accuracy(codes: Codes, gold: Gold) -> np.ndarray:
    """Accuracy of each annotator on the gold items, shape (n_annotators,).

    Annotators with no label on a gold item get the mean accuracy of those with one.

    Raises
    ------
    UsageError
        No annotator labelled any gold item.
    """
    truth = np.full(codes.n_items, -1, dtype=np.int64)
    truth[gold.items] = gold.labels
    skills, _ = agreement_with(codes, truth)
    known = np.isfinite(skills)
    if not bool(known.any()):
        raise UsageError("no annotator labelled a gold item: cannot derive weights from gold")
    return np.where(known, skills, float(skills[known].mean()))


class MajorityVote(Aggregator):
    """Majority vote: each item takes its most frequent label.

    Parameters
    ----------
    tie : {"random", "abstain"}
        What a tie between the most frequent labels does. ``"random"``: one of the tied
        categories, drawn uniformly with ``random_state`` (reproducible; unlike
        crowd-kit, which always takes the first category in sorted order).
        ``"abstain"``: the item gets no label (``labels_ == -1``), for adjudication.
    random_state : int
        Seed of the tie draws.

    Attributes
    ----------
    labels_ : ndarray of int64, shape (n_items,)
        Winning category code; -1 for an abstained tie.
    probas_ : ndarray, shape (n_items, q)
        Vote shares (rows sum to 1).
    confidence_ : ndarray, shape (n_items,)
        Winning vote share.
    skills_ : ndarray, shape (n_annotators,)
        Agreement of each annotator with the consensus (abstained items skipped; NaN if
        none left).
    confusions_ : ndarray, shape (n_annotators, q, q)
        Consensus category (row) x given label (column), rows normalised.
    tied_ : ndarray of bool, shape (n_items,)
        Items whose most frequent labels tie (before the tie rule; False on gold items):
        with ``tie="random"`` the items :func:`labelaudit.quality.consensus_ties` finds.
    """

    cli_name = "majority"

    def __init__(self, tie: TieRule = "random", random_state: int = 0) -> None:
        self.tie = tie
        self.random_state = random_state

    def _check_params(self) -> None:
        check_choice(self, "tie", self.tie, TIE_RULES)

    def _annotator_weights(self, codes: Codes, gold: Gold | None) -> np.ndarray | None:
        return None

    def _prepare(self, table: AnnotationTable) -> None:
        # the table's counts (int64 and narrow) and sizes: built once per table, shared,
        # not kept on the fitted estimator beyond the shares it has not built yet
        self._votes = (
            table.to_item_category_counts(),
            table.to_item_category_counts(narrow=True),
            table.ratings_per_item(),
        )

    def _fit(self, codes: Codes, gold: Gold | None) -> None:
        weights = self._annotator_weights(codes, gold)
        votes = self.__dict__.pop("_votes", None)
        rng = np.random.default_rng(self.random_state)
        if weights is None and votes is not None:
            self._count_vote(votes, rng, gold)
        else:
            totals = vote_counts(codes, weights)
            self.probas_, self.labels_, self.tied_ = vote_ties(totals, self.tie, rng)
        if gold is not None:  # gold items take their gold label: no tie left there
            self.labels_[gold.items] = gold.labels
            self.tied_[gold.items] = False
        self.skills_, self.confusions_ = agreement_with(codes, self.labels_)

    def _count_vote(
        self,
        votes: tuple[np.ndarray, np.ndarray, np.ndarray],
        rng: np.random.Generator,
        gold: Gold | None,
    ) -> None:
        """The vote of the table's counts, as :func:`vote_ties` gives it: ties found on
        the narrow counts (equal counts are exactly the equal shares: two shares of one
        item differ by at least 1 / its labels, far beyond ``TIE_RTOL``), the winning
        share from the largest count, the shares built only when ``probas_`` is read."""
        counts, small, totals = votes
        self.labels_, self.tied_ = tie_winners(small, self.tie, rng)
        self._shares = (counts, totals)
        if gold is None:  # gold items are clamped after the fit: their share is the base's
            empty = ~(totals > 0)
            confidence = row_max(small) / np.where(empty, 1.0, totals)
            confidence[empty] = 1.0 / counts.shape[1]
            self._vote_confidence = confidence  # = row_max(probas_), rounding is monotone

    @property
    def probas_(self) -> np.ndarray:
        """Vote shares, shape (n_items, q) (see the class), built on first read."""
        shares = self.__dict__.pop("_shares", None)
        if shares is not None:
            self.__dict__["_probas"] = vote_shares(*shares)
        try:
            probas: np.ndarray = self.__dict__["_probas"]
        except KeyError:
            raise AttributeError("probas_") from None
        return probas

    @probas_.setter
    def probas_(self, value: np.ndarray) -> None:
        self.__dict__.pop("_shares", None)
        self.__dict__["_probas"] = value

    def _confidence(self) -> np.ndarray:
        known = self.__dict__.pop("_vote_confidence", None)
        return known if known is not None else super()._confidence()


class WeightedMajorityVote(MajorityVote):
    """Weighted majority vote: each annotator's vote counts with a weight.

    Parameters
    ----------
    weights : dict of str to float, optional
        Weight of each annotator (name -> weight >= 0). Names the table does not have are
        ignored; every annotator of the table needs one. If omitted, the weights are the
        annotators' accuracies on the ``gold`` items passed to ``fit`` (annotators with
        no gold label get the mean of the others).
    tie, random_state
        As in :class:`MajorityVote`.

    Attributes
    ----------
    weights_ : ndarray, shape (n_annotators,)
        The weights used, by annotator code.
    labels_, probas_, confidence_, skills_, confusions_, tied_
        As in :class:`MajorityVote`; ``probas_`` are weighted vote shares (uniform for an
        item whose annotators all weigh 0), ``tied_`` the items whose top shares tie.
    """

    cli_name = "weighted"

    def __init__(
        self,
        weights: dict[str, float] | None = None,
        tie: TieRule = "random",
        random_state: int = 0,
    ) -> None:
        self.weights = weights
        self.tie = tie
        self.random_state = random_state

    def _prepare(self, table: AnnotationTable) -> None:
        self._annotator_names = table.annotators

    def _annotator_weights(self, codes: Codes, gold: Gold | None) -> np.ndarray:
        if self.weights is None:
            if gold is None:
                raise UsageError(
                    "WeightedMajorityVote needs weights (weights={annotator: weight}) or "
                    "gold labels to derive them from (fit(table, gold=...))"
                )
            self.weights_ = gold_accuracy(codes, gold)
            return self.weights_
        self.weights_ = annotator_weights(self._annotator_names, self.weights)
        return self.weights_


def annotator_weights(annotators: np.ndarray, weights: dict[str, float]) -> np.ndarray:
    """Weights by annotator code from a ``{name: weight}`` mapping.

    Raises
    ------
    InputError
        An annotator of the table has no weight, or a weight is negative or not finite.
    """
    names = np.array([str(k) for k in weights], dtype=object).astype(str)
    values = np.array([float(v) for v in weights.values()], dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        raise InputError(
            "invalid annotator weight",
            source="weights",
            field=str(names[bad[0]]),
            expected="a finite number >= 0",
            actual=float(values[bad[0]]),
        )
    order = np.argsort(names, kind="stable")
    wanted = annotators.astype(str)
    position = np.clip(np.searchsorted(names[order], wanted), 0, max(names.size - 1, 0))
    found = names[order][position] == wanted if names.size else np.zeros(wanted.size, bool)
    if not bool(found.all()):
        missing = wanted[~found]
        raise InputError(
            "annotator without a weight",
            source="weights",
            field="annotator",
            expected="a weight for every annotator of the table",
            actual=f"{missing[0]} ({missing.size} missing)",
            hint="add the missing annotators to the weights",
        )
    return values[order[position]]
