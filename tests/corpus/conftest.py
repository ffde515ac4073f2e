"""Fixtures of the corpus tests."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest


class Hang(Exception):
    """A call took longer than the generous bound a test gives it."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    def stop(signum: int, frame: object) -> None:
        raise Hang(f"still running after {seconds} s: quadratic or hanging")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def deadline() -> Callable[[float], AbstractContextManager[None]]:
    """A hang guard, not a timing: bounds are many times what the call needs.

    Used by the regression tests of loops that were quadratic (they took 8-37 s on inputs
    that now take well under a second) and by the property suite (no input may hang).
    """
    return _deadline
