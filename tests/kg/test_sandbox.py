"""The network sandbox: after `deny_network`, no internet socket can be made — not by Python, not
by Oxigraph evaluating SERVICE or LOAD — while Unix sockets (the worker pipes) still work."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

PROBE = textwrap.dedent('''
    import json, socket
    import pyoxigraph as ox
    from kg.sandbox import deny_network, network_denied
    out = {"before": network_denied(), "installed": deny_network(), "again": deny_network()}
    for family in ("AF_INET", "AF_INET6"):
        try:
            socket.socket(getattr(socket, family), socket.SOCK_STREAM).close()
            out[family] = "created"
        except PermissionError:
            out[family] = "refused"
    a, b = socket.socketpair()
    a.sendall(b"x")
    out["unix"] = b.recv(1) == b"x"
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://a/s"), ox.NamedNode("http://a/p"), ox.Literal("o")))
    for name, run in {
        "service": lambda: list(store.query(
            "SELECT * WHERE { ?s ?p ?o SERVICE <http://127.0.0.1:8080/> { ?a ?b ?c } }",
            use_default_graph_as_union=True)),
        "load": lambda: store.update("LOAD <http://127.0.0.1:8080/data.ttl>"),
    }.items():
        try:
            run()
            out[name] = "ran"
        except PermissionError:
            out[name] = "refused"
    print(json.dumps(out))
''')


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="seccomp is Linux only")
def test_deny_network_refuses_internet_sockets_for_python_and_oxigraph() -> None:
    run = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         timeout=120, check=True)
    out = json.loads(run.stdout)
    assert out == {"before": False, "installed": True, "again": True, "AF_INET": "refused",
                   "AF_INET6": "refused", "unix": True, "service": "refused", "load": "refused"}


def test_the_filter_program_denies_only_socket_for_the_internet_families() -> None:
    from kg.sandbox import _ARCHES, _program

    for audit_arch, socket_nr in _ARCHES.values():
        program = _program(audit_arch, socket_nr)
        assert len(program) < 32
        assert program[-1][3] & 0xFFFF == 13  # EACCES
        assert program[-2][3] == 0x7FFF0000  # allow
        assert (0x15, 1, 0, socket_nr) in program
