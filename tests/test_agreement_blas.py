"""The agreement of a large table runs with one BLAS thread (issue 15): OpenBLAS's idle
threads spin and take the cores the diagnostics thread and Arrow need."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from labelaudit.agreement._blas import LARGE_CELLS, one_blas_thread


def blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_one_thread_inside_for_large_tables_only() -> None:
    with threadpool_limits(limits=2, user_api="blas"):  # as on a 2-core machine
        before = blas_threads()
        assert before and all(n == 2 for n in before)
        with one_blas_thread(LARGE_CELLS):
            assert all(n == 1 for n in blas_threads())
            counts = np.arange(4 * LARGE_CELLS, dtype=np.float64).reshape(-1, 4)
            product = counts @ np.eye(4)
        assert blas_threads() == before  # restored on the way out
        with one_blas_thread(LARGE_CELLS - 1):
            assert blas_threads() == before
    assert np.array_equal(product, counts)
