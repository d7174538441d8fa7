"""Pacing attempts to a platform's budget of requests in a sliding window.

A platform that counts requests over a sliding window (TikTok's 600 a minute per endpoint, the
Graph API's call budget behind its usage headers) answers an error past its budget, and some then
make the client wait a long time. :class:`RequestBudget` keeps the attempts a client sends within
a limit, so the platform never counts more; the limit is fixed (TikTok states it) or set as the
platform's answers tell it (the Graph API reports only the share of its budget used).
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class RequestBudget:
    """At most ``limit`` attempts in any ``window`` seconds, as the platform counts them.

    An attempt takes a slot before it is sent and keeps it, in flight, until its answer has been
    read; the slot is then counted until ``window`` seconds after that. So when an attempt is
    sent, every earlier attempt the platform could still count in its sliding window (those whose
    request arrived less than ``window`` seconds before this one's) still holds a slot here, and
    the platform never counts more than ``limit``. Below the budget nothing waits; at it, an
    attempt waits for the oldest slot to leave the window (the shared client does not count that
    wait against the call's deadline). A limit of None lets every attempt through at once, still
    counting them; :meth:`set_limit` changes the limit for the attempts still to come.
    """

    def __init__(
        self, limit: int | None, window: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if (limit is not None and limit < 1) or window <= 0:
            raise ValueError(f"a budget needs a positive limit and window: {limit}/{window}")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._condition = threading.Condition()
        self._in_flight = 0
        self._finished: collections.deque[float] = collections.deque()

    def set_limit(self, limit: int | None) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"a budget needs a positive limit: {limit}")
        with self._condition:
            self.limit = limit
            self._condition.notify_all()

    @contextmanager
    def slot(self) -> Iterator[int]:
        """Hold a slot while the attempt is on the wire; yields the attempts in the window once
        this one is counted (the platform's count when it arrives, unless others spend too)."""
        with self._condition:
            while True:
                now = self._clock()
                while self._finished and self._finished[0] <= now - self.window:
                    self._finished.popleft()
                counted = self._in_flight + len(self._finished)
                if self.limit is None or counted < self.limit:
                    break
                # Until the oldest finished attempt leaves the window, one in flight ends, or
                # the limit changes.
                self._condition.wait(
                    self._finished[0] + self.window - now if self._finished else None
                )
            self._in_flight += 1
        try:
            yield counted + 1
        finally:
            with self._condition:
                self._in_flight -= 1
                self._finished.append(self._clock())
                self._condition.notify_all()


__all__ = ["RequestBudget"]
