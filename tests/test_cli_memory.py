"""The console process keeps freed memory for reuse (labelaudit.cli.memory)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")

# A 64 MiB temporary freed and allocated again, five times: the page faults of the last
# four allocations are counted (each page is touched).
_PROGRAM = """
import resource, sys
import numpy as np
if sys.argv[1] == "keep":
    from labelaudit.cli.memory import keep_freed_memory
    assert keep_freed_memory()
def touched():
    block = np.empty(64 << 20, dtype=np.uint8)
    block.fill(1)
    del block
touched()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    touched()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


def test_freed_blocks_are_reused_without_page_faults() -> None:
    # glibc maps a 64 MiB block afresh each time (above its mmap threshold): every page of
    # every allocation faults, 16,384 pages of 4 KiB per allocation (32 if all of them are
    # 2 MiB huge pages); kept, the freed block is reused and its pages are already mapped.
    kept, plain = _faults("keep"), _faults("plain")
    assert plain >= 4 * 32
    assert kept <= plain // 10
