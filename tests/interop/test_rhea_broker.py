"""Interop with rhea (the Node.js AMQP 1.0 client), when node and npm are available.

rhea differs from proton in ways a broker must cope with (research file section 2): no SASL
when no username is given (the bare AMQP header), trimmed performative lists, and a session
incoming-window of 2048 that it keeps topping up. Skipped cleanly when node, npm or the
network to install rhea is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from qpid_ha.broker.broker import Broker

from .conftest import depth

pytestmark = pytest.mark.timeout(120)

# Sends N messages to queue "q" (waiting for each to be accepted), then receives N from it
# and prints a JSON summary. Exits non-zero on any error or after 20 s.
_CLIENT = r"""
const rhea = require('rhea');
const [port, n] = [Number(process.argv[2]), Number(process.argv[3])];
const container = rhea.create_container({id: 'rhea-interop'});
let accepted = 0, sent = 0;
const bodies = [];
setTimeout(() => { console.error('timeout'); process.exit(2); }, 20000);
container.on('error', (ctx) => { console.error('error', ctx.error); process.exit(3); });
container.on('disconnected', (ctx) => {
  if (ctx.error) { console.error('disconnected', ctx.error); process.exit(4); }
});
container.on('connection_open', (ctx) => {
  ctx.connection.open_sender('q');
});
container.on('sendable', (ctx) => {
  while (ctx.sender.sendable() && sent < n) {
    ctx.sender.send({body: 'm' + sent, application_properties: {i: sent}});
    sent++;
  }
});
container.on('accepted', (ctx) => {
  if (++accepted === n) {
    ctx.sender.close();
    ctx.connection.open_receiver('q');
  }
});
container.on('message', (ctx) => {
  bodies.push(ctx.message.body);
  if (bodies.length === n) {
    const caps = ctx.connection.remote.open.offered_capabilities;
    console.log(JSON.stringify({accepted, bodies, caps: [].concat(caps || [])}));
    ctx.connection.close();
  }
});
container.on('connection_close', () => process.exit(0));
container.connect({host: '127.0.0.1', port});
"""


@pytest.fixture(scope="session")
def rhea_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with rhea 3 installed by npm, or a skip."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed for the rhea interop tests")
    directory = tmp_path_factory.mktemp("rhea")
    try:
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", "rhea@3"],
            cwd=directory,
            check=True,
            capture_output=True,
            timeout=90,
        )
    except (subprocess.SubprocessError, OSError) as e:
        pytest.skip(f"cannot install rhea with npm: {e}")
    (directory / "client.js").write_text(_CLIENT)
    return directory


@pytest.fixture
def broker() -> Iterator[Broker]:
    with Broker.running(port=0) as running:
        running.declare_queue("q")
        yield running


def test_rhea_without_sasl_sends_and_receives_many_messages_in_order(
    rhea_dir: Path, broker: Broker
) -> None:
    node = shutil.which("node")
    assert node is not None
    n = 3000  # more than rhea's 2048-transfer session window
    result = subprocess.run(
        [node, str(rhea_dir / "client.js"), str(broker.port), str(n)],
        cwd=rhea_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["accepted"] == n
    assert summary["bodies"] == [f"m{i}" for i in range(n)]
    assert "ANONYMOUS-RELAY" in summary["caps"]
    assert depth(broker, "q") == 0
