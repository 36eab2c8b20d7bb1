"""One BLAS thread for the agreement computation on large tables.

The coefficients multiply tall, narrow matrices ((n_items, q) by (q, q) or by a q-vector,
q small). OpenBLAS splits such products over every core, and its threads then spin while
they wait for more work: on a 2-core machine they take the core that the diagnostics
thread and Arrow need (measured: about 0.7-2 s more CPU and up to 1.8 s more wall time for
the agreement of 1M items x 5 annotators, ``benchmarks/bench_e2e.py``). One thread also
makes the last bits of large results independent of the number of cores (a product split
over threads sums in another order). ``OPENBLAS_NUM_THREADS=1`` does the same for the whole
process; this limits only the agreement computation and only for large tables.
"""

from __future__ import annotations

import contextlib
from typing import Any

#: Item x category cells from which products are big enough for BLAS to use threads.
LARGE_CELLS = 1 << 16


def one_blas_thread(cells: int) -> contextlib.AbstractContextManager[Any]:
    """A context in which BLAS uses one thread when ``cells`` (n_items x q) is at least
    :data:`LARGE_CELLS`; nothing changes for smaller tables (which BLAS does not split)
    or when ``threadpoolctl`` cannot find the BLAS library."""
    if cells < LARGE_CELLS:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits  # imported only for large tables

    return threadpool_limits(limits=1, user_api="blas")
