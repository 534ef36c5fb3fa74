"""Fixtures of the client tests: the anyio backend and ``qpidd`` daemons on port 0.

A daemon is ``python -m qpid_ha.tools.qpidd --port 0 --auto-create yes``: it prints the port
it bound on its first line of stdout (read within a deadline), listens on loopback and logs
to a file of the test's temporary directory. Tests may SIGKILL, SIGSTOP and SIGCONT it; at
teardown every daemon still running is continued, killed and reaped within a deadline.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE = 30.0  # seconds to print the port; never waited in full on success


class Qpidd:
    """One qpidd subprocess on a free loopback port."""

    def __init__(self, args: tuple[str, ...], workdir: Path) -> None:
        self.log_path = workdir / f"qpidd-{time.monotonic_ns()}.log"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "qpid_ha.tools.qpidd",
                    "--port",
                    "0",
                    "--interface",
                    "127.0.0.1",
                    "--auto-create",
                    "yes",
                    *args,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=workdir,
                env=env,
            )
        self.port = self._read_port()
        self.stopped = False

    def _read_port(self) -> int:
        stdout = self.proc.stdout
        assert stdout is not None
        deadline = time.monotonic() + START_DEADLINE
        data = b""
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while b"\n" not in data:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    self.kill()
                    pytest.fail(f"qpidd printed no port in {START_DEADLINE}s: {self.log!r}")
                chunk = os.read(stdout.fileno(), 4096)
                if not chunk:
                    self.kill()
                    pytest.fail(f"qpidd exited before printing its port: {self.log!r}")
                data += chunk
        return int(data.split(b"\n", 1)[0])

    @property
    def log(self) -> str:
        """What the daemon wrote to stderr so far."""
        return self.log_path.read_text(errors="replace")

    @property
    def url(self) -> str:
        """The daemon's address in Qpid URL form."""
        return f"tcp:127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL the daemon (continuing it first if stopped) and reap it."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGKILL)
                self.proc.send_signal(signal.SIGCONT)
        self.stopped = False
        self.proc.wait(timeout=START_DEADLINE)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def stop(self) -> None:
        """SIGSTOP: the daemon keeps its sockets but answers nothing."""
        self.proc.send_signal(signal.SIGSTOP)
        self.stopped = True

    def cont(self) -> None:
        """SIGCONT a stopped daemon."""
        self.proc.send_signal(signal.SIGCONT)
        self.stopped = False


QpiddFactory = Callable[..., Qpidd]


@pytest.fixture
def qpidd(tmp_path: Path) -> Iterator[QpiddFactory]:
    """Start qpidd daemons: ``qpidd(*extra_args)``; all are killed at teardown."""
    started: list[Qpidd] = []

    def start(*args: str) -> Qpidd:
        daemon = Qpidd(args, tmp_path)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.stopped:
            daemon.cont()
        daemon.kill()


@pytest.fixture
def anyio_backend() -> str:
    """The client tests run on asyncio."""
    return "asyncio"
