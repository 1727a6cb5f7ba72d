"""The floors hold (import-linter's contracts, pyproject.toml) and no module imports itself back
through others: a cycle means a concept sits in the wrong room."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("ontology", "kg", "ingest", "search", "api")


def _cycles() -> list[list[str]]:
    graph = grimp.build_graph(*PACKAGES)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_back() -> None:
    assert _cycles() == []


def test_the_import_contracts_are_kept() -> None:
    command = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    run = subprocess.run([sys.executable, "-c", command, "--no-cache"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_the_facade_contract_names_every_shell_module() -> None:
    """The forbidden contract lists api/'s modules by name; a new one must be added to it."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (facade,) = [c for c in contracts if c.get("source_modules") == ["api.knowledgebase"]]
    api = REPO / "api"
    children = {f"api.{p.stem}" for p in api.glob("*.py") if p.stem != "__init__"}
    children |= {f"api.{p.parent.name}" for p in api.glob("*/__init__.py")}
    assert set(facade["forbidden_modules"]) == children - {"api.knowledgebase"}
