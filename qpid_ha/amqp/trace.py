"""Frame trace lines in the style of proton's ``PN_TRACE_FRM``.

The logger ``qpid_ha.amqp.frames`` at DEBUG prints one line per frame, for example
``[client] 0 -> @attach(18) [name="l1", handle=0, role=false, ...]``, so that a trace of our
engine reads like a trace of proton's and the two can be compared side by side.
"""

from __future__ import annotations

from typing import Any

from .composite import Composite

__all__ = ["describe"]

# SASL responses carry passwords (PLAIN) or proofs: never written to a log.
_SECRET = frozenset(("initial_response", "response"))


def _value(v: Any) -> str:
    if isinstance(v, Composite):
        return describe(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, bytes):
        return f"b{v[:64]!r}"[1:] if len(v) <= 64 else f"b{v[:64]!r}..."[1:]
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_value(k)}={_value(x)}" for k, x in v.items()) + "}"
    return repr(v) if not isinstance(v, int) else str(int(v))


def describe(body: Composite) -> str:
    """One composite as ``@name(code) [field=value, ...]``, null and default fields left out."""
    name = body.SYMBOL.split(":")[-2] if body.SYMBOL.count(":") >= 2 else type(body).__name__
    fields = []
    for f, d in zip(body.__struct_fields__, body.__struct_defaults__, strict=False):
        v = getattr(body, f)
        if v is None or v == d:
            continue
        if f in _SECRET:
            fields.append(f"{f.replace('_', '-')}=<{len(v)} bytes, not traced>")
            continue
        fields.append(f"{f.replace('_', '-')}={_value(v)}")
    return f"@{name}({body.DESCRIPTOR}) [{', '.join(fields)}]"
