"""SPARQL queries in worker processes, so that a time limit can really stop them.

Oxigraph cannot interrupt a running query, and a thread cannot be killed; a process can. Each
worker is started with the ``spawn`` method (never forked: the parent may hold OpenMP/FAISS
state), first takes away its own right to open network sockets (`kg.sandbox`: whatever a query
says, the engine cannot connect out), then answers one query at a time with the result already
serialised. It reads a checkpoint of the store named in each request (`kg.snapshots`: the writer
makes one after each write), never the live store that another process writes. When a query
outlives the limit, its worker is killed and a fresh one is started in the background.

    pool = SparqlWorkerPool(WorkerConfig(data_dir=..., max_rows=10_000), timeout=10.0)
    pool.start()
    result = pool.run(QueryRequest("SELECT * WHERE { ?s ?p ?o }"))
    pool.close()
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import queue
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from kg.errors import (
    ForbiddenQueryError,
    NotAcceptableError,
    QuerySyntaxError,
    QueryTimeoutError,
    SearchIndexError,
    ServiceBusyError,
    UserError,
    WijkenError,
)
from kg.sandbox import deny_network
from kg.snapshots import Snapshots
from kg.sparql.executor import Executor
from kg.sparql.messages import QueryFailure, QueryRequest, QueryResult, WorkerConfig

logger = logging.getLogger(__name__)
STARTUP_TIMEOUT = 60.0
# While a replacement worker starts (about 1 s), requests wait this much longer for it.
STARTUP_GRACE = 10.0


_ERRORS: dict[str, type[WijkenError]] = {
    cls.code: cls
    for cls in (
        UserError,
        QuerySyntaxError,
        ForbiddenQueryError,
        SearchIndexError,
        NotAcceptableError,
    )
}


# -- the worker process ----------------------------------------------------------------------


def _serve(conn: Connection, config: WorkerConfig) -> None:
    """Worker main loop: open the store, say ready, then answer requests until EOF."""
    import signal

    # Ctrl-C reaches the whole process group; the server decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if config.sandbox and not deny_network():
        logger.warning("SPARQL worker runs without the network sandbox")

    executor = Executor(config)
    if config.live_store:
        executor.ensure_store(None)  # fail at start, not at the first query
    conn.send("ready")
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(executor.answer(request))


# -- the pool in the server process ----------------------------------------------------------


class _Worker:
    def __init__(self, config: WorkerConfig) -> None:
        self.snapshot: Path | None = None  # the checkpoint its last request read
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, config), daemon=True)
        self.process.start()
        child.close()

    def wait_ready(self, timeout: float) -> bool:
        try:
            return self.conn.poll(timeout) and self.conn.recv() == "ready"
        except (EOFError, OSError):
            return False

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        if not self.conn.closed:
            self.conn.close()


class SparqlWorkerPool:
    """A small pool of warm worker processes with a per-query time limit.

    `run` borrows an idle worker (waiting at most one time limit for one), sends the request
    and waits at most `timeout` seconds for the answer; a worker that overruns is killed and
    replaced in the background, and the caller gets QueryTimeoutError (503).
    """

    def __init__(self, config: WorkerConfig, *, timeout: float, size: int = 2,
                 snapshots: Snapshots | None = None) -> None:
        if size < 1:
            raise ValueError("a SPARQL worker pool needs at least one worker")
        self.config = config if snapshots is None else dataclasses.replace(config,
                                                                          live_store=False)
        self.snapshots = snapshots
        self.timeout = timeout
        self.size = size
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._starting = 0
        self._lock = threading.Lock()
        self._closed = False

    def start(self, *, wait: bool = True) -> None:
        """Start the workers; with `wait`, return once they have opened the store (and raise
        WijkenError if none could)."""
        threads = [self._replace() for _ in range(self.size)]
        if wait:
            for thread in threads:
                thread.join(STARTUP_TIMEOUT)
            if self._idle.empty():
                self.close()
                raise WijkenError(
                    f"no SPARQL worker could open the store in {self.config.data_dir}; "
                    "see the log above"
                )

    def _replace(self) -> threading.Thread:
        with self._lock:
            self._starting += 1
        thread = threading.Thread(target=self._spawn, name="sparql-worker-spawn", daemon=True)
        thread.start()
        return thread

    def _spawn(self) -> None:
        try:
            worker = _Worker(self.config)
            with self._lock:
                if self._closed:
                    worker.kill()
                    return
                self._all.add(worker)
            if worker.wait_ready(STARTUP_TIMEOUT):
                self._idle.put(worker)
                return
            if not self._closed:
                code = worker.process.exitcode
                logger.error("a SPARQL worker failed to start (exit code %s)", code)
            self._discard(worker)
        finally:
            with self._lock:
                self._starting -= 1

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)

    def run(self, request: QueryRequest) -> QueryResult:
        """Answer one query within the time limit; raises a WijkenError on any failure."""
        wait = self.timeout + (STARTUP_GRACE if self._starting else 0.0)
        try:
            worker = self._idle.get(timeout=wait)
        except queue.Empty:
            raise ServiceBusyError(
                f"all {self.size} SPARQL workers stayed busy for {self.timeout:g} s; "
                "try again later"
            ) from None
        started = time.monotonic()
        if self.snapshots is not None:
            request = self._on_snapshot(worker, request)
        try:
            worker.conn.send(request)
            answered = worker.conn.poll(self.timeout)
            reply = worker.conn.recv() if answered else None
        except (EOFError, OSError) as exc:
            self._discard(worker)
            self._replace()
            raise WijkenError("the SPARQL worker stopped unexpectedly; try again") from exc
        if reply is None:
            self._discard(worker)
            self._replace()
            raise QueryTimeoutError(
                f"the query was stopped after the time limit of {self.timeout:g} s "
                f"(ran {time.monotonic() - started:.1f} s); narrow it down or add a LIMIT"
            )
        self._idle.put(worker)
        if isinstance(reply, QueryFailure):
            raise _ERRORS.get(reply.code, WijkenError)(reply.message)
        assert isinstance(reply, QueryResult)
        return reply

    def _on_snapshot(self, worker: _Worker, request: QueryRequest) -> QueryRequest:
        """Point the request at the current checkpoint; drop those no worker reads any more."""
        assert self.snapshots is not None
        # One lock around taking, assigning and pruning: a checkpoint handed to one worker is
        # never pruned by a concurrent request before that worker is known to read it.
        with self._lock:
            _, path = self.snapshots.current()
            if worker.snapshot != path:
                worker.snapshot = path
                in_use = {w.snapshot for w in self._all if w.snapshot is not None}
                self.snapshots.prune(in_use=in_use)
        return dataclasses.replace(request, snapshot=str(path))

    def close(self) -> None:
        """Kill every worker; the pool cannot be used afterwards."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.kill()
        if self.snapshots is not None:
            self.snapshots.close()
