"""Per-client concurrency for expensive operations, so one client cannot starve the others.

With two SPARQL workers, two slow queries from one client used to make every other client wait
a whole time limit and get 503. Each client address may now hold at most `limit` workers at
once; a request beyond that is answered 429 at once (with `Retry-After`), not queued.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from kg.errors import TooManyRequestsError


class ClientSlots:
    """Counts the operations each client runs now; `hold` refuses one over the limit."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a client needs at least one slot")
        self.limit = limit
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def hold(self, client: str) -> Iterator[None]:
        """Run the body in one of `client`'s slots; TooManyRequestsError if none is free."""
        with self._lock:
            running = self._running.get(client, 0)
            if running >= self.limit:
                raise TooManyRequestsError(
                    f"this client already runs {running} SPARQL "
                    f"{'query' if running == 1 else 'queries'} (at most {self.limit} at once); "
                    "wait for the answer before sending the next one"
                )
            self._running[client] = running + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._running[client] - 1
                if left:
                    self._running[client] = left
                else:
                    del self._running[client]

    def running(self, client: str) -> int:
        """How many operations `client` runs now."""
        with self._lock:
            return self._running.get(client, 0)
