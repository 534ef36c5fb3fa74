"""Helpers for testing applications and qpid-ha itself: in-memory transports."""

from __future__ import annotations

from .memory import MemoryByteStream, memory_stream_pair

__all__ = ["MemoryByteStream", "memory_stream_pair"]
