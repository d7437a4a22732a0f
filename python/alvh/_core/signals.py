"""Ctrl-C across processes: worker and manager processes ignore SIGINT (`ignore_interrupt`,
a pool initializer), so only the parent sees it, prints one line and exits 130 (`alvh.cli`)."""

from __future__ import annotations

import signal

__all__ = ["ignore_interrupt"]


def ignore_interrupt() -> None:
    """Ignore SIGINT in this process (a process-pool or manager initializer)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
