"""AMQP 1.0 address resolution, as qpidd does it (research file qpid-cpp-ha.md section 8).

A terminus names a node. Its capabilities say what kind: ``queue``, ``topic`` (an exchange),
or neither (a queue first, then an exchange; asking for both cancels both). A node that does
not exist is created when the terminus is dynamic or carries ``create-on-demand``; its
``dynamic-node-properties`` become declare settings, and every key qpidd does not interpret
itself becomes a queue or exchange argument, so ``qpid.replicate`` set by a client reaches the
broker.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..amqp.terminus import (
    DeleteOnClose,
    DeleteOnNoLinks,
    DeleteOnNoLinksOrMessages,
    DeleteOnNoMessages,
)
from ..amqp.types import Described

__all__ = [
    "CREATE_ON_DEMAND",
    "NodeSpec",
    "wants_exchange",
    "wants_queue",
]

CREATE_ON_DEMAND = "create-on-demand"
QUEUE = "queue"
TOPIC = "topic"
SHARED = "shared"
DURABLE = "durable"
LEGACY_DIRECT = "legacy-amqp-direct-binding"
LEGACY_TOPIC = "legacy-amqp-topic-binding"

_LIFETIME_POLICIES = (DeleteOnClose, DeleteOnNoLinks, DeleteOnNoMessages, DeleteOnNoLinksOrMessages)
_LIFETIME_CODES = {0x2B, 0x2C, 0x2D, 0x2E}


def _caps(capabilities: Any) -> set[str]:
    if not capabilities:
        return set()
    if isinstance(capabilities, str):
        return {capabilities}
    return {str(c) for c in capabilities}


def wants_queue(capabilities: Any) -> bool:
    """The terminus asks for a queue only."""
    caps = _caps(capabilities)
    return QUEUE in caps and TOPIC not in caps


def wants_exchange(capabilities: Any) -> bool:
    """The terminus asks for a topic (an exchange) only."""
    caps = _caps(capabilities)
    return TOPIC in caps and QUEUE not in caps


class NodeSpec:
    """Declare settings read from a terminus' node properties (qpidd ``NodeProperties``).

    Attributes:
        durable, exclusive, auto_delete: queue or exchange flags (None when not given).
        exchange_type: for a topic node (qpidd defaults to ``topic``).
        alternate_exchange: the alternate exchange, if any.
        lifetime_policy: the lifetime policy class, if any (each implies auto-delete).
        arguments: every other property, as declare arguments.
        dist_mode: ``move`` asks for a queue, ``copy`` for an exchange.
    """

    __slots__ = (
        "alternate_exchange",
        "arguments",
        "auto_delete",
        "dist_mode",
        "durable",
        "exchange_type",
        "exclusive",
        "lifetime_policy",
    )

    def __init__(self, properties: Mapping[Any, Any] | None) -> None:
        self.durable: bool | None = None
        self.exclusive: bool | None = None
        self.auto_delete: bool | None = None
        self.exchange_type = "topic"
        self.alternate_exchange: str | None = None
        self.lifetime_policy: type | None = None
        self.dist_mode: str | None = None
        self.arguments: dict[str, Any] = {}
        for key, value in (properties or {}).items():
            k = str(key)
            if k == "durable":
                self.durable = bool(value)
            elif k == "exclusive":
                self.exclusive = bool(value)
            elif k in ("auto-delete", "auto_delete"):
                self.auto_delete = bool(value)
            elif k in ("exchange-type", "type"):
                self.exchange_type = str(value)
            elif k == "alternate-exchange":
                self.alternate_exchange = str(value)
            elif k == "supported-dist-modes":
                modes = _caps(value)
                self.dist_mode = "copy" if "copy" in modes and "move" not in modes else "move"
            elif k == "lifetime-policy":
                self.lifetime_policy = _lifetime(value)
                self.auto_delete = True
            else:
                self.arguments[k] = value

    def queue_arguments(self) -> dict[str, Any]:
        """Declare arguments for a queue, with the alternate exchange folded in."""
        args = dict(self.arguments)
        if self.alternate_exchange:
            args["alternate-exchange"] = self.alternate_exchange
        return args


def _lifetime(value: Any) -> type | None:
    if isinstance(value, _LIFETIME_POLICIES):
        return type(value)
    if isinstance(value, Described) and value.descriptor in _LIFETIME_CODES:
        return {0x2B: DeleteOnClose, 0x2C: DeleteOnNoLinks}.get(int(value.descriptor))
    if isinstance(value, str):
        return {
            "delete-on-close": DeleteOnClose,
            "delete-on-no-links": DeleteOnNoLinks,
            "delete-on-no-messages": DeleteOnNoMessages,
            "delete-on-no-links-or-messages": DeleteOnNoLinksOrMessages,
        }.get(value)
    return None
