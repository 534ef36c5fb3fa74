"""Transaction types (OASIS AMQP 1.0 Part 4, section 4.5)."""

from __future__ import annotations

from typing import Any

from .composite import Composite, composite, kind
from .delivery_states import (
    Accepted,
    DeliveryState,
    Modified,
    Outcome,
    Received,
    Rejected,
    Released,
)
from .terminus import Target

__all__ = [
    "TXN_CAPABILITIES",
    "Coordinator",
    "Declare",
    "Declared",
    "Discharge",
    "TransactionError",
    "TransactionalState",
]


class TransactionError:
    """transaction-error conditions (Part 4 section 4.5.8)."""

    UNKNOWN_ID = "amqp:transaction:unknown-id"
    ROLLBACK = "amqp:transaction:rollback"
    TIMEOUT = "amqp:transaction:timeout"


#: txn-capability symbols (Part 4 section 4.5.7)
TXN_CAPABILITIES = (
    "amqp:local-transactions",
    "amqp:distributed-transactions",
    "amqp:promotable-transactions",
    "amqp:multi-txns-per-ssn",
    "amqp:multi-ssns-per-txn",
)


@composite(0x30, "amqp:coordinator:list", "symbols")
class Coordinator(Composite, frozen=True):
    """coordinator: the target of a transaction controller's link (Part 4 section 4.5.1)."""

    capabilities: tuple[str, ...] | None = None


@composite(0x31, "amqp:declare:list", "*")
class Declare(Composite, frozen=True):
    """declare: ask the coordinator for a new transaction (Part 4 section 4.5.2)."""

    global_id: Any = None


@composite(0x32, "amqp:discharge:list", "binary", "boolean", mandatory=("txn_id",))
class Discharge(Composite, frozen=True):
    """discharge: commit (``fail`` false) or roll back a transaction (Part 4 section 4.5.3)."""

    txn_id: bytes | None = None
    fail: bool | None = None


@composite(0x33, "amqp:declared:list", "binary", mandatory=("txn_id",))
class Declared(Outcome, frozen=True):
    """declared: the outcome of a declare, carrying the txn-id (Part 4 section 4.5.5)."""

    txn_id: bytes | None = None


@composite(0x34, "amqp:transactional-state:list", "binary", "outcome", mandatory=("txn_id",))
class TransactionalState(DeliveryState, frozen=True):
    """transactional-state: work done under a transaction (Part 4 section 4.5.6)."""

    txn_id: bytes | None = None
    outcome: Any = None


kind("target", Target, Coordinator)
kind("outcome", Accepted, Rejected, Released, Modified, Declared)
kind("state", Received, Accepted, Rejected, Released, Modified, Declared, TransactionalState)
