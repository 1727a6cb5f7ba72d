"""`wijken serve` in a child process for the benchmark scripts: a free loopback port, the
environment the service runs with, and a wait until `/api/health` answers 200.

    with served(data_dir, {"WIJKEN_UPDATE_TOKEN": token}) as url:
        httpx.get(f"{url}/api/search", params={"q": "renovatie"})
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(data_dir: Path, env: dict[str, str] | None = None, *,
           startup_seconds: float = 120.0) -> Iterator[str]:
    """Run the service over `data_dir`; yields its base URL and stops it afterwards."""
    port = free_port()
    full_env = {**os.environ, "WIJKEN_DATA_DIR": str(data_dir), "WIJKEN_PORT": str(port),
                "OMP_WAIT_POLICY": "PASSIVE", **(env or {})}
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve"], cwd=REPO,
                              env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            if server.poll() is not None:
                raise SystemExit(f"wijken serve exited with status {server.returncode}")
            try:
                if httpx.get(f"{url}/api/health", timeout=30).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"wijken serve did not answer within {startup_seconds:.0f} s")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(60)
