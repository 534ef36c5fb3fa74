"""Transport performatives and the error type (OASIS AMQP 1.0 Part 2, sections 2.7 and 2.8.14).

Each class is a frozen struct named as in the spec, with the spec's field names in snake case.
Absent fields decode to the spec's defaults; ``None`` marks a field the spec leaves without one.
"""

from __future__ import annotations

from typing import Any

from .composite import Composite, composite, kind

__all__ = [
    "MAX_UINT",
    "PERFORMATIVES",
    "Attach",
    "Begin",
    "Close",
    "Detach",
    "Disposition",
    "End",
    "Error",
    "Flow",
    "Open",
    "Performative",
    "ReceiverSettleMode",
    "Role",
    "SenderSettleMode",
    "Transfer",
]

MAX_UINT = 0xFFFFFFFF


class Role:
    """Link roles (Part 2 section 2.8.1): the boolean the spec encodes them as."""

    SENDER = False
    RECEIVER = True


class SenderSettleMode:
    """snd-settle-mode values (Part 2 section 2.8.2)."""

    UNSETTLED = 0
    SETTLED = 1
    MIXED = 2


class ReceiverSettleMode:
    """rcv-settle-mode values (Part 2 section 2.8.3)."""

    FIRST = 0
    SECOND = 1


@composite(0x1D, "amqp:error:list", "symbol", "string", "fields", mandatory=("condition",))
class Error(Composite, frozen=True):
    """An error: condition symbol, description and info map (Part 2 section 2.8.14)."""

    condition: str | None = None
    description: str | None = None
    info: dict[Any, Any] | None = None


kind("error", Error)


class Performative(Composite, frozen=True):
    """Base of the nine frame bodies of Part 2 section 2.7."""


@composite(
    0x10, "amqp:open:list",
    "string", "string", "uint", "ushort", "uint", "symbols", "symbols", "symbols", "symbols",
    "fields",
    mandatory=("container_id",),
)  # fmt: skip
class Open(Performative, frozen=True):
    """open: negotiate connection parameters (Part 2 section 2.7.1)."""

    container_id: str | None = None
    hostname: str | None = None
    max_frame_size: int = MAX_UINT
    channel_max: int = 0xFFFF
    idle_time_out: int | None = None
    outgoing_locales: tuple[str, ...] | None = None
    incoming_locales: tuple[str, ...] | None = None
    offered_capabilities: tuple[str, ...] | None = None
    desired_capabilities: tuple[str, ...] | None = None
    properties: dict[Any, Any] | None = None


@composite(
    0x11, "amqp:begin:list",
    "ushort", "uint", "uint", "uint", "uint", "symbols", "symbols", "fields",
    mandatory=("next_outgoing_id", "incoming_window", "outgoing_window"),
)  # fmt: skip
class Begin(Performative, frozen=True):
    """begin: start a session on a channel (Part 2 section 2.7.2)."""

    remote_channel: int | None = None
    next_outgoing_id: int | None = None
    incoming_window: int | None = None
    outgoing_window: int | None = None
    handle_max: int = MAX_UINT
    offered_capabilities: tuple[str, ...] | None = None
    desired_capabilities: tuple[str, ...] | None = None
    properties: dict[Any, Any] | None = None


@composite(
    0x12, "amqp:attach:list",
    "string", "uint", "boolean", "ubyte", "ubyte", "source", "target", "map", "boolean",
    "uint", "ulong", "symbols", "symbols", "fields",
    mandatory=("name", "handle", "role"),
)  # fmt: skip
class Attach(Performative, frozen=True):
    """attach: attach a link to a session (Part 2 section 2.7.3)."""

    name: str | None = None
    handle: int | None = None
    role: bool | None = None
    snd_settle_mode: int = SenderSettleMode.MIXED
    rcv_settle_mode: int = ReceiverSettleMode.FIRST
    source: Any = None
    target: Any = None
    unsettled: dict[Any, Any] | None = None
    incomplete_unsettled: bool = False
    initial_delivery_count: int | None = None
    max_message_size: int | None = None
    offered_capabilities: tuple[str, ...] | None = None
    desired_capabilities: tuple[str, ...] | None = None
    properties: dict[Any, Any] | None = None


@composite(
    0x13, "amqp:flow:list",
    "uint", "uint", "uint", "uint", "uint", "uint", "uint", "uint", "boolean", "boolean", "fields",
    mandatory=("incoming_window", "next_outgoing_id", "outgoing_window"),
)  # fmt: skip
class Flow(Performative, frozen=True):
    """flow: update session and link flow state (Part 2 section 2.7.4)."""

    next_incoming_id: int | None = None
    incoming_window: int | None = None
    next_outgoing_id: int | None = None
    outgoing_window: int | None = None
    handle: int | None = None
    delivery_count: int | None = None
    link_credit: int | None = None
    available: int | None = None
    drain: bool = False
    echo: bool = False
    properties: dict[Any, Any] | None = None


@composite(
    0x14, "amqp:transfer:list",
    "uint", "uint", "binary", "uint", "boolean", "boolean", "ubyte", "state", "boolean",
    "boolean", "boolean",
    mandatory=("handle",),
)  # fmt: skip
class Transfer(Performative, frozen=True):
    """transfer: one frame of a message (Part 2 section 2.7.5)."""

    handle: int | None = None
    delivery_id: int | None = None
    delivery_tag: bytes | None = None
    message_format: int | None = None
    settled: bool | None = None
    more: bool = False
    rcv_settle_mode: int | None = None
    state: Any = None
    resume: bool = False
    aborted: bool = False
    batchable: bool = False


@composite(
    0x15, "amqp:disposition:list",
    "boolean", "uint", "uint", "boolean", "state", "boolean",
    mandatory=("role", "first"),
)  # fmt: skip
class Disposition(Performative, frozen=True):
    """disposition: settle or update the state of a range of deliveries (Part 2 section 2.7.6)."""

    role: bool | None = None
    first: int | None = None
    last: int | None = None
    settled: bool = False
    state: Any = None
    batchable: bool = False


@composite(0x16, "amqp:detach:list", "uint", "boolean", "error", mandatory=("handle",))
class Detach(Performative, frozen=True):
    """detach: detach a link, closing it when ``closed`` (Part 2 section 2.7.7)."""

    handle: int | None = None
    closed: bool = False
    error: Error | None = None


@composite(0x17, "amqp:end:list", "error")
class End(Performative, frozen=True):
    """end: end a session (Part 2 section 2.7.8)."""

    error: Error | None = None


@composite(0x18, "amqp:close:list", "error")
class Close(Performative, frozen=True):
    """close: close the connection (Part 2 section 2.7.9)."""

    error: Error | None = None


#: the performative classes of frame type 0, by descriptor code
PERFORMATIVES: dict[int, type[Performative]] = {
    c.DESCRIPTOR: c for c in (Open, Begin, Attach, Flow, Transfer, Disposition, Detach, End, Close)
}
