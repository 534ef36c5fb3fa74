"""Delivery states and outcomes (OASIS AMQP 1.0 Part 3, section 3.4).

``Received`` is the non-terminal state; ``Accepted``, ``Rejected``, ``Released`` and
``Modified`` are the outcomes. The transactional state of Part 4 joins them in
:mod:`qpid_ha.amqp.transactions`.
"""

from __future__ import annotations

from typing import Any

from .composite import Composite, composite
from .performatives import Error

__all__ = [
    "OUTCOMES",
    "Accepted",
    "DeliveryState",
    "Modified",
    "Outcome",
    "Received",
    "Rejected",
    "Released",
]


class DeliveryState(Composite, frozen=True):
    """Base of every delivery state."""


class Outcome(DeliveryState, frozen=True):
    """Base of the terminal delivery states."""


@composite(
    0x23, "amqp:received:list", "uint", "ulong", mandatory=("section_number", "section_offset")
)
class Received(DeliveryState, frozen=True):
    """received: how much of a delivery has arrived, for resuming (Part 3 section 3.4.1)."""

    section_number: int | None = None
    section_offset: int | None = None


@composite(0x24, "amqp:accepted:list")
class Accepted(Outcome, frozen=True):
    """accepted: the message was processed (Part 3 section 3.4.2)."""


@composite(0x25, "amqp:rejected:list", "error")
class Rejected(Outcome, frozen=True):
    """rejected: the message is invalid and will not be processed (Part 3 section 3.4.3)."""

    error: Error | None = None


@composite(0x26, "amqp:released:list")
class Released(Outcome, frozen=True):
    """released: not processed; may be redelivered to anyone (Part 3 section 3.4.4)."""


@composite(0x27, "amqp:modified:list", "boolean", "boolean", "fields")
class Modified(Outcome, frozen=True):
    """modified: not processed, with changes for redelivery (Part 3 section 3.4.5)."""

    delivery_failed: bool | None = None
    undeliverable_here: bool | None = None
    message_annotations: dict[Any, Any] | None = None


#: outcome symbols as used in a source's ``outcomes`` field
OUTCOMES: dict[str, type[Outcome]] = {c.SYMBOL: c for c in (Accepted, Rejected, Released, Modified)}
