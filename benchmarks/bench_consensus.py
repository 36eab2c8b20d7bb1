"""Consensus benchmark: labelaudit's aggregators against crowd-kit 1.4.2 on the same data.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_consensus.py                  # everything
    .venv/bin/python benchmarks/bench_consensus.py --methods dawid-skene,majority
    .venv/bin/python benchmarks/bench_consensus.py --rerun-peer     # ignore recorded peer times
    .venv/bin/python benchmarks/bench_consensus.py --rerun-peer majority,dawid-skene
    .venv/bin/python benchmarks/bench_consensus.py --json /tmp/consensus.json
    .venv/bin/python benchmarks/bench_consensus.py --items 20000 --methods glad --skip-10m

Data: ``labelaudit.consensus.synthetic.generate(200_000, seed=0)`` (1,000,000 labels, 200
annotators, 4 classes), written once as integer codes to an ``.npz`` file in ``--cache``
that both venvs read. crowd-kit runs in ``benchmarks/.venv-crowdkit`` (created on first
use) through ``crowdkit_case.py``; labelaudit runs in this venv, one process per (tool,
method), never two at a time (the runner waits for a quiet machine first, as ``run_all.py``).

crowd-kit's GLAD alone takes over 20 minutes, so every peer result is recorded in
``benchmarks/results/consensus_peer.json`` with the data sha256, the crowd-kit / pandas /
numpy versions, the fit time, peak RSS and the sha256 of its argmax labels (kept in
``--cache``). A recorded result is reused when the data hash, those versions and the
DataFrame layout (``crowdkit_case.FRAME_LAYOUT``) match;
the output says so. ``--record-peer PAYLOAD.json LABELS.npy`` records a
``crowdkit_case.py`` run made by hand (e.g. GLAD started in the background).

Timing: ``fit`` on the encoded table (labelaudit: the AnnotationTable already built;
crowd-kit: the task/worker/label DataFrame already built), best of 3 runs (crowd-kit's
GLAD and MACE: one run). Memory: the process's peak RSS during the fits (data and imports
included) and the increase over the loaded-data baseline (``measure.py``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from crowdkit_case import ARRAYS, FRAME_LAYOUT, METHODS, data_sha256, labels_sha256
from measure import measure
from run_all import BENCH, ROOT, bench_env, run_job, wait_for_quiet

VENV = BENCH / ".venv-crowdkit"
REQUIREMENTS = ("crowd-kit==1.4.2", "scikit-learn<1.8", "threadpoolctl")
PEER_FILE = BENCH / "results" / "consensus_peer.json"
REUSE_KEYS = ("crowd-kit", "pandas", "numpy")
N_ITEMS, SEED, N_ITEMS_10M = 200_000, 0, 2_000_000
TIMEOUT_S = 3600.0
TARGETS = {"majority": 5.0, "dawid-skene": 10.0, "glad": 30.0, "mace": 5.0}
AGREEMENT = {"dawid-skene": 0.999, "mace": 0.99}


# --------------------------------------------------------------------------- data
def data_file(cache: Path, n_items: int = N_ITEMS) -> Path:
    """The shared ``.npz`` (created once): codes of item, annotator, label and the truth."""
    path = cache / f"consensus-{n_items}-seed{SEED}.npz"
    if not path.exists():
        from labelaudit.consensus.synthetic import generate

        crowd = generate(n_items, seed=SEED)
        table = crowd.table
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(
            path,
            item=table.item_codes.astype(np.int32),
            annotator=table.annotator_codes.astype(np.int32),
            label=table.label_codes.astype(np.int8),
            truth=crowd.truth.astype(np.int8),
        )
    return path


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """The four arrays of the data file."""
    with np.load(path) as loaded:
        return {name: loaded[name] for name in ARRAYS}


def build_table(arrays: dict[str, np.ndarray]) -> Any:
    """An AnnotationTable over the codes (names ``i..``, ``a..``, categories ``0..q-1``)."""
    import pyarrow as pa

    from labelaudit.table import AnnotationTable, TaskSchema

    n_items, n_annotators = len(arrays["truth"]), int(arrays["annotator"].max()) + 1
    items = np.char.add("i", np.arange(n_items).astype(str)).astype(object)
    annotators = np.char.add("a", np.arange(n_annotators).astype(str)).astype(object)
    categories = np.arange(int(arrays["label"].max()) + 1).astype(str).astype(object)

    def column(codes: np.ndarray, names: np.ndarray) -> pa.Array:
        dictionary = pa.array(names, type=pa.string())
        indices = pa.array(codes.astype(np.int32))
        return pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.string())

    codes = {name: arrays[name].astype(np.int64) for name in ("item", "annotator", "label")}
    data = pa.table(
        {
            "item": column(codes["item"], items),
            "annotator": column(codes["annotator"], annotators),
            "label": column(codes["label"], categories),
        }
    )
    return AnnotationTable(
        data=data,
        schema=TaskSchema(),
        items=items,
        annotators=annotators,
        categories=categories,
        category_values=np.arange(len(categories), dtype=np.float64),
        item_codes=codes["item"],
        annotator_codes=codes["annotator"],
        label_codes=codes["label"],
        source="<bench_consensus>",
    )


# --------------------------------------------------------------------------- labelaudit side
def labelaudit_model(method: str) -> Any:
    """The estimator at crowd-kit's settings (MACE: ``tol=0`` runs all 50 iterations)."""
    from labelaudit.consensus import GLAD, MACE, DawidSkene, MajorityVote

    if method == "majority":
        return MajorityVote()
    if method == "dawid-skene":
        return DawidSkene(max_iter=100, tol=1e-5)
    if method == "glad":
        return GLAD(max_iter=100, tol=1e-5)
    return MACE(n_restarts=10, max_iter=50, tol=0.0, random_state=0)


def worker(method: str, data: Path | None, labels_out: Path | None, repeats: int) -> int:
    """Run one labelaudit fit in this process; print one JSON line."""
    from importlib import metadata

    if method == "dawid-skene-10m":
        from labelaudit.consensus.synthetic import generate

        crowd = generate(N_ITEMS_10M, seed=SEED)
        table, truth = crowd.table, crowd.truth
        del crowd
    else:
        assert data is not None
        arrays = load_arrays(data)
        table, truth = build_table(arrays), arrays["truth"]
    model_name = "dawid-skene" if method == "dawid-skene-10m" else method
    cpu_start = time.process_time()
    measurement, model = measure(
        lambda: labelaudit_model(model_name).fit(table), n_warm=0, n_timed=repeats
    )
    cpu_s = (time.process_time() - cpu_start) / repeats
    codes = np.asarray(model.labels_, dtype=np.int8)
    if labels_out is not None:
        np.save(labels_out, codes)
    payload = {
        "tool": "labelaudit",
        "method": method,
        "n_labels": len(table.item_codes),
        "versions": {name: metadata.version(name) for name in ("labelaudit", "numpy", "scipy")},
        "fit_s": min(measurement.times_s),
        "times_s": measurement.times_s,
        "n_runs": repeats,
        "cpu_s_per_run": cpu_s,
        "n_iter": model.n_iter_,
        "converged": model.converged_,
        "baseline_mb": measurement.baseline_mb,
        "peak_mb": measurement.baseline_mb + measurement.peak_increase_mb,
        "peak_increase_mb": measurement.peak_increase_mb,
        "labels_sha256": labels_sha256(codes),
        "accuracy": float(np.mean(codes == truth)),
    }
    print(json.dumps(payload))
    return 0


# --------------------------------------------------------------------------- peer venv
def ensure_venv(env: dict[str, str]) -> Path:
    """The crowd-kit venv's python, created with python3.11 on first use."""
    python = VENV / "bin" / "python"
    if not python.exists():
        base = shutil.which("python3.11") or sys.executable
        subprocess.run([base, "-m", "venv", str(VENV)], check=True, env=env)
        pip = [str(python), "-m", "pip", "install", "--quiet", *REQUIREMENTS]
        subprocess.run(pip, check=True, env=env)
    return python


def peer_versions(python: Path, env: dict[str, str]) -> dict[str, str]:
    """Versions installed in the crowd-kit venv (``crowdkit_case.versions``)."""
    code = "import json, crowdkit_case; print(json.dumps(crowdkit_case.versions()))"
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, env=env, cwd=BENCH, check=True
    )
    versions: dict[str, str] = json.loads(done.stdout)
    return versions


def read_records() -> list[dict[str, Any]]:
    """Recorded peer results (empty when the file does not exist yet)."""
    if not PEER_FILE.exists():
        return []
    records: list[dict[str, Any]] = json.loads(PEER_FILE.read_text())["records"]
    return records


def _same_run(record: dict[str, Any], method: str, sha: str, versions: dict[str, str]) -> bool:
    """Whether ``record`` is of this method, data hash and peer versions."""
    same = all(record["versions"].get(k) == versions.get(k) for k in REUSE_KEYS)
    return same and record["method"] == method and record["data_sha256"] == sha


def find_record(method: str, sha: str, versions: dict[str, str]) -> dict[str, Any] | None:
    """The recorded peer result for this method, data hash, versions and frame layout."""
    for record in read_records():
        frame = record.get("frame", "codes")  # records made before the layout was recorded
        if _same_run(record, method, sha, versions) and frame == FRAME_LAYOUT[method]:
            return record
    return None


def save_record(payload: dict[str, Any], labels: Path, cache: Path) -> dict[str, Any]:
    """Record a peer result (replacing one with the same key); keep its labels in the cache."""
    if labels_sha256(np.load(labels)) != payload["labels_sha256"]:
        raise ValueError(f"{labels}: labels do not match the payload's labels_sha256")
    kept = cache / f"crowdkit-{payload['method']}-{payload['labels_sha256'][:16]}.npy"
    if labels.resolve() != kept.resolve():
        shutil.copyfile(labels, kept)
    record = {k: v for k, v in payload.items() if k != "tool"}
    record["recorded"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    record["machine"] = machine()
    key = (record["method"], record["data_sha256"], record["versions"])
    others = [r for r in read_records() if not _same_run(r, *key)]
    note = "crowd-kit results reused by benchmarks/bench_consensus.py; see its docstring."
    PEER_FILE.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"note": note, "records": [*others, record]}, indent=2)
    PEER_FILE.write_text(text + "\n")
    return record


def peer_labels(record: dict[str, Any], cache: Path) -> np.ndarray | None:
    """The recorded argmax labels from the cache, if present and unchanged."""
    path = cache / f"crowdkit-{record['method']}-{record['labels_sha256'][:16]}.npy"
    if not path.exists():
        return None
    labels = np.load(path)
    return labels if labels_sha256(labels) == record["labels_sha256"] else None


# --------------------------------------------------------------------------- runner
def machine() -> str:
    """CPU model, core count and memory of this box."""
    model = platform.processor() or platform.machine()
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    return f"{model}, {os.cpu_count()} cores, {memory:.0f} GB RAM"


def job(command: list[str], env: dict[str, str], max_wait: float) -> dict[str, Any]:
    """Wait for a quiet machine, run one process, return its JSON payload (with loads)."""
    load_before = wait_for_quiet(max_wait) if max_wait > 0 else None
    payload, error = run_job(command, env, TIMEOUT_S)
    if payload is None:
        raise RuntimeError(f"{' '.join(command)}: {error}")
    payload["load_before"] = load_before
    result: dict[str, Any] = payload
    return result


def run_peer(method: str, ctx: dict[str, Any]) -> dict[str, Any]:
    """The recorded crowd-kit result when it matches, else a fresh run (then recorded)."""
    rerun = method in ctx["rerun_peer"].split(",")
    record = None if rerun else find_record(method, ctx["sha"], ctx["versions"])
    if record is not None:
        print(f"crowd-kit {method}: recorded time reused ({record['recorded']})", file=sys.stderr)
        return {**record, "source": "recorded", "labels": peer_labels(record, ctx["cache"])}
    print(f"crowd-kit {method}: running", file=sys.stderr)
    labels = ctx["cache"] / f"crowdkit-{method}-latest.npy"
    command = [str(ctx["python"]), str(BENCH / "crowdkit_case.py"), method]
    command += ["--data", str(ctx["data"]), "--labels-out", str(labels)]
    payload = job(command, ctx["env"], ctx["max_wait"])
    record = save_record(payload, labels, ctx["cache"])
    return {**record, "source": "measured", "labels": np.load(labels)}


def run_ours(method: str, ctx: dict[str, Any]) -> dict[str, Any]:
    """One labelaudit process for ``method``; returns its payload with the labels."""
    print(f"labelaudit {method}: running", file=sys.stderr)
    labels = ctx["cache"] / f"labelaudit-{method}.npy"
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", method]
    command += ["--data", str(ctx["data"]), "--labels-out", str(labels)]
    payload = job(command, ctx["env"], ctx["max_wait"])
    payload["labels"] = np.load(labels) if method in METHODS else None
    return payload


def compare(ours: dict[str, Any], peer: dict[str, Any]) -> dict[str, Any]:
    """Speed-up, memory ratio, argmax agreement and the targets for one method."""
    method = ours["method"]
    agreement = None
    if peer.get("labels") is not None:
        agreement = float(np.mean(ours["labels"] == peer["labels"]))
    speedup = peer["fit_s"] / ours["fit_s"]
    row = {
        "method": method,
        "speedup": speedup,
        "agreement": agreement,
        "memory_ratio": ours["peak_mb"] / peer["peak_mb"],
        "speed_target": TARGETS[method],
        "speed_met": speedup >= TARGETS[method],
        "memory_met": ours["peak_mb"] <= peer["peak_mb"],
    }
    if method in AGREEMENT:
        row["agreement_target"] = AGREEMENT[method]
        row["agreement_met"] = agreement is not None and agreement >= AGREEMENT[method]
    return row


def _fmt(value: Any, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def render(results: dict[str, Any]) -> str:
    """Markdown tables of a run."""
    lines = [
        "| method | labelaudit fit (s) | iters | crowd-kit fit (s) | iters | crowd-kit time "
        "| speed-up (target) | same argmax | accuracy labelaudit / crowd-kit "
        "| peak RSS MB labelaudit / crowd-kit (increase) | CPU s per fit labelaudit / crowd-kit "
        "| other load during crowd-kit |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["rows"]:
        ours, peer = results["labelaudit"][row["method"]], results["crowd-kit"][row["method"]]
        lines.append(
            f"| {row['method']} | {ours['fit_s']:.3f} (best of {ours['n_runs']}) "
            f"| {_fmt(ours['n_iter'], 'd')} "
            f"| {peer['fit_s']:.2f} ({'best of ' if peer['n_runs'] > 1 else ''}"
            f"{peer['n_runs']} run{'s' if peer['n_runs'] > 1 else ''}) "
            f"| {_fmt(peer.get('n_iter'), 'd')} | {peer['source']} "
            f"| {row['speedup']:.1f}x ({row['speed_target']:.0f}x) "
            f"| {_fmt(row['agreement'], '.4%')} "
            f"| {ours['accuracy']:.4f} / {peer['accuracy']:.4f} "
            f"| {ours['peak_mb']:.0f} ({ours['peak_increase_mb']:.0f}) / "
            f"{peer['peak_mb']:.0f} ({peer['peak_increase_mb']:.0f}) "
            f"| {_fmt(ours.get('cpu_s_per_run'), '.3f')} / "
            f"{_fmt(peer.get('cpu_s_per_run'), '.1f')} "
            f"| {_fmt(peer.get('other_load'), '.0%')} |"
        )
    big = results.get("labelaudit-10m")
    if big is not None:
        lines += [
            "",
            f"10,000,000 labels, labelaudit Dawid-Skene: {big['fit_s']:.2f} s "
            f"(best of {big['n_runs']}), {big['n_iter']} iterations, converged "
            f"{big['converged']}, peak RSS {big['peak_mb']:.0f} MB (+{big['peak_increase_mb']:.0f}"
            f" MB over the generated data), accuracy {big['accuracy']:.4f}",
        ]
    return "\n".join(lines)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated")
    parser.add_argument(
        "--rerun-peer",
        nargs="?",
        const=",".join(METHODS),
        default="",
        metavar="METHODS",
        help="rerun crowd-kit (all methods, or the comma-separated ones) ignoring recorded times",
    )
    parser.add_argument("--skip-10m", action="store_true", help="skip the 10M-label run")
    parser.add_argument(
        "--items", type=int, default=N_ITEMS, help="items of the generated data (5 labels each)"
    )
    parser.add_argument("--max-wait", type=float, default=180.0, help="quiet-machine wait (s)")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache/labelaudit-bench")
    parser.add_argument("--render", type=Path, default=None, help="print a --json file's tables")
    parser.add_argument("--record-peer", nargs=2, type=Path, metavar=("PAYLOAD", "LABELS"))
    parser.add_argument("--worker", choices=[*METHODS, "dawid-skene-10m"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--labels-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3, help="labelaudit timed runs")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Both tools on every selected method, then the 10M-label run."""
    env = bench_env(blas_threads=1)
    python = ensure_venv(env)
    data = data_file(args.cache, args.items)
    ctx = {
        "env": env,
        "python": python,
        "data": data,
        "cache": args.cache,
        "sha": data_sha256(load_arrays(data)),
        "versions": peer_versions(python, env),
        "rerun_peer": args.rerun_peer,
        "max_wait": args.max_wait,
    }
    results: dict[str, Any] = {"labelaudit": {}, "crowd-kit": {}, "rows": []}
    for method in args.methods.split(","):
        peer = run_peer(method, ctx)
        ours = run_ours(method, ctx)
        results["crowd-kit"][method], results["labelaudit"][method] = peer, ours
        results["rows"].append(compare(ours, peer))
    if not args.skip_10m:
        results["labelaudit-10m"] = run_ours("dawid-skene-10m", ctx)
    results["meta"] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "data_sha256": ctx["sha"],
        "crowd-kit venv": ctx["versions"],
        "blas_threads": 1,
    }
    return results


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "labels"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.worker is not None:
        return worker(args.worker, args.data, args.labels_out, args.repeats)
    if args.render is not None:
        print(render(json.loads(args.render.read_text())))
        return 0
    if args.record_peer is not None:
        payload = json.loads(args.record_peer[0].read_text().strip().splitlines()[-1])
        record = save_record(payload, args.record_peer[1], args.cache)
        print(f"recorded crowd-kit {record['method']}: {record['fit_s']:.1f} s")
        return 0
    results = run(args)
    print(render(results))
    print(json.dumps(_plain(results["meta"])))
    if args.json is not None:
        args.json.write_text(json.dumps(_plain(results), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
