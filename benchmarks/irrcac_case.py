"""Case 8, peer side: one irrCAC 0.4.4 coefficient, run inside ``benchmarks/.venv-irrcac``.

irrCAC pins scipy 1.12, so it cannot share the project venv. Usage::

    benchmarks/.venv-irrcac/bin/python benchmarks/irrcac_case.py METHOD --data FILE.npy

METHOD is one of gwet, fleiss, conger, bp, krippendorff. The timed call is
``CAC(df, digits=12).METHOD()`` (the constructor's preprocessing included, as labelaudit's
timing includes building its counts); prints one JSON line with the median time, the peak
RSS increase, the value and its standard error, and the versions used.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from measure import measure

KEYS = {
    "gwet": "gwet_ac",
    "fleiss": "fleiss_kappa",
    "bp": "brennan_prediger",
    "conger": "conger_kappa",
    "krippendorff": "krippendorff_alpha",
}
DIGITS = 12


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("method", choices=sorted(KEYS))
    parser.add_argument("--data", type=Path, required=True)
    return parser.parse_args(argv)


def _versions() -> dict[str, str]:
    return {name: metadata.version(name) for name in ("irrCAC", "numpy", "scipy", "pandas")}


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    found = (
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}"
        for i in threadpool_info()
    )
    return ", ".join(dict.fromkeys(found))


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    import numpy as np
    import pandas as pd
    from irrCAC.raw import CAC

    frame = pd.DataFrame(np.load(args.data))

    def run() -> dict[str, Any]:
        result: dict[str, Any] = getattr(CAC(frame, digits=DIGITS), args.method)()
        return result

    measurement, result = measure(run)
    est = result["est"]
    key = KEYS[args.method]
    payload = {
        "measurement": measurement.to_dict(),
        "time_s": measurement.median_s,
        "scale": 1.0,
        "memory_mb": measurement.peak_increase_mb,
        "memory_kind": "increase",
        "values": {key: float(est["coefficient_value"]), key + " SE": float(est["se"])},
        "info": {"versions": _versions(), "blas": _blas(), "digits": DIGITS},
    }
    print(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
