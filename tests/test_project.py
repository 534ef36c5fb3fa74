"""Project-level promises: README commands, CI, examples and the public API."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import qpid_ha
import qpid_ha.amqp
import qpid_ha.broker

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def readme_commands() -> list[str]:
    """The shell commands in the README's "Two commands" section, in order."""
    section = README.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_gives_a_run_and_a_test_command() -> None:
    run, test = readme_commands()
    assert "pip install" in run and "pip install" in test
    assert test.endswith("pytest")


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, test = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert test in ci.splitlines()


def test_readme_run_command_starts_the_qpidd_console_script() -> None:
    run, _ = readme_commands()
    assert run.split("&&")[-1].split()[0] == "qpidd"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'qpidd = "qpid_ha.tools.qpidd:main"' in pyproject


@pytest.mark.parametrize("example", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_example_runs(example: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(example)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


@pytest.mark.parametrize(
    "module", [qpid_ha, qpid_ha.amqp, qpid_ha.broker], ids=lambda m: m.__name__
)
def test_public_names_exist_and_are_documented(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    for name in names:
        obj = getattr(module, name)
        if isinstance(obj, type) or callable(obj):
            assert obj.__doc__, f"{module.__name__}.{name} has no docstring"  # type: ignore[attr-defined]


def test_exception_tree_is_rooted_at_qpid_ha_error() -> None:
    for name in qpid_ha.__all__:
        obj = getattr(qpid_ha, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, qpid_ha.QpidHaError)
    err = qpid_ha.DecodeError("bad", condition="amqp:invalid-field", info={"x": 1})
    assert (err.condition, err.description, err.info) == ("amqp:invalid-field", "bad", {"x": 1})
    assert qpid_ha.FramingError().condition == "amqp:connection:framing-error"


def test_readme_quick_start_sends_and_receives(capsys: pytest.CaptureFixture[str]) -> None:
    from qpid_ha.broker.broker import Broker

    section = README.split("## Quick start", 1)[1]
    code = re.findall(r"```python\n(.+?)\n```", section, re.S)[0]
    assert len([ln for ln in code.splitlines() if ln and not ln.startswith("#")]) <= 5
    with Broker.running(port=0, auto_create=True) as broker:
        exec(code.replace("amqp://127.0.0.1:5672", broker.url), {})
    assert capsys.readouterr().out.strip() == "hello"
