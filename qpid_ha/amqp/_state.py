"""Endpoint states and the frames each state admits (OASIS AMQP 1.0 Part 2, 2.4.6, 2.5.5, 2.6).

Theory of operation
-------------------
Every endpoint (connection, session, link) has two halves, as in proton: the state of our end
(``local``) and what we know of the peer's end (``remote``). Each half moves one way only:
``UNINIT -> ACTIVE -> CLOSED``. Our half moves when the application calls ``open``/``begin``/
``attach`` and ``close``/``end``/``detach``; the peer's half moves when its frames arrive.

The engine never decides what the application wants; it only checks that what arrives is
legal for the state we are in. The connection's input itself goes through phases, driven
by bytes rather than by frames:

``HEADER`` (expect a protocol header) -> ``SASL`` (security frames) -> ``HEADER`` again
(the AMQP header after a successful outcome) -> ``AMQP`` (performatives) -> ``DONE``.

Any frame the tables below do not admit is a protocol error, answered with the condition
the spec names (``amqp:illegal-state`` when it names none).
"""

from __future__ import annotations

from enum import Enum

from .performatives import (
    Attach,
    Begin,
    Close,
    Detach,
    Disposition,
    End,
    Flow,
    Open,
    Performative,
    Transfer,
)

__all__ = ["CONNECTION_FRAMES", "EndpointState", "Phase"]


class EndpointState(Enum):
    """One half of an endpoint's state."""

    UNINIT = "uninit"
    ACTIVE = "active"
    CLOSED = "closed"


class Phase(Enum):
    """What the connection's input expects next."""

    HEADER = "header"
    SASL = "sasl"
    AMQP = "amqp"
    DONE = "done"


# The performatives a connection admits, by the peer's half of the connection state.
CONNECTION_FRAMES: dict[EndpointState, frozenset[type[Performative]]] = {
    EndpointState.UNINIT: frozenset({Open}),
    EndpointState.ACTIVE: frozenset(
        {Begin, Attach, Flow, Transfer, Disposition, Detach, End, Close}
    ),
    # After the peer's close nothing more may arrive.
    EndpointState.CLOSED: frozenset(),
}
