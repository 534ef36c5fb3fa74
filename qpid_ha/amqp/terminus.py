"""Sources, targets and lifetime policies (OASIS AMQP 1.0 Part 3, section 3.5)."""

from __future__ import annotations

from typing import Any

from .composite import Composite, composite, kind

__all__ = [
    "DeleteOnClose",
    "DeleteOnNoLinks",
    "DeleteOnNoLinksOrMessages",
    "DeleteOnNoMessages",
    "DistributionMode",
    "ExpiryPolicy",
    "Source",
    "Target",
    "TerminusDurability",
]


class TerminusDurability:
    """terminus-durability values (Part 3 section 3.5.5)."""

    NONE = 0
    CONFIGURATION = 1
    UNSETTLED_STATE = 2


class ExpiryPolicy:
    """terminus-expiry-policy symbols (Part 3 section 3.5.6)."""

    LINK_DETACH = "link-detach"
    SESSION_END = "session-end"
    CONNECTION_CLOSE = "connection-close"
    NEVER = "never"


class DistributionMode:
    """std-dist-mode symbols (Part 3 section 3.5.7)."""

    MOVE = "move"
    COPY = "copy"


@composite(
    0x28, "amqp:source:list",
    "*", "uint", "symbol", "uint", "boolean", "fields", "symbol", "fields", "outcome", "symbols",
    "symbols",
)  # fmt: skip
class Source(Composite, frozen=True):
    """source: where a link's messages come from (Part 3 section 3.5.3)."""

    address: Any = None
    durable: int = TerminusDurability.NONE
    expiry_policy: str = ExpiryPolicy.SESSION_END
    timeout: int = 0
    dynamic: bool = False
    dynamic_node_properties: dict[Any, Any] | None = None
    distribution_mode: str | None = None
    filter: dict[Any, Any] | None = None
    default_outcome: Any = None
    outcomes: tuple[str, ...] | None = None
    capabilities: tuple[str, ...] | None = None


@composite(
    0x29, "amqp:target:list",
    "*", "uint", "symbol", "uint", "boolean", "fields", "symbols",
)  # fmt: skip
class Target(Composite, frozen=True):
    """target: where a link's messages go (Part 3 section 3.5.4)."""

    address: Any = None
    durable: int = TerminusDurability.NONE
    expiry_policy: str = ExpiryPolicy.SESSION_END
    timeout: int = 0
    dynamic: bool = False
    dynamic_node_properties: dict[Any, Any] | None = None
    capabilities: tuple[str, ...] | None = None


@composite(0x2B, "amqp:delete-on-close:list")
class DeleteOnClose(Composite, frozen=True):
    """Delete the dynamic node when its link closes (Part 3 section 3.5.10)."""


@composite(0x2C, "amqp:delete-on-no-links:list")
class DeleteOnNoLinks(Composite, frozen=True):
    """Delete the node when it has no links (Part 3 section 3.5.11)."""


@composite(0x2D, "amqp:delete-on-no-messages:list")
class DeleteOnNoMessages(Composite, frozen=True):
    """Delete the node when it holds no messages (Part 3 section 3.5.12)."""


@composite(0x2E, "amqp:delete-on-no-links-or-messages:list")
class DeleteOnNoLinksOrMessages(Composite, frozen=True):
    """Delete the node when it has neither links nor messages (Part 3 section 3.5.13)."""


kind("source", Source)
