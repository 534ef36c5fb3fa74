"""Events the engine reports, named in the past tense (see conventions, "sans-IO core").

:meth:`qpid_ha.amqp.connection.Connection.next_event` returns them in the order the frames
that caused them arrived. Each is a frozen, slotted struct.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from .performatives import Attach, Begin, Error, Open

if TYPE_CHECKING:
    from .link import Delivery, Link
    from .session import Session

__all__ = [
    "Authenticated",
    "AuthenticationFailed",
    "ConnectionClosed",
    "ConnectionOpened",
    "CreditGranted",
    "DeliveryAborted",
    "DeliveryReceived",
    "DeliveryUpdated",
    "Event",
    "LinkAttached",
    "LinkDetached",
    "LinkDrained",
    "SessionBegun",
    "SessionEnded",
]


class Event(msgspec.Struct, frozen=True, gc=False):
    """Base of every engine event."""


class Authenticated(Event, frozen=True):
    """SASL succeeded: on a server, the client is ``user``; on a client, the server let us in."""

    mechanism: str
    user: str | None


class AuthenticationFailed(Event, frozen=True):
    """SASL failed with ``code``; the connection is finished."""

    code: int
    description: str


class ConnectionOpened(Event, frozen=True):
    """The peer's open arrived."""

    open: Open


class ConnectionClosed(Event, frozen=True):
    """The connection closed: by the peer's close (``by_peer``), or by us after ``error``."""

    error: Error | None
    by_peer: bool


class SessionBegun(Event, frozen=True):
    """The peer's begin arrived; for a session the peer started, answer with ``begin()``."""

    session: Session
    begin: Begin


class SessionEnded(Event, frozen=True):
    """A session ended, by the peer (``by_peer``) or by us after a session error."""

    session: Session
    error: Error | None
    by_peer: bool


class LinkAttached(Event, frozen=True):
    """The peer's attach arrived; for a link the peer started, answer with ``attach()``."""

    link: Link
    attach: Attach


class LinkDetached(Event, frozen=True):
    """A link detached (``closed`` when closed for good), by the peer or by us on an error."""

    link: Link
    error: Error | None
    closed: bool
    by_peer: bool


class CreditGranted(Event, frozen=True):
    """The receiving peer set the credit of one of our sender links (``link.credit``).

    When ``drain`` is true, send what is available and then call ``link.drained()``.
    """

    link: Link
    credit: int
    drain: bool


class LinkDrained(Event, frozen=True):
    """The sending peer used up our credit in answer to a drain request."""

    link: Link


class DeliveryReceived(Event, frozen=True):
    """A whole message arrived on a receiver link.

    Attributes:
        payload: the message bytes, all frames joined.
    """

    link: Link
    delivery: Delivery
    payload: bytes


class DeliveryAborted(Event, frozen=True):
    """The sender aborted a multi-frame delivery; its partial payload was discarded."""

    link: Link
    delivery: Delivery


class DeliveryUpdated(Event, frozen=True):
    """The peer changed the state of a delivery or settled it (a disposition)."""

    delivery: Delivery
    state: Any
    settled: bool
