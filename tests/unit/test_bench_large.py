"""bench.large measures the sync process's own memory, not the bench's."""

from __future__ import annotations

from uuid import uuid4

import pytest

from bench import large


class _Stack:
    def env(self) -> dict[str, str]:
        return {}


def test_the_peak_rss_is_the_sync_process_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a bench process whose own peak RSS passed 400 MB (make bench's earlier modules), when it runs a sync
    child that stays small, then the peak it reports is the child's (under 100 MB), not the bench's (before: wait4's
    ru_maxrss, which Linux carries from the spawning process through vfork/exec, reported the bench's peak)."""
    big = bytearray(400 * 2**20)
    for i in range(0, len(big), 4096):
        big[i] = 1
    del big
    monkeypatch.setattr(large, "_SYNC", "import sys\n")

    _, peak_kb = large._sync(_Stack(), uuid4())

    assert peak_kb < 100 * 1024
