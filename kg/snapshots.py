"""Point-in-time copies of the store for other processes to read.

pyoxigraph documents opening a store read-only while another process writes it as undefined
behaviour, so SPARQL worker processes never open the live store. The writer's process makes a
RocksDB checkpoint (`Store.backup`: hard links to the immutable table files, a few milliseconds)
whenever a reader asks for the store after a write, and readers open that checkpoint read-only.
Nobody writes a checkpoint, so reading it is well defined; it is removed once no reader uses it.

    snapshots = Snapshots(store)            # in the process that owns the store
    generation, path = snapshots.current()  # a checkpoint of the store as it is now
    snapshots.prune(in_use={path})          # delete the ones nobody reads any more
"""

from __future__ import annotations

import logging
import shutil
import threading
import uuid
from collections.abc import Collection
from pathlib import Path

from kg.store import Store, private_dir

logger = logging.getLogger(__name__)
SNAPSHOTS_DIRNAME = "snapshots"


class Snapshots:
    """Checkpoints of one writable on-disk store under `data_dir/snapshots/`."""

    def __init__(self, store: Store) -> None:
        if store.data_dir is None or store.read_only:
            raise ValueError("snapshots need a writable on-disk store")
        self.store = store
        self.directory = store.data_dir / SNAPSHOTS_DIRNAME
        self._lock = threading.Lock()
        self._latest: tuple[int, Path] | None = None
        # Checkpoints of an earlier run are nobody's any more.
        shutil.rmtree(self.directory, ignore_errors=True)
        private_dir(self.directory)

    def current(self) -> tuple[int, Path]:
        """The generation of the store and a checkpoint that holds exactly that state."""
        with self._lock:
            generation = self.store.generation
            if self._latest is not None and self._latest[0] == generation:
                return self._latest
            path = self.directory / f"g{generation}-{uuid.uuid4().hex[:8]}"
            self.store.backup(path)
            self._latest = (generation, path)
            return self._latest

    def prune(self, *, in_use: Collection[Path]) -> None:
        """Delete every checkpoint but the latest and those in `in_use`."""
        with self._lock:
            keep = {p.name for p in in_use}
            if self._latest is not None:
                keep.add(self._latest[1].name)
            for path in self.directory.iterdir():
                if path.name not in keep:
                    shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        """Remove every checkpoint (the readers have stopped)."""
        with self._lock:
            self._latest = None
            shutil.rmtree(self.directory, ignore_errors=True)
