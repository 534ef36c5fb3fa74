"""The AMQP layer is sans-IO: it imports no I/O, clock or concurrency module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import qpid_ha.amqp

FORBIDDEN = {
    "anyio",
    "asyncio",
    "socket",
    "ssl",
    "time",
    "select",
    "selectors",
    "threading",
    "trio",
}
AMQP_DIR = Path(qpid_ha.amqp.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a source file imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_amqp_module_imports_io_clocks_or_tasks() -> None:
    offenders = {
        p.name: sorted(imported_modules(p) & FORBIDDEN) for p in sorted(AMQP_DIR.glob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_amqp_layer_loads_no_network_or_event_loop_module() -> None:
    code = (
        "import sys, qpid_ha.amqp, qpid_ha.amqp.message\n"
        "bad = {'anyio', 'asyncio', 'socket', 'ssl', 'selectors', 'trio'} & set(sys.modules)\n"
        "print(sorted(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
