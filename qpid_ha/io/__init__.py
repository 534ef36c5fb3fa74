"""The I/O layer: anyio listeners and one task per connection driving a sans-IO engine."""

from __future__ import annotations

from .driver import ConnectionDriver, ProtocolHandler
from .listener import Listener

__all__ = ["ConnectionDriver", "Listener", "ProtocolHandler"]
