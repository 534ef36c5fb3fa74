"""``qpidd``: the qpid-ha broker daemon (design.md section 3.1).

Usage::

    qpidd [--config FILE] [--port N] [--interface ADDR] [--auth yes|no] ...
    python -m qpid_ha.tools.qpidd --port 0

Options and the config file are those of :mod:`qpid_ha.broker.options`. With ``--port 0`` the
daemon prints the port it bound, alone, on the first line of stdout, so scripts and tests can
start it on a free port and read the port back. SIGTERM and SIGINT stop it cleanly (exit
status 0). A bad option, a bad config file, or a broker that cannot start (for example: the
port is taken) gives one line ``qpidd: <message>`` on stderr and exit status 1.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

import anyio

from ..broker.options import BrokerOptions, configure_logging, parse_args
from ..errors import AmqpError, QpidHaError

__all__ = ["main"]

log = logging.getLogger("qpid_ha.broker")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the daemon until SIGTERM or SIGINT.

    Args:
        argv: the arguments without the program name; ``sys.argv[1:]`` when None.

    Returns:
        The exit status: 0 after a clean stop (or ``--help``/``--version``), 1 when the
        options are bad or the broker cannot start.
    """
    # Until the event loop's signal receiver is installed, SIGTERM stops the daemon as SIGINT
    # does, instead of killing it with status -15.
    args = sys.argv[1:] if argv is None else list(argv)
    if threading.current_thread() is not threading.main_thread():
        return _main(args)  # signals cannot be handled here; options errors still work
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _main(args)
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str]) -> int:
    try:
        options = parse_args(argv)
    except QpidHaError as e:
        return _fail(e)
    except SystemExit as e:  # --help and --version print and "exit"
        return e.code if isinstance(e.code, int) else 0
    try:
        configure_logging(options)
    except OSError as e:
        return _fail(f"--log-to-file: cannot open {options.log_to_file!r}: {e.strerror or e}")
    try:
        anyio.run(_serve, options)
    except OSError as e:
        return _fail(f"cannot listen on {options.interface}:{options.port}: {e.strerror or e}")
    except (QpidHaError, ValueError) as e:
        return _fail(e)
    return 0


async def _serve(options: BrokerOptions) -> None:
    """Run a broker until the first SIGTERM or SIGINT; later ones are ignored."""
    from ..broker.broker import Broker  # the heavy part; options errors need none of it

    # Open the receiver first so a signal during start-up still means a clean stop.
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with Broker(options) as broker:
            if options.port == 0:
                print(broker.port, flush=True)
            log.info("qpidd %s ready on %s", _version(), broker.url)
            async for signum in signals:
                log.info("qpidd stopping on %s", signal.Signals(signum).name)
                break


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _fail(error: str | BaseException) -> int:
    text = (error.description or error.condition) if isinstance(error, AmqpError) else str(error)
    message = " ".join(text.split())  # always one line
    print(f"qpidd: {message}", file=sys.stderr, flush=True)
    return 1


def _version() -> str:
    from .. import __version__

    return __version__


if __name__ == "__main__":
    raise SystemExit(main())
