"""Token-level agreement of span annotations: every token of an item becomes a unit.

Tokens of an item come from the optional ``tokens`` column (``list<struct<start, end>>``,
character offsets, end exclusive; e.g. Prodigy), else from splitting the ``text`` column
on whitespace (``str.split()`` semantics: maximal runs of non-whitespace code points).
Items with neither are left out (``n_items_without_tokens``).

Each annotator's label of a token is the label of the span covering it (a span covers a
token when their ranges intersect); a token covered by several spans of one annotator
takes the label of the first span in (start, end, label) order; an uncovered token gets
``O``. Krippendorff's alpha (nominal) and Fleiss' kappa are then computed on the token x
label count matrix with :mod:`labelaudit.agreement` - exactly the categorical coefficients
on the expanded (token, annotator, label) table. Their analytic SEs treat tokens as
independent units; ``ci="bootstrap"`` resamples whole documents instead.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.agreement.alpha import alpha_from_counts, krippendorff_alpha
from labelaudit.agreement.chance import chance_corrected, family_values
from labelaudit.intervals import bootstrap_item_weights
from labelaudit.results import MetricResult
from labelaudit.structured._explode import explode, numbers, run_offsets
from labelaudit.structured._ratio import percentile_result
from labelaudit.structured.spans import SpanData
from labelaudit.table.table import AnnotationTable

__all__ = ["MAX_TOKEN_CELLS", "token_agreement", "token_counts", "whitespace_tokens"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

#: Largest token x label count matrix built (cells); above it the token metrics are null.
MAX_TOKEN_CELLS = 50_000_000
_SHIFT = np.int64(32)


@lru_cache(maxsize=1)
def _spaces() -> npt.NDArray[np.uint32]:
    return np.array([c for c in range(0x3001) if chr(c).isspace()], dtype=np.uint32)


def whitespace_tokens(texts: list[str]) -> tuple[I64, I64, I64]:
    """Whitespace tokens of every text: (text index, start, end), code-point offsets."""
    if not texts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    joined = "".join(texts).encode("utf-32-le", errors="surrogatepass")
    points = np.frombuffer(joined, dtype="<u4")
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    text_start = np.cumsum(lengths) - lengths
    owner = np.repeat(np.arange(len(texts)), lengths)
    word = ~np.isin(points, _spaces())
    boundary = np.zeros(points.size, dtype=bool)
    boundary[text_start[lengths > 0]] = True
    prev_word = np.concatenate([[False], word[:-1]]) & ~boundary
    next_boundary = np.concatenate([boundary[1:], [True]])
    next_word = np.concatenate([word[1:], [False]]) & ~next_boundary
    starts = np.flatnonzero(word & ~prev_word)
    ends = np.flatnonzero(word & ~next_word) + 1
    which = owner[starts]
    return which, starts - text_start[which], ends - text_start[which]


def _item_tokens(table: AnnotationTable) -> tuple[I64, I64, I64]:
    """(item, start, end) of every token, sorted by (item, start); one source row per item."""
    names = table.data.column_names
    for column in ("tokens", "text"):
        if column not in names:
            continue
        valid = pc.is_valid(table.data.column(column)).to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(valid)
        items, first = np.unique(table.item_codes[rows], return_index=True)
        if items.size == 0:
            continue
        source = table.data.column(column).take(pa.array(rows[first]))
        if column == "tokens":
            parent, values = explode(source)
            start = numbers(values, "start").astype(np.int64)
            end = numbers(values, "end").astype(np.int64)
            item = items[parent]
        else:
            which, start, end = whitespace_tokens([str(t) for t in source.to_pylist()])
            item = items[which]
        order = np.lexsort((start, item))
        return item[order], np.asarray(start[order], np.int64), np.asarray(end[order], np.int64)
    empty = np.zeros(0, dtype=np.int64)
    return empty, empty, empty


def token_counts(table: AnnotationTable, d: SpanData) -> tuple[F64, I64, dict[str, Any]] | str:
    """Token x label counts (n_tokens, L + 1), the document of each token, and facts.

    Column 0 is ``O``; column k + 1 is label k. A string (the reason) when no item has
    tokens or the matrix would exceed :data:`MAX_TOKEN_CELLS`.
    """
    item, start, end = _item_tokens(table)
    if item.size == 0:
        return "no tokens: the table has no text or tokens column"
    n_tok, q = item.size, d.labels.size + 1
    if n_tok * q > MAX_TOKEN_CELLS:
        return f"{n_tok * q:,} token x label cells exceed {MAX_TOKEN_CELLS:,}"
    end_key = (item << _SHIFT) | end
    start_key = (item << _SHIFT) | start
    lo = np.searchsorted(end_key, (d.item << _SHIFT) | d.start, side="right")
    hi = np.searchsorted(start_key, (d.item << _SHIFT) | d.end, side="left")
    covered = np.maximum(hi - lo, 0)
    span = np.repeat(np.arange(d.row.size), covered)
    token = np.repeat(lo, covered) + run_offsets(covered)
    # first span (in (start, end, label) order) of each (row, token) wins
    _, first = np.unique(d.row[span] * n_tok + token, return_index=True)
    span, token = span[first], token[first]
    counts = np.zeros((n_tok, q))
    np.add.at(counts, (token, d.label[span] + 1), 1.0)
    m = np.bincount(table.item_codes, minlength=table.n_items).astype(np.float64)
    counts[:, 0] = m[item] - counts[:, 1:].sum(axis=1)
    facts = {
        "units": "tokens",
        "n_tokens": int(n_tok),
        "n_items_without_tokens": int(table.n_items - np.unique(item).size),
    }
    return counts, item, facts


def token_agreement(
    table: AnnotationTable,
    d: SpanData,
    *,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, MetricResult]:
    """``token_alpha`` (nominal Krippendorff's alpha) and ``token_kappa`` (Fleiss' kappa)."""
    built = token_counts(table, d)
    if isinstance(built, str):
        return {name: MetricResult.undefined(built) for name in ("token_alpha", "token_kappa")}
    counts, doc, facts = built
    values = np.arange(counts.shape[1], dtype=np.float64)
    q = counts.shape[1]
    alpha = krippendorff_alpha(counts, values, se=ci == "analytic")
    kappa = chance_corrected(counts, np.eye(q))["fleiss_kappa"]
    alpha = MetricResult(
        alpha.value, alpha.se, alpha.ci95, alpha.ci_method, alpha.reason, alpha.extra | facts
    )
    kappa = MetricResult(
        kappa.value, kappa.se, kappa.ci95, kappa.ci_method, kappa.reason, kappa.extra | facts
    )
    if ci == "none":
        return {
            "token_alpha": MetricResult(alpha.value, reason=alpha.reason, extra=alpha.extra),
            "token_kappa": MetricResult(kappa.value, reason=kappa.reason, extra=kappa.extra),
        }
    if ci == "bootstrap":
        return _bootstrap(counts, doc, alpha, kappa, n_boot, seed)
    return {"token_alpha": alpha, "token_kappa": kappa}


def _bootstrap(
    counts: F64, doc: I64, alpha: MetricResult, kappa: MetricResult, n_boot: int, seed: int
) -> dict[str, MetricResult]:
    """Resample documents; each replicate weights every token of a drawn document."""
    docs, token_doc = np.unique(doc, return_inverse=True)
    q = counts.shape[1]
    values = np.arange(q, dtype=np.float64)
    cells = max(1, 20_000_000 * docs.size // max(counts.shape[0], 1))
    alphas, kappas = [], []
    for weights in bootstrap_item_weights(docs.size, n_boot, seed, max_cells=cells):
        token_weights = weights[:, token_doc]
        alphas.append(np.atleast_1d(alpha_from_counts(counts, values, item_weights=token_weights)))
        kappas.append(family_values(counts, np.eye(q), token_weights)["fleiss_kappa"])
    out = {}
    for name, result, draws in (("token_alpha", alpha, alphas), ("token_kappa", kappa, kappas)):
        if result.value is None:
            out[name] = MetricResult(
                None, ci_method="bootstrap", reason=result.reason, extra=result.extra
            )
            continue
        extra = {k: v for k, v in result.extra.items() if k not in ("p_value",)}
        out[name] = percentile_result(
            result.value, extra | {"resampled": "documents"}, np.concatenate(draws)
        )
    return out
