"""The qpidd daemon: its command line contract, start-up on port 0 and clean stops.

Process tests run ``python -m qpid_ha.tools.qpidd`` as a subprocess, read the bound port from
its first line of stdout, talk to it over loopback and stop it with a signal; every wait has
a deadline.
"""

from __future__ import annotations

import importlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from qpid_ha.tools.qpidd import main

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 30.0  # seconds; generous for slow CI machines, never waited in full on success
AMQP_HEADER = b"AMQP\x00\x01\x00\x00"
SASL_HEADER = b"AMQP\x03\x01\x00\x00"


def _broker_importable() -> bool:
    try:
        importlib.import_module("qpid_ha.broker.broker")
    except ImportError:
        return False
    return True


needs_broker = pytest.mark.skipif(
    not _broker_importable(), reason="qpid_ha.broker.broker is not available yet"
)


class Daemon:
    """A qpidd subprocess whose stderr goes to a file."""

    def __init__(self, args: list[str], workdir: Path) -> None:
        self.stderr_path = workdir / f"qpidd-{time.monotonic_ns()}.err"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        with self.stderr_path.open("wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "qpid_ha.tools.qpidd", *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                cwd=workdir,
                env=env,
            )

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def read_port(self) -> int:
        """The port from the first line of stdout, read within the deadline."""
        assert self.proc.stdout is not None
        line = _read_line(self.proc.stdout, time.monotonic() + DEADLINE)
        assert line.endswith(b"\n"), f"no port line; stdout {line!r}, stderr {self.stderr!r}"
        return int(line)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send ``signum`` and return the exit status, within the deadline."""
        self.proc.send_signal(signum)
        return self.wait()

    def wait(self) -> int:
        try:
            return self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            pytest.fail(f"qpidd did not exit within {DEADLINE}s; stderr {self.stderr!r}")


def _read_line(stream: IO[bytes], deadline: float) -> bytes:
    """Read up to and including a newline, or until EOF, failing at the deadline."""
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while b"\n" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no complete line before the deadline: {data!r}")
            if selector.select(remaining):
                chunk = os.read(stream.fileno(), 4096)
                if not chunk:
                    break
                data += chunk
    return data


def _answers_amqp(port: int) -> bytes:
    """Send the AMQP header to the broker and return its 8-byte protocol header reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:
        sock.sendall(AMQP_HEADER)
        reply = b""
        while len(reply) < 8:
            chunk = sock.recv(8 - len(reply))
            if not chunk:
                break
            reply += chunk
    return reply


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def start(*args: str) -> Daemon:
        d = Daemon(list(args), tmp_path)
        started.append(d)
        return d

    yield start
    for d in started:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait(timeout=DEADLINE)
        if d.proc.stdout is not None:
            d.proc.stdout.close()


# -- option errors (no broker needed) ---------------------------------------------------------


def _one_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert lines[0].startswith("qpidd: "), text
    return lines[0]


def test_a_bad_option_prints_one_line_and_exits_with_status_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--port", "70000"]) == 1
    captured = capsys.readouterr()
    assert _one_line(captured.err) == "qpidd: --port: must be 0..65535, not 70000"
    assert captured.out == ""


def test_an_unknown_option_is_one_line_and_status_1_not_argparse_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--no-such-option"]) == 1
    assert _one_line(capsys.readouterr().err) == ("qpidd: unrecognized arguments: --no-such-option")
    assert main(["--port"]) == 1
    assert _one_line(capsys.readouterr().err) == "qpidd: --port: expected one argument"


def test_a_bad_config_file_line_names_the_key_and_exits_with_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "qpidd.conf"
    config.write_text("port=0\nha-replicate=everything\n")
    assert main(["--config", str(config)]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f"qpidd: {config}:2: ha-replicate: expected none, configuration")
    config.write_text("colour=blue\n")
    assert main(["--config", str(config)]) == 1
    assert _one_line(capsys.readouterr().err) == f"qpidd: {config}:1: unknown option 'colour'"


def test_a_missing_config_file_is_one_line_and_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(tmp_path / "missing.conf")]) == 1
    assert "--config: cannot read" in _one_line(capsys.readouterr().err)


def test_help_prints_the_options_and_exits_with_status_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: qpidd")
    for option in ("--port", "--ha-cluster", "--ha-brokers-url", "--config", "--log-enable"):
        assert option in out


def test_the_daemon_process_reports_a_bad_option_with_status_1(
    daemon: Callable[..., Daemon],
) -> None:
    d = daemon("--ha-replicate", "sometimes")
    assert d.wait() == 1
    assert _one_line(d.stderr).startswith("qpidd: --ha-replicate: expected none")


# -- running brokers --------------------------------------------------------------------------


@needs_broker
def test_port_0_prints_the_bound_port_and_sigterm_stops_the_broker_cleanly(
    daemon: Callable[..., Daemon],
) -> None:
    d = daemon("--port", "0")
    port = d.read_port()
    assert 0 < port < 65536
    assert _answers_amqp(port) in (AMQP_HEADER, SASL_HEADER)
    assert d.stop(signal.SIGTERM) == 0, d.stderr
    assert "Traceback" not in d.stderr


@needs_broker
def test_sigint_stops_the_broker_cleanly(daemon: Callable[..., Daemon]) -> None:
    d = daemon("--port", "0")
    port = d.read_port()
    assert _answers_amqp(port) in (AMQP_HEADER, SASL_HEADER)
    assert d.stop(signal.SIGINT) == 0, d.stderr
    assert "Traceback" not in d.stderr


@needs_broker
def test_the_config_file_is_honoured(daemon: Callable[..., Daemon], tmp_path: Path) -> None:
    config = tmp_path / "qpidd.conf"
    config.write_text("# a free port, printed on stdout\nport=0\nlog-to-stderr=no\n")
    d = daemon("--config", str(config))
    assert _answers_amqp(d.read_port()) in (AMQP_HEADER, SASL_HEADER)
    assert d.stop() == 0
    assert d.stderr == ""  # log-to-stderr=no from the file


@needs_broker
def test_the_command_line_overrides_the_config_file(
    daemon: Callable[..., Daemon], tmp_path: Path
) -> None:
    config = tmp_path / "qpidd.conf"
    config.write_text("port=1\n")
    d = daemon("--config", str(config), "--port", "0")
    port = d.read_port()  # printed only because the command line's port 0 won
    assert port != 1
    assert _answers_amqp(port) in (AMQP_HEADER, SASL_HEADER)
    assert d.stop() == 0, d.stderr


@needs_broker
def test_the_log_rules_decide_what_reaches_stderr(daemon: Callable[..., Daemon]) -> None:
    d = daemon("--port", "0", "--log-enable", "info+:broker")
    d.read_port()
    assert d.stop() == 0
    assert "qpid_ha.broker" in d.stderr
    quiet = daemon("--port", "0", "--log-enable", "critical+")
    quiet.read_port()
    assert quiet.stop() == 0
    assert quiet.stderr == ""


@needs_broker
def test_a_port_in_use_is_one_line_and_exit_status_1(daemon: Callable[..., Daemon]) -> None:
    first = daemon("--port", "0")
    port = first.read_port()
    second = daemon("--port", str(port))
    assert second.wait() == 1
    line = _one_line(second.stderr)
    assert line.startswith(f"qpidd: cannot listen on 127.0.0.1:{port}: ")
    assert first.stop() == 0
