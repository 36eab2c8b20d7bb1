"""Incremental project statistics (issue 21): a 10k-annotation batch added to a project
that already holds ``--history`` annotations (default 100M) updates every stored figure.

The history is stored as what the store keeps per batch for the windows: each batch's
item profiles (``batch_profiles``). Storing 100M annotation rows is not feasible on this
machine's disk and time budget, so the history's profiles are **generated directly**:
for each of ``--batches`` batches of equal size, the multiplicities of all 6^5 = 7,776
possible profiles (5 annotators, each missing with 10% or labelling one of 5 categories,
70% correct) are drawn from the multinomial distribution of that model - exactly the
statistics a row-level generation of the same model would store, without the rows. The
new batch is a real 10k-annotation CSV from the same model, ingested in-process.

Timed in-process, wall and CPU (user + sys of this process; the machine is shared):
``ingest_batch`` of the new batch (read, validate, every per-batch result - agreement with
diagnostics, consensus, annotator table - its profiles and the project's running profile
totals, in one transaction), first with the one-time imports of the analyses' modules
(the first ingest of a process: a ``labelaudit ingest`` command), then a second new batch
in the same process (a resident service); then the "all batches" figures (every
coefficient with analytic CI and the per-category agreement, from the running totals) and
the rolling window of the last 4 batches (their profile rows grouped). Report rendering is
not included (measured by ``bench_pipeline.py``). A full recomputation of the same
figures on the rows would read 100M annotations.

Usage::

    .venv/bin/python benchmarks/bench_incremental.py                # 100M history
    .venv/bin/python benchmarks/bench_incremental.py --history 1000000
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ANNOTATORS, CATEGORIES, MISSING, CORRECT = 5, 5, 0.1, 0.7
T = TypeVar("T")


def profile_probabilities() -> tuple[list[str], np.ndarray]:
    """Every profile (JSON text, as the store writes it) and its probability."""
    per_label = np.full((CATEGORIES, CATEGORIES), (1 - CORRECT) / CATEGORIES)
    per_label += np.eye(CATEGORIES) * CORRECT  # P(label | truth)
    texts, probabilities = [], []
    for choice in itertools.product(range(-1, CATEGORIES), repeat=ANNOTATORS):
        if all(c < 0 for c in choice):
            continue  # an item nobody rated is not an item
        pairs = [[f"ann-{a}", f"c{c}"] for a, c in enumerate(choice) if c >= 0]
        texts.append(json.dumps(pairs, ensure_ascii=False))
        rated = [(a, c) for a, c in enumerate(choice) if c >= 0]
        p_missing = MISSING ** (ANNOTATORS - len(rated)) * (1 - MISSING) ** len(rated)
        likelihood = np.ones(CATEGORIES) / CATEGORIES  # uniform truth
        for _, c in rated:
            likelihood = likelihood * per_label[:, c]
        probabilities.append(p_missing * likelihood.sum())
    p = np.asarray(probabilities)
    return texts, p / p.sum()


def new_batch(path: Path, annotations: int, seed: int) -> None:
    """A real CSV batch of the same model."""
    rng = np.random.default_rng(seed)
    n_items = int(annotations / (ANNOTATORS * (1 - MISSING))) + 1
    truth = rng.integers(0, CATEGORIES, n_items)
    item = np.repeat(np.arange(n_items), ANNOTATORS)
    annotator = np.tile(np.arange(ANNOTATORS), n_items)
    correct = rng.random(item.size) < CORRECT
    label = np.where(correct, truth[item], rng.integers(0, CATEGORIES, item.size))
    keep = rng.random(item.size) >= MISSING
    item, annotator, label = item[keep], annotator[keep], label[keep]
    n = min(annotations, item.size)
    table = pa.table(
        {
            "item": np.char.add("new-", item[:n].astype(str)),
            "annotator": np.char.add("ann-", annotator[:n].astype(str)),
            "label": np.char.add("c", label[:n].astype(str)),
        }
    )
    pacsv.write_csv(table, path)


def seed_history(store: object, history: int, batches: int) -> int:
    """Insert the generated profiles of ``batches`` batches; returns the annotations."""
    texts, p = profile_probabilities()
    sizes = np.array([len(json.loads(t)) for t in texts])
    items_per_batch = int(history / batches / float(p @ sizes))
    rng = np.random.default_rng(0)
    total = 0
    for batch in range(batches):  # loops over batches
        counts = rng.multinomial(items_per_batch, p)
        present = counts > 0
        total += int(counts @ sizes)
        rows = pa.table(
            {"profile": pa.array(texts).filter(pa.array(present)), "items": counts[present]}
        )
        store.connection.register("seed", rows)  # type: ignore[attr-defined]
        store.execute(  # type: ignore[attr-defined]
            "INSERT INTO batches VALUES (?, ?, ?, 'generated', ?, ?, ?, ?, ?, 0, ?, now(), 0)",
            (
                batch,
                f"history-{batch}",
                f"h{batch}",
                f"i{batch}",
                f"r{batch}",
                int(counts @ sizes),
                items_per_batch,
                ANNOTATORS,
                json.dumps({"level": "nominal", "categories": None, "task": "categorical"}),
            ),
        )
        store.execute(  # type: ignore[attr-defined]
            "INSERT INTO batch_profiles SELECT ?, profile, items FROM seed", (batch,)
        ).fetchall()
        store.connection.unregister("seed")  # type: ignore[attr-defined]
    from labelaudit.project.statistics import rebuild_profile_totals

    rebuild_profile_totals(store)  # type: ignore[arg-type]  # as ingest keeps them
    return total


def timed(work: Callable[[], T]) -> tuple[T, float, float]:
    """(result, wall seconds, CPU seconds of this process: user + sys)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = work()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--history", type=int, default=100_000_000)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--new", type=int, default=10_000)
    args = parser.parse_args()
    from labelaudit.project import ingest_batch, init_project
    from labelaudit.project.statistics import schema_of, window_figures
    from labelaudit.project.store import Store

    with tempfile.TemporaryDirectory() as folder:
        project = init_project(Path(folder) / "proj")
        with Store.open(project.store_path) as store, store.transaction():
            history = seed_history(store, args.history, args.batches)
        files = [Path(folder) / f"new{k}.csv" for k in range(2)]
        for k, path in enumerate(files):
            new_batch(path, args.new, seed=1 + k)
        # the first ingest of the process also pays its one-time imports (the analyses'
        # modules); a second batch, in the same process, is what a resident service pays
        cold = timed(lambda: ingest_batch(project, files[0], batch="new"))
        warm = timed(lambda: ingest_batch(project, files[1], batch="next"))
        with Store.open(project.store_path) as store:
            records = store.batches()
            schema = schema_of(records[-1].task_schema)
            ids = [r.batch_id for r in records]
            overall = timed(lambda: window_figures(store, ids, schema))
            window = timed(lambda: window_figures(store, ids[-4:], schema))
            rows = store.execute("SELECT count(*), sum(items) FROM batch_profiles").fetchone()
            totals = store.execute("SELECT count(*) FROM project_profiles").fetchone()[0]
    assert overall[0] is not None and window[0] is not None
    alpha, recent = (f[0].metrics["krippendorff_alpha"] for f in (overall, window))
    print(
        f"history: {history:,} annotations in {args.batches} batches "
        f"({rows[0]:,} stored profile rows, {totals:,} running totals, {rows[1]:,} items); "
        f"new batch: {args.new:,}"
    )
    print(f"cpus: {os.cpu_count()}  load: {os.getloadavg()[0]:.1f}  (seconds: wall / CPU)")
    show = [
        ("ingest of the new batch, first in the process", cold),
        ("ingest of a second new batch, same process", warm),
        ("all-batches agreement with CIs + per category (running totals)", overall),
        ("last-4-batches window (grouped profile rows)", window),
    ]
    for label, (_, wall, cpu) in show:
        print(f"{label}: {wall:.3f} / {cpu:.3f}")
    for label, parts in (("first", (cold, overall, window)), ("second", (warm, overall, window))):
        wall, cpu = sum(p[1] for p in parts), sum(p[2] for p in parts)
        print(
            f"every stored figure updated ({label} ingest + both windows): {wall:.3f} / {cpu:.3f}"
        )
    print(f"alpha all batches {alpha.value:.6f} 95% CI {alpha.ci95}; last 4: {recent.value:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
