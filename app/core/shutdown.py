"""SIGTERM always ends the server within ``LIMIT`` seconds.

The server shuts down gracefully on SIGTERM (open connections get ``GRACE`` seconds, then workers stop), but a stuck
worker, a hung database call or a browser socket must never keep the process alive: after the first SIGTERM a
daemon timer ends the process with exit code 1 if it is still there ``LIMIT - 1`` seconds later. Only the real
server arms it (``landing serve``); tests that build the app in-process never do.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

log = logging.getLogger(__name__)

LIMIT = 10.0
GRACE = 4.0
_armed = threading.Event()
enabled = False  # set by ``landing serve``


def _watchdog() -> None:
    log.error("shutdown did not finish within %.0f s of SIGTERM: exiting now", LIMIT - 1)
    logging.shutdown()
    os._exit(1)


def arm() -> None:
    if _armed.is_set():
        return
    _armed.set()
    timer = threading.Timer(LIMIT - 1, _watchdog)
    timer.daemon = True
    timer.start()


def install() -> None:
    """Chain onto the server's own SIGTERM handler (call once the server has installed it, i.e. at startup)."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: Any) -> None:
        arm()
        if callable(previous):
            previous(signum, frame)
        else:
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
