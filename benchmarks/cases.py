"""Benchmark cases: synthetic data and one factory per (case, tool).

Every factory builds its data (fixed seed) and imports its library *before* measurement
starts, and returns a :class:`Bench`: the call to time and a ``check`` that turns the last
result into the numbers compared between the tools (computed outside the timing). Peer and
labelaudit get the same in-memory input (a units x raters matrix, or two label vectors);
labelaudit's timing includes turning that input into its long arrays and count matrix.

Data: a latent true category per item (uniform over ``Q`` categories); each rater reports
it with probability ``P_CORRECT``, else a uniform random category; ``MISSING`` of the
cells are missing completely at random where a case says so. Continuous scores: latent
N(0, 1) per item; a rater reports latent + N(0, 0.1^2) with probability ``P_CORRECT``, else
U(-3, 3) - floats without ties.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

Q = 5
RATERS = 5
P_CORRECT = 0.7
MISSING = 0.1
SEED = 20_240_601
BOOT_SEED = 7
NAIVE_REPLICATES = 20
PINGOUIN_SLOW_S = 10.0

FULL_SIZES: dict[str, int] = {
    "alpha_nominal": 1_000_000,
    "alpha_interval": 1_000_000,
    "alpha_interval_small": 200,
    "fleiss": 1_000_000,
    "cohen": 10_000_000,
    "icc": 100_000,
    "bootstrap": 100_000,
    "bootstrap_b": 1_000,
    "irrcac": 100_000,
}
QUICK_SIZES: dict[str, int] = {
    "alpha_nominal": 20_000,
    "alpha_interval": 20_000,
    "alpha_interval_small": 50,
    "fleiss": 20_000,
    "cohen": 200_000,
    "icc": 2_000,
    "bootstrap": 5_000,
    "bootstrap_b": 100,
    "irrcac": 5_000,
}
ICC_KEYS: dict[str, str] = {  # pingouin < 0.7 names -> McGraw-Wong names (pingouin 0.7)
    "ICC1": "ICC(1,1)",
    "ICC2": "ICC(A,1)",
    "ICC3": "ICC(C,1)",
    "ICC1k": "ICC(1,k)",
    "ICC2k": "ICC(A,k)",
    "ICC3k": "ICC(C,k)",
}


@dataclass(frozen=True)
class Options:
    """What the worker was asked for: reduced sizes, and an input file (irrCAC case)."""

    quick: bool = False
    data: Path | None = None

    def size(self, key: str) -> int:
        """The number of items (or pairs, replicates) of ``key`` for this run."""
        return (QUICK_SIZES if self.quick else FULL_SIZES)[key]


@dataclass(frozen=True)
class Bench:
    """One measurable call.

    ``check`` maps the last result to named numbers compared across tools (a key
    ``ref:NAME`` is an independent reference for ``NAME`` when there is no peer).
    ``slow_s``: one timed call only if the warm-up call takes longer (pingouin 0.6 needs
    about a minute per ICC call at 100k x 5). ``scale`` multiplies the measured time
    (extrapolation); ``child_memory`` says the work runs in child processes, whose peak RSS
    is reported instead.
    """

    run: Callable[[], Any]
    check: Callable[[Any], dict[str, float]]
    n_warm: int = 1
    n_timed: int = 5
    slow_s: float | None = None
    scale: float = 1.0
    child_memory: bool = False
    info: dict[str, Any] = field(default_factory=dict)


Factory = Callable[[Options], Bench]


@dataclass(frozen=True)
class Tool:
    """A tool of a case; ``factory`` None means it runs in the irrCAC venv."""

    key: str
    label: str
    side: str
    factory: Factory | None = None


@dataclass(frozen=True)
class Case:
    """A benchmark case: its tools and which (peer, labelaudit) pairs make a ratio."""

    key: str
    number: str
    title: str
    detail: str
    tools: tuple[Tool, ...]
    pairs: tuple[tuple[str, str], ...] = ()
    needs_data_file: bool = False

    def describe(self, quick: bool) -> str:
        """``detail`` with ``{n}`` replaced by this run's size of the case."""
        sizes = QUICK_SIZES if quick else FULL_SIZES
        return self.detail.format(
            n=_human(sizes.get(self.key, 0)), b=_human(sizes.get(self.key + "_b", 0))
        )

    def tool(self, key: str) -> Tool:
        """The tool named ``key``."""
        for tool in self.tools:
            if tool.key == key:
                return tool
        raise KeyError(f"case {self.key} has no tool {key!r}")


def _human(n: int) -> str:
    """1_000_000 -> '1M', 100_000 -> '100k', 200 -> '200'."""
    for factor, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= factor and n % factor == 0:
            return f"{n // factor}{suffix}"
    return str(n)


# --------------------------------------------------------------------------- data
def label_matrix(n_items: int, *, missing: float, seed: int, n_raters: int = RATERS) -> F64:
    """Units x raters float matrix of category codes 0..Q-1, NaN = missing."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, Q, size=n_items)
    guess = rng.integers(0, Q, size=(n_items, n_raters))
    correct = rng.random((n_items, n_raters)) < P_CORRECT
    labels = np.where(correct, truth[:, None], guess).astype(np.float64)
    if missing > 0:
        labels[rng.random(labels.shape) < missing] = np.nan
    return labels


def score_matrix(n_items: int, *, seed: int, n_raters: int = RATERS) -> F64:
    """Units x raters continuous scores without ties (see the module docstring)."""
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=n_items)
    close = truth[:, None] + rng.normal(scale=0.1, size=(n_items, n_raters))
    wild = rng.uniform(-3.0, 3.0, size=(n_items, n_raters))
    scores = np.where(rng.random((n_items, n_raters)) < P_CORRECT, close, wild)
    if np.unique(scores).size != scores.size:
        raise RuntimeError("tied continuous scores: change the seed")
    return scores


def label_pair(n_pairs: int, *, seed: int) -> tuple[I64, I64]:
    """Two raters' label vectors (int64, complete)."""
    both = label_matrix(n_pairs, missing=0.0, seed=seed, n_raters=2).astype(np.int64)
    return np.ascontiguousarray(both[:, 0]), np.ascontiguousarray(both[:, 1])


# --------------------------------------------------------------------------- long form (ours)
def _observed(matrix: F64) -> tuple[I64, F64]:
    """Flat positions and values of the non-missing cells (row-major)."""
    flat = matrix.ravel()
    positions = np.flatnonzero(~np.isnan(flat))
    return positions, flat[positions]


def counts_from_matrix(matrix: F64, q: int = Q) -> I64:
    """Item x category counts via the long arrays: ``bincount(item_codes * q + label)``."""
    n_items, n_raters = matrix.shape
    positions, labels = _observed(matrix)
    item_codes = positions // n_raters
    codes = item_codes * q + labels.astype(np.int64)
    counts: I64 = np.bincount(codes, minlength=n_items * q).reshape(n_items, q)
    return counts


def long_from_matrix(matrix: F64) -> tuple[I64, I64, I64, I64]:
    """(item, annotator, label codes, counts) of the items with at least one rating."""
    matrix = matrix[~np.isnan(matrix).all(axis=1)]
    n_items, n_raters = matrix.shape
    positions, values = _observed(matrix)
    items, raters = np.divmod(positions, n_raters)
    labels = values.astype(np.int64)
    counts = np.bincount(items * Q + labels, minlength=n_items * Q).reshape(n_items, Q)
    return items, raters, labels, counts


def continuous_long(matrix: F64) -> tuple[I64, F64]:
    """(item codes, values) of the observed cells of a units x raters score matrix."""
    positions, values = _observed(matrix)
    return positions // matrix.shape[1], values


def closed_form_interval_alpha(matrix: F64) -> float:
    """Independent reference: 1 - (n-1) sum_u m_u SS_u / (m_u-1) / (n SS_total)."""
    m = (~np.isnan(matrix)).sum(axis=1)
    x, m = matrix[m >= 2], m[m >= 2]
    ss_u = np.nansum((x - np.nanmean(x, axis=1)[:, None]) ** 2, axis=1)
    n = float(m.sum())
    ss_total = float(np.nansum((x - np.nansum(x) / n) ** 2))
    return 1.0 - (n - 1.0) * float((m * ss_u / (m - 1.0)).sum()) / (n * ss_total)


# --------------------------------------------------------------------------- 1 nominal alpha
def _nominal_data(opts: Options) -> F64:
    return label_matrix(opts.size("alpha_nominal"), missing=MISSING, seed=SEED)


def alpha_nominal_peer(opts: Options) -> Bench:
    import krippendorff

    data = np.ascontiguousarray(_nominal_data(opts).T)  # raters x units, the peer's layout

    def run() -> float:
        return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))

    return Bench(run=run, check=lambda v: {"alpha": v})


def alpha_nominal_ours(opts: Options) -> Bench:
    from labelaudit.agreement.alpha import alpha_from_counts

    matrix = _nominal_data(opts)
    values = np.arange(Q, dtype=np.float64)

    def run() -> float:
        return float(alpha_from_counts(counts_from_matrix(matrix), values, level="nominal"))

    return Bench(run=run, check=lambda v: {"alpha": v})


# --------------------------------------------------------------------------- 2 interval alpha
def _interval_ours(matrix: F64) -> Bench:
    from labelaudit.agreement.alpha import alpha_continuous

    def run() -> float:
        item_codes, values = continuous_long(matrix)
        return float(alpha_continuous(item_codes, values, matrix.shape[0], level="interval"))

    def check(value: float) -> dict[str, float]:
        return {"alpha": value, "ref:alpha": closed_form_interval_alpha(matrix)}

    return Bench(run=run, check=check)


def alpha_interval_ours(opts: Options) -> Bench:
    return _interval_ours(score_matrix(opts.size("alpha_interval"), seed=SEED + 2))


def _small_scores(opts: Options) -> F64:
    return score_matrix(opts.size("alpha_interval_small"), seed=SEED + 3)


def alpha_interval_small_peer(opts: Options) -> Bench:
    import krippendorff

    data = np.ascontiguousarray(_small_scores(opts).T)

    def run() -> float:
        return float(krippendorff.alpha(reliability_data=data, level_of_measurement="interval"))

    return Bench(run=run, check=lambda v: {"alpha": v})


def alpha_interval_small_ours(opts: Options) -> Bench:
    return _interval_ours(_small_scores(opts))


# --------------------------------------------------------------------------- 3 Fleiss
def _fleiss_data(opts: Options) -> I64:
    matrix = label_matrix(opts.size("fleiss"), missing=0.0, seed=SEED + 4)
    return matrix.astype(np.int64)


def fleiss_peer(opts: Options) -> Bench:
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    matrix = _fleiss_data(opts)

    def run() -> float:
        table, _ = aggregate_raters(matrix)
        return float(fleiss_kappa(table, method="fleiss"))

    return Bench(run=run, check=lambda v: {"fleiss_kappa": v})


def fleiss_ours(opts: Options) -> Bench:
    from labelaudit.agreement.chance import chance_corrected

    matrix = _fleiss_data(opts)
    n = matrix.shape[0]
    weights = np.eye(Q)

    def run() -> Any:
        codes = (np.arange(n)[:, None] * Q + matrix).ravel()  # the long arrays, flattened
        counts = np.bincount(codes, minlength=n * Q).reshape(n, Q)
        return chance_corrected(counts, weights)

    return Bench(run=run, check=lambda r: {"fleiss_kappa": float(r["fleiss_kappa"].value)})


# --------------------------------------------------------------------------- 4 Cohen
def cohen_peer(opts: Options) -> Bench:
    from sklearn.metrics import cohen_kappa_score

    a, b = label_pair(opts.size("cohen"), seed=SEED + 5)
    return Bench(run=lambda: float(cohen_kappa_score(a, b)), check=lambda v: {"cohen_kappa": v})


def cohen_ours(opts: Options) -> Bench:
    from labelaudit.agreement.cohen import cohen_kappa

    a, b = label_pair(opts.size("cohen"), seed=SEED + 5)

    def run() -> Any:
        return cohen_kappa(np.bincount(a * Q + b, minlength=Q * Q).reshape(Q, Q))

    return Bench(run=run, check=lambda r: {"cohen_kappa": float(r.value)})


# --------------------------------------------------------------------------- 5 ICC
def _icc_scores(opts: Options) -> F64:
    return score_matrix(opts.size("icc"), seed=SEED + 6)


def icc_peer(opts: Options) -> Bench:
    import pandas as pd
    import pingouin

    scores = _icc_scores(opts)
    n, k = scores.shape
    frame = pd.DataFrame(
        {"item": np.repeat(np.arange(n), k), "rater": np.tile(np.arange(k), n),
         "score": scores.ravel()}
    )  # fmt: skip

    def run() -> Any:
        return pingouin.intraclass_corr(data=frame, targets="item", raters="rater", ratings="score")

    def check(table: Any) -> dict[str, float]:
        out: dict[str, float] = {}
        for row in table.itertuples(index=False):
            key = ICC_KEYS.get(row.Type, row.Type)  # pingouin < 0.7 says ICC1, ICC2, ...
            out |= {key: float(row.ICC), key + " F": float(row.F)}
        return out

    return Bench(run=run, check=check, slow_s=PINGOUIN_SLOW_S)


def icc_ours(opts: Options) -> Bench:
    from labelaudit.agreement.icc import icc

    scores = _icc_scores(opts)

    def check(result: Any) -> dict[str, float]:
        out = {key: float(form["value"]) for key, form in result.forms.items()}
        out |= {key + " F": float(form["F"]) for key, form in result.forms.items()}
        return out

    return Bench(run=lambda: icc(scores), check=check)


# --------------------------------------------------------------------------- 6 bootstrap
def _boot_data(opts: Options) -> F64:
    return label_matrix(opts.size("bootstrap"), missing=MISSING, seed=SEED + 7)


def _first_replicate(n_items: int, n_boot: int) -> I64:
    from labelaudit.intervals import bootstrap_item_weights

    first = next(iter(bootstrap_item_weights(n_items, n_boot, BOOT_SEED)))
    return first[0].astype(np.int64)


def bootstrap_ours(opts: Options) -> Bench:
    from labelaudit.agreement.alpha import alpha_from_counts
    from labelaudit.intervals import bootstrap_item_weights

    matrix = _boot_data(opts)
    n_items, n_boot = matrix.shape[0], opts.size("bootstrap_b")
    values = np.arange(Q, dtype=np.float64)

    def run() -> F64:
        counts = counts_from_matrix(matrix)
        chunks = [
            np.atleast_1d(alpha_from_counts(counts, values, level="nominal", item_weights=w))
            for w in bootstrap_item_weights(n_items, n_boot, BOOT_SEED)
        ]
        return np.concatenate(chunks)

    def check(draws: F64) -> dict[str, float]:
        return {"replicate 0": float(draws[0]), "info:bootstrap SD": float(draws.std(ddof=1))}

    return Bench(run=run, check=check, info={"replicates": n_boot})


def bootstrap_naive_peer(opts: Options) -> Bench:
    import krippendorff

    matrix = _boot_data(opts)
    n_items, n_boot = matrix.shape[0], opts.size("bootstrap_b")
    rng = np.random.default_rng(BOOT_SEED)

    def run() -> F64:
        draws = np.empty(NAIVE_REPLICATES)
        for b in range(NAIVE_REPLICATES):
            sample = matrix[rng.integers(0, n_items, size=n_items)]
            draws[b] = krippendorff.alpha(reliability_data=sample.T, level_of_measurement="nominal")
        return draws

    def check(draws: F64) -> dict[str, float]:
        resampled = np.repeat(matrix, _first_replicate(n_items, n_boot), axis=0)
        first = krippendorff.alpha(reliability_data=resampled.T, level_of_measurement="nominal")
        return {"replicate 0": float(first), "info:bootstrap SD": float(draws.std(ddof=1))}

    scale = n_boot / NAIVE_REPLICATES
    return Bench(run=run, check=check, scale=scale, info={"replicates": NAIVE_REPLICATES})


# --------------------------------------------------------------------------- 7 CLI
def cli_ours(opts: Options) -> Bench:
    del opts
    command = [str(Path(sys.executable).parent / "labelaudit"), "--help"]

    def run() -> int:
        done = subprocess.run(command, capture_output=True, check=True)
        return len(done.stdout)

    def check(n_bytes: int) -> dict[str, float]:
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return {"info:help bytes": float(n_bytes), "info:child peak RSS kB": float(peak)}

    return Bench(run=run, check=check, child_memory=True)


# --------------------------------------------------------------------------- 8 irrCAC
def irrcac_matrix(opts: Options) -> F64:
    """The case-8 ratings: read from the shared .npy file when given, else generated."""
    if opts.data is not None:
        loaded: F64 = np.load(opts.data)
        return loaded
    return label_matrix(opts.size("irrcac"), missing=MISSING, seed=SEED + 8)


def _value_and_se(name: str, result: Any) -> dict[str, float]:
    return {name: float(result.value), name + " SE": float(result.se)}


def irrcac_chance_ours(opts: Options) -> Bench:
    from labelaudit.agreement.chance import chance_corrected

    matrix = irrcac_matrix(opts)

    def run() -> Any:
        return chance_corrected(long_from_matrix(matrix)[3], np.eye(Q))

    def check(res: Any) -> dict[str, float]:
        names = ("gwet_ac", "fleiss_kappa", "brennan_prediger")
        return {k: v for name in names for k, v in _value_and_se(name, res[name]).items()}

    return Bench(run=run, check=check)


def irrcac_conger_ours(opts: Options) -> Bench:
    from labelaudit.agreement.conger import conger_kappa

    matrix = irrcac_matrix(opts)

    def run() -> Any:
        items, raters, labels, counts = long_from_matrix(matrix)
        return conger_kappa(counts, items, raters, labels, matrix.shape[1], np.eye(Q))

    return Bench(run=run, check=lambda r: _value_and_se("conger_kappa", r))


def irrcac_alpha_ours(opts: Options) -> Bench:
    from scipy import stats  # noqa: F401  (imported lazily by the SE: keep it out of memory)

    from labelaudit.agreement.alpha import krippendorff_alpha

    matrix = irrcac_matrix(opts)
    values = np.arange(Q, dtype=np.float64)

    def run() -> Any:
        return krippendorff_alpha(long_from_matrix(matrix)[3], values, level="nominal")

    return Bench(run=run, check=lambda r: _value_and_se("krippendorff_alpha", r))


# --------------------------------------------------------------------------- registry
def _pair(peer: str, peer_factory: Factory, ours_factory: Factory, ours: str) -> tuple[Tool, Tool]:
    return Tool("peer", peer, "peer", peer_factory), Tool("ours", ours, "ours", ours_factory)


IRRCAC_METHODS: dict[str, str] = {
    "gwet": "gwet_ac",
    "fleiss": "fleiss_kappa",
    "bp": "brennan_prediger",
    "conger": "conger_kappa",
    "krippendorff": "krippendorff_alpha",
}

CASES: tuple[Case, ...] = (
    Case(
        "alpha_nominal", "1", "Krippendorff's alpha, nominal",
        "{n} x 5, 5 categories, 10% missing",
        _pair("krippendorff.alpha", alpha_nominal_peer, alpha_nominal_ours,
              "bincount + alpha_from_counts"),
        (("peer", "ours"),),
    ),
    Case(
        "alpha_interval", "2a", "Krippendorff's alpha, interval, continuous",
        "{n} x 5 floats, no ties; no peer can run it",
        (Tool("ours", "alpha_continuous", "ours", alpha_interval_ours),),
    ),
    Case(
        "alpha_interval_small", "2b", "Krippendorff's alpha, interval, continuous",
        "{n} x 5 floats, no ties, V = 5 x {n} distinct values",
        _pair("krippendorff.alpha", alpha_interval_small_peer, alpha_interval_small_ours,
              "alpha_continuous"),
        (("peer", "ours"),),
    ),
    Case(
        "fleiss", "3", "Fleiss' kappa", "{n} x 5 complete, 5 categories",
        _pair("statsmodels aggregate_raters + fleiss_kappa", fleiss_peer, fleiss_ours,
              "bincount + chance_corrected"),
        (("peer", "ours"),),
    ),
    Case(
        "cohen", "4", "Cohen's kappa", "{n} pairs, 5 categories",
        _pair("sklearn cohen_kappa_score", cohen_peer, cohen_ours, "bincount + cohen_kappa"),
        (("peer", "ours"),),
    ),
    Case(
        "icc", "5", "ICC (six forms)", "{n} x 5 continuous, complete",
        _pair("pingouin intraclass_corr", icc_peer, icc_ours, "icc"),
        (("peer", "ours"),),
    ),
    Case(
        "bootstrap", "6", "Bootstrap of nominal alpha",
        "{n} x 5, 5 categories, 10% missing, {b} replicates",
        (
            Tool("peer", "loop of krippendorff.alpha on resampled data", "peer",
                 bootstrap_naive_peer),
            Tool("ours", "bootstrap_item_weights + alpha_from_counts", "ours", bootstrap_ours),
        ),
        (("peer", "ours"),),
    ),
    Case(
        "cli", "7", "`labelaudit --help`", "console script, wall time of the subprocess",
        (Tool("ours", "labelaudit --help", "ours", cli_ours),),
    ),
    Case(
        "irrcac", "8", "irrCAC raw CAC vs labelaudit", "{n} x 5, 5 categories, 10% missing",
        (
            *(Tool(m, f"irrCAC {m}()", "peer") for m in IRRCAC_METHODS),
            Tool("ours-chance", "chance_corrected", "ours", irrcac_chance_ours),
            Tool("ours-conger", "conger_kappa", "ours", irrcac_conger_ours),
            Tool("ours-alpha", "krippendorff_alpha", "ours", irrcac_alpha_ours),
        ),
        (("gwet", "ours-chance"), ("fleiss", "ours-chance"), ("bp", "ours-chance"),
         ("conger", "ours-conger"), ("krippendorff", "ours-alpha")),
        needs_data_file=True,
    ),
)  # fmt: skip


def find_case(key: str) -> Case:
    """The case whose key or number is ``key``."""
    for case in CASES:
        if key in (case.key, case.number):
            return case
    raise KeyError(f"unknown case {key!r}; known: {', '.join(c.key for c in CASES)}")
