"""Speed and peak memory of the preference audits (issue 6) on generated data.

Targets (absolute): every audit on 1,000,000 preference records with about 1 KB of text
each in under 60 s and 4 GB; Bradley-Terry with 200 bootstrap rounds over 100 models in
under 30 s. Each measurement runs in a fresh process, so the peak resident set size
(``ru_maxrss``) is that run's alone (interpreter and imports included).

The generator (``--generate``) writes a CSV of votes from
:func:`labelaudit.preferences.synthetic.make_preference_columns`: 50,000 prompts of 30
words (180 characters), 4 responses each from 20 models (log-normal lengths, mean 60
words = 360 characters), all 6 pairs of each prompt voted by 2 of 50 human annotators in
a random order, and by 2 judges in both orders on a third of the pairs: about 1.0 million
rows of prompt + two responses (~0.95 KB each). One human picks the first slot 70% of the
time; all votes prefer longer responses (length coefficient 0.3).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_preferences.py --generate   # writes /tmp/prefs_bench.csv
    .venv/bin/python benchmarks/bench_preferences.py               # measures, prints a table
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_FILE = Path("/tmp/prefs_bench.csv")

AUDIT_WORKER = """
import json, sys, time
t0 = time.perf_counter()
from labelaudit.preferences import audit_preferences, read_preferences
table = read_preferences(sys.argv[1], format="csv", first_model_col="first_model",
                         second_model_col="second_model")
t1 = time.perf_counter()
audit = audit_preferences(table, n_boot=int(sys.argv[2]), seed=0,
                          judge_family={"judge_a": "model_19"})
t2 = time.perf_counter()
out = audit.to_dict()
text = json.dumps(out, allow_nan=False)
t3 = time.perf_counter()
position = {r["annotator"]: r for r in out["position_bias"]["by_annotator"]}
print(json.dumps({"read_s": t1 - t0, "audit_s": t2 - t1, "json_s": t3 - t2,
                  "votes": table.n_votes, "skipped": out["skipped"],
                  "flagged": sorted(a for a, r in position.items() if r["flag"]),
                  "p_prefer_longer": out["length_bias"]["p_prefer_longer"],
                  "agreement_entries": len(out["agreement"]), "json_mb": len(text) / 1e6}))
"""

BT_WORKER = """
import json, sys, time
import numpy as np
from labelaudit.preferences.columns import from_columns
from labelaudit.preferences.bradley_terry import bradley_terry
rng = np.random.default_rng(0)
n, models = int(sys.argv[1]), 100
skill = np.linspace(-2, 2, models)
a = rng.integers(0, models, n)
b = (a + rng.integers(1, models, n)) % models
p = 1 / (1 + np.exp(-(skill[a] - skill[b])))
u = rng.random(n)
choice = np.where(u < 0.1, "tie", np.where(rng.random(n) < p, "first", "second"))
names = np.array([f"model_{m:03d}" for m in range(models)], dtype=object)
prompt = np.char.mod("p%d", np.arange(n)).astype(object)
table = from_columns(prompt=prompt, first=prompt + "/" + names[a], second=prompt + "/" + names[b],
                     first_model=names[a], second_model=names[b], choice=choice.astype(object))
start = time.perf_counter()
result = bradley_terry(table, n_boot=200, seed=0)
elapsed = time.perf_counter() - start
ratings = np.array([m["rating"] for m in sorted(result.models, key=lambda m: m["model"])])
print(json.dumps({"seconds": elapsed, "votes": n, "models": len(result.models),
                  "spearman_vs_truth": float(np.corrcoef(np.argsort(np.argsort(ratings)),
                                                         np.arange(models))[0, 1])}))
"""


def generate(path: Path, seed: int = 0) -> None:
    """Write the benchmark CSV (about 1.0 million votes, ~1 GB)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from labelaudit.preferences.synthetic import make_preference_columns

    start = time.perf_counter()
    columns = make_preference_columns(
        n_prompts=50_000, n_models=20, responses_per_prompt=4, n_humans=50, humans_per_pair=2,
        judges=("judge_a", "judge_b"), judge_rate=1 / 3, first_slot_rate={"human_07": 0.7},
        length_coef=0.3, mean_words=60.0, prompt_words=30, seed=seed,
    )  # fmt: skip
    table = pa.table({
        "prompt": columns["prompt_text"], "first": columns["first_text"],
        "second": columns["second_text"], "choice": np.asarray(columns["choice"], dtype=str),
        "annotator": np.asarray(columns["annotator"], dtype=str),
        "kind": np.asarray(columns["kind"], dtype=str),
        "first_model": np.asarray(columns["first_model"], dtype=str),
        "second_model": np.asarray(columns["second_model"], dtype=str),
    })  # fmt: skip
    pacsv.write_csv(table, path)
    size = path.stat().st_size
    print(
        f"wrote {path}: {table.num_rows:,} votes, {size / 1e9:.2f} GB "
        f"({size / table.num_rows:.0f} bytes per vote) in {time.perf_counter() - start:.1f} s"
    )


def child(code: str, *args: str) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter; its JSON result, wall time and peak RSS."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - start
    result["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--generate", action="store_true", help="write the CSV and stop")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates")
    parser.add_argument("--bt-votes", type=int, default=200_000)
    args = parser.parse_args()
    if args.generate:
        generate(args.file)
        return
    if not args.file.is_file():
        parser.error(f"{args.file} is missing: run with --generate first")
    audit = child(AUDIT_WORKER, str(args.file), str(args.n_boot))
    total = audit["read_s"] + audit["audit_s"]
    print(f"file: {args.file} ({args.file.stat().st_size / 1e9:.2f} GB, {audit['votes']:,} votes)")
    print(f"read CSV -> table        {audit['read_s']:7.1f} s")
    print(f"all audits (n_boot={args.n_boot}) {audit['audit_s']:7.1f} s")
    print(f"read + audits            {total:7.1f} s   target < 60 s   "
          f"{'PASS' if total < 60 else 'FAIL'}")  # fmt: skip
    print(f"peak RSS                 {audit['peak_rss_gb']:7.2f} GB  target < 4 GB   "
          f"{'PASS' if audit['peak_rss_gb'] < 4 else 'FAIL'}")  # fmt: skip
    print(f"findings: flagged {audit['flagged']}, P(prefer longer) "
          f"{audit['p_prefer_longer']:.3f}, {audit['agreement_entries']} agreement entries, "
          f"skipped {audit['skipped']}")  # fmt: skip
    bt = child(BT_WORKER, str(args.bt_votes))
    verdict = "PASS" if bt["seconds"] < 30 else "FAIL"
    print(f"Bradley-Terry, {bt['models']} models, {bt['votes']:,} votes, 200 bootstraps: "
          f"{bt['seconds']:.1f} s   target < 30 s   {verdict}   "
          f"(rank correlation with the planted order {bt['spearman_vs_truth']:.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
