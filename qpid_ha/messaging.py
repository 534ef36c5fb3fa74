"""A blocking client with qpid.messaging's names and behaviour, over :mod:`qpid_ha.client`.

Code written for Qpid's Python ``qpid.messaging`` (which never reached Python 3) runs with
an import change::

    from qpid_ha.messaging import Connection, Message

    connection = Connection.establish("node1", reconnect=True,
                                      reconnect_urls=["node2", "node3"], heartbeat=10)
    session = connection.session()
    sender = session.sender("q;{create:always}")
    sender.send(Message("hello"))
    receiver = session.receiver("q")
    message = receiver.fetch(timeout=5)
    session.acknowledge()
    connection.close()

Every call runs the async client on an event loop thread of its own (anyio's blocking
portal); there is no second implementation. Options may also be given in qpid.messaging's
string form: ``Connection("node1", "{reconnect:true,heartbeat:10}")``.

The exceptions keep qpid.messaging's names and places; they are
:class:`~qpid_ha.errors.QpidHaError` subclasses, so they also sit in the project's tree::

    MessagingError
     ├── ConnectionError        the connection failed or was closed
     │    ├── ConnectError      no broker of the URL list could be reached
     │    └── AuthenticationFailure
     ├── SessionError
     ├── LinkError              a link was refused or detached
     │    ├── AddressError
     │    │    ├── MalformedAddress
     │    │    └── ResolutionError
     │    │         └── NotFound
     │    ├── SenderError
     │    │    └── SendError           the broker rejected a message
     │    │         └── TargetCapacityExceeded
     │    └── ReceiverError
     │         └── Empty               nothing to fetch in time
     └── Timeout
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, TypeVar

import anyio.from_thread

from . import client as _client
from .client.address import parse_connection_options
from .client.message import Message
from .errors import (
    AmqpError,
    AuthenticationError,
    ConnectionFailed,
    InvalidArgument,
    QpidHaError,
)
from .errors import LinkError as _LinkError
from .errors import NotFound as _NotFound

__all__ = [
    "AddressError",
    "AuthenticationFailure",
    "ConnectError",
    "Connection",
    "ConnectionError",
    "Empty",
    "LinkError",
    "MalformedAddress",
    "Message",
    "MessagingError",
    "NotFound",
    "Receiver",
    "ReceiverError",
    "ResolutionError",
    "SendError",
    "Sender",
    "SenderError",
    "Session",
    "SessionError",
    "TargetCapacityExceeded",
    "Timeout",
]

T = TypeVar("T")


class MessagingError(QpidHaError):
    """Base of qpid.messaging's exceptions."""


class ConnectionError(MessagingError):
    """The connection failed or was closed."""


class ConnectError(ConnectionError):
    """No broker could be reached."""


class AuthenticationFailure(ConnectionError):
    """The broker refused the credentials."""


class SessionError(MessagingError):
    """A session failed."""


class LinkError(MessagingError):
    """A sender or receiver was refused or detached."""


class AddressError(LinkError):
    """The address is wrong."""


class MalformedAddress(AddressError):
    """The address does not parse."""


class ResolutionError(AddressError):
    """The address names nothing usable."""


class NotFound(ResolutionError):
    """The node does not exist."""


class SenderError(LinkError):
    """A sender failed."""


class SendError(SenderError):
    """The broker rejected a message."""


class TargetCapacityExceeded(SendError):
    """The target queue is full."""


class ReceiverError(LinkError):
    """A receiver failed."""


class Empty(ReceiverError):
    """No message was available in time."""


class Timeout(MessagingError):
    """The operation did not complete in time."""


def _translate(e: BaseException, invalid: type[MessagingError]) -> BaseException:
    """The qpid.messaging exception for an error of the async client."""
    text = str(e)
    if isinstance(e, _client.Empty):
        return Empty(text)
    if isinstance(e, _client.Timeout):
        return Timeout(text)
    if isinstance(e, _client.MessageRejected):
        if e.condition == "amqp:resource-limit-exceeded":
            return TargetCapacityExceeded(text)
        return SendError(text)
    if isinstance(e, AuthenticationError):
        return AuthenticationFailure(text)
    if isinstance(e, _client.ConnectError):
        return ConnectError(text)
    if isinstance(e, ConnectionFailed):
        return ConnectionError(text)
    if isinstance(e, _NotFound):
        return NotFound(text)
    if isinstance(e, InvalidArgument):
        return invalid(text)
    if isinstance(e, _LinkError):
        return LinkError(text)
    if isinstance(e, AmqpError):
        return MessagingError(text)
    return e


@contextlib.contextmanager
def _errors(invalid: type[MessagingError] = MalformedAddress) -> Iterator[None]:
    """Translate client errors; ``invalid`` is what a bad argument means in this call."""
    try:
        yield
    except MessagingError:
        raise
    except QpidHaError as e:
        raise _translate(e, invalid) from e


class Connection:
    """A connection to a broker (qpid.messaging's ``Connection``).

    Args:
        url: the broker URL (``host[:port]``, a Qpid URL or ``amqp://``); its host list is
            the first failover list.
        options: qpid.messaging connection options as a map or in string form
            (``"{reconnect:true,heartbeat:10}"``); keyword arguments are merged in.
    """

    def __init__(
        self, url: str | None = None, options: str | Mapping[str, Any] | None = None, **kw: Any
    ) -> None:
        with _errors(invalid=ConnectionError):  # a bad URL or connection option
            merged = dict(parse_connection_options(options or {}))
            merged.update(parse_connection_options(kw) if kw else {})
            self.url = url or "amqp://127.0.0.1:5672"
            self.options = merged
            self._async = _client.Connection(self.url, **merged)
        self._portal_cm: Any = None
        self._connection_cm: Any = None
        self._portal: anyio.from_thread.BlockingPortal | None = None

    @classmethod
    def establish(
        cls, url: str | None = None, options: str | Mapping[str, Any] | None = None, **kw: Any
    ) -> Connection:
        """Create a connection and open it."""
        connection = cls(url, options, **kw)
        connection.open()
        return connection

    def _call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``fn(*args)`` on the connection's event loop thread and wait for it."""
        if self._portal is None:
            raise ConnectionError("the connection is not open")
        with _errors():
            return self._portal.call(fn, *args)

    def open(self) -> None:
        """Connect (with the reconnect options) on a background event loop thread."""
        if self._portal is not None:
            return
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        # The async connection's task group must be entered and left by one task: the
        # portal runs the whole `async with` in a task of its own.
        self._connection_cm = self._portal.wrap_async_context_manager(self._async)
        try:
            with _errors():
                self._connection_cm.__enter__()
        except BaseException:
            self._connection_cm = None
            self._stop_portal()
            raise

    def opened(self) -> bool:
        """Whether the connection is open (qpid.messaging's ``opened()``)."""
        return self._portal is not None and self._async.opened

    def session(self, name: str | None = None) -> Session:
        """A new session."""
        return Session(self, self._call(self._async.session))

    def close(self) -> None:
        """Close the connection and stop its thread."""
        if self._portal is None:
            return
        cm, self._connection_cm = self._connection_cm, None
        try:
            if cm is not None:
                with _errors():
                    cm.__exit__(None, None, None)
        finally:
            self._stop_portal()

    def _stop_portal(self) -> None:
        cm, self._portal_cm, self._portal = self._portal_cm, None, None
        if cm is not None:
            cm.__exit__(None, None, None)

    def __enter__(self) -> Connection:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Session:
    """A session (qpid.messaging's ``Session``)."""

    def __init__(self, connection: Connection, session: _client.Session) -> None:
        self.connection = connection
        self._async = session

    def sender(self, address: str, capacity: int = 50, name: str | None = None) -> Sender:
        """A sender to ``address`` (qpid.messaging address syntax)."""
        s = self.connection._call(lambda: self._async.sender(address, capacity=capacity, name=name))
        return Sender(self, s)

    def receiver(self, address: str, capacity: int = 10, name: str | None = None) -> Receiver:
        """A receiver from ``address``; ``capacity`` is its prefetch."""
        r = self.connection._call(
            lambda: self._async.receiver(address, capacity=capacity, name=name)
        )
        return Receiver(self, r)

    def acknowledge(self, message: Message | None = None, sync: bool = True) -> None:
        """Acknowledge ``message``, or every message fetched so far."""
        self.connection._call(self._acknowledge, message)

    async def _acknowledge(self, message: Message | None) -> None:
        self._async.acknowledge(message)

    def reject(self, message: Message) -> None:
        """Reject ``message`` (it is not delivered again)."""
        self.connection._call(self._settle, self._async.reject, message)

    def release(self, message: Message) -> None:
        """Release ``message`` (it may be delivered again)."""
        self.connection._call(self._settle, self._async.release, message)

    @staticmethod
    async def _settle(action: Callable[[Message], None], message: Message) -> None:
        action(message)

    def _settle_from_thread(self, message: Message | None, action: str) -> None:
        """``Message.acknowledge()`` and friends, called from the application's thread."""
        self.connection._call(self._settle_on_loop, message, action)

    async def _settle_on_loop(self, message: Message | None, action: str) -> None:
        self._async._settle(message, action)

    def close(self) -> None:
        """Close the session."""
        self.connection._call(self._async.close)


class Sender:
    """A sender (qpid.messaging's ``Sender``)."""

    def __init__(self, session: Session, sender: _client.Sender) -> None:
        self.session = session
        self._async = sender

    @property
    def capacity(self) -> int:
        """The most unacknowledged messages in flight."""
        return self._async.capacity

    def send(self, message: Message | Any, sync: bool = True, timeout: float | None = None) -> None:
        """Send a message; with ``sync``, wait until the broker accepted it."""
        self.session.connection._call(lambda: self._async.send(message, sync=sync, timeout=timeout))

    def sync(self, timeout: float | None = None) -> None:
        """Wait until every message sent was acknowledged."""
        self.session.connection._call(lambda: self._async.sync(timeout))

    def unsettled(self) -> int:
        """Messages not yet acknowledged by the broker."""
        return self._async.unsettled

    def close(self) -> None:
        """Detach the sender."""
        self.session.connection._call(self._async.close)


class Receiver:
    """A receiver (qpid.messaging's ``Receiver``)."""

    def __init__(self, session: Session, receiver: _client.Receiver) -> None:
        self.session = session
        self._async = receiver

    @property
    def capacity(self) -> int:
        """The prefetch credit."""
        return self._async.capacity

    def fetch(self, timeout: float | None = None) -> Message:
        """The next message, waiting up to ``timeout`` seconds; raises :class:`Empty`."""
        message = self.session.connection._call(lambda: self._async.fetch(timeout))
        message._settler = self.session._settle_from_thread
        return message

    def get(self, timeout: float | None = None) -> Message | None:
        """The next message, or None after ``timeout`` seconds."""
        message = self.session.connection._call(lambda: self._async.get(timeout))
        if message is not None:
            message._settler = self.session._settle_from_thread
        return message

    def available(self) -> int:
        """Messages prefetched and waiting."""
        return self._async.available

    def close(self) -> None:
        """Detach the receiver."""
        self.session.connection._call(self._async.close)
