"""Validation of queue and exchange declare arguments, with qpidd's names and rules.

qpidd configures queues and exchanges through a map of arguments. The keys it understands
are checked and normalized here; every other key is kept as given, as qpidd keeps unknown
arguments (they reach management and replication unchanged).

Queue arguments:

=============================  ==============================================================
``qpid.max_count``             message limit, an integer >= 0 (0: no limit)
``qpid.max_size``              byte limit (sum of encoded message sizes), an integer >= 0
                               (0: no limit)
``qpid.policy_type``           what a full queue does: ``reject`` (the default when a limit is
                               set) refuses the new message, ``ring`` drops the oldest
``qpid.priorities``            number of priority levels; qpidd caps it at 10
``qpid.last_value_queue_key``  application property whose value replaces older messages
``qpid.auto_delete_timeout``   seconds an auto-delete queue lingers unused, an integer >= 0
``qpid.replicate``             HA replication level: ``none``, ``configuration`` or ``all``
``alternate-exchange``         exchange that receives rejected messages (and messages left
                               on the queue when it is deleted)
=============================  ==============================================================

Exchange arguments: ``qpid.replicate`` and ``alternate-exchange``, as above.

Integer arguments may be given as decimal strings (``qpid-config`` sends ``"100"``); they are
normalized to ``int``. Booleans and floats are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..errors import InvalidArgument

__all__ = [
    "ALTERNATE_EXCHANGE",
    "AUTO_DELETE_TIMEOUT",
    "LVQ_KEY",
    "MAX_COUNT",
    "MAX_PRIORITIES",
    "MAX_SIZE",
    "POLICY_TYPE",
    "POLICY_TYPES",
    "PRIORITIES",
    "REPLICATE",
    "REPLICATE_LEVELS",
    "validate_exchange_arguments",
    "validate_queue_arguments",
]

MAX_COUNT: Final = "qpid.max_count"
MAX_SIZE: Final = "qpid.max_size"
POLICY_TYPE: Final = "qpid.policy_type"
PRIORITIES: Final = "qpid.priorities"
LVQ_KEY: Final = "qpid.last_value_queue_key"
AUTO_DELETE_TIMEOUT: Final = "qpid.auto_delete_timeout"
REPLICATE: Final = "qpid.replicate"
ALTERNATE_EXCHANGE: Final = "alternate-exchange"

#: the values ``qpid.policy_type`` accepts
POLICY_TYPES: Final = ("reject", "ring")
#: the values ``qpid.replicate`` accepts
REPLICATE_LEVELS: Final = ("none", "configuration", "all")
#: the largest number of priority levels (qpidd caps ``qpid.priorities`` here)
MAX_PRIORITIES: Final = 10


def _non_negative_int(key: str, value: Any) -> int:
    """Read an integer argument given as an int or a decimal string."""
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isdecimal() and digits.isascii():
            value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{key} must be a non-negative integer, not {value!r}")
    if value < 0:
        raise InvalidArgument(f"{key} must be a non-negative integer, not {value!r}")
    return value


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise InvalidArgument(f"{key} must be one of {allowed}, not {value!r}")
    return value


def _replicate(value: Any) -> str:
    if not isinstance(value, str) or value not in REPLICATE_LEVELS:
        # qpidd's wording (test_invalid_replication), plus the allowed values
        raise InvalidArgument(
            f"Invalid replication value: {value!r} for {REPLICATE}"
            " (must be 'none', 'configuration' or 'all')"
        )
    return value


def _string(key: str, value: Any, *, empty: bool) -> str:
    if not isinstance(value, str) or (not empty and not value):
        what = "a string" if empty else "a non-empty string"
        raise InvalidArgument(f"{key} must be {what}, not {value!r}")
    return value


def _copy_with_string_keys(args: Mapping[str, Any], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in args.items():
        if not isinstance(key, str):
            raise InvalidArgument(f"{what} argument names must be strings, not {key!r}")
        out[key] = value
    return out


def validate_queue_arguments(args: Mapping[str, Any]) -> dict[str, Any]:
    """Check a queue's declare arguments and return a normalized copy.

    Args:
        args: the arguments as declared (by a client, a tool or a backup).

    Returns:
        A new dict: integer arguments as ``int`` (``qpid.priorities`` capped at 10, as qpidd
        does), every other key as given.

    Raises:
        InvalidArgument: a known argument has a bad value; the message names the key.
    """
    out = _copy_with_string_keys(args, "queue")
    for key in (MAX_COUNT, MAX_SIZE, AUTO_DELETE_TIMEOUT):
        if key in out:
            out[key] = _non_negative_int(key, out[key])
    if PRIORITIES in out:
        levels = _non_negative_int(PRIORITIES, out[PRIORITIES])
        if levels < 1:
            raise InvalidArgument(f"{PRIORITIES} must be at least 1, not {levels}")
        out[PRIORITIES] = min(levels, MAX_PRIORITIES)
    if POLICY_TYPE in out:
        out[POLICY_TYPE] = _choice(POLICY_TYPE, out[POLICY_TYPE], POLICY_TYPES)
    if LVQ_KEY in out:
        out[LVQ_KEY] = _string(LVQ_KEY, out[LVQ_KEY], empty=False)
    if REPLICATE in out:
        out[REPLICATE] = _replicate(out[REPLICATE])
    if ALTERNATE_EXCHANGE in out:
        out[ALTERNATE_EXCHANGE] = _string(ALTERNATE_EXCHANGE, out[ALTERNATE_EXCHANGE], empty=True)
    return out


def validate_exchange_arguments(args: Mapping[str, Any]) -> dict[str, Any]:
    """Check an exchange's declare arguments and return a normalized copy.

    Args:
        args: the arguments as declared.

    Returns:
        A new dict with every key as given, the known ones checked.

    Raises:
        InvalidArgument: ``qpid.replicate`` or ``alternate-exchange`` has a bad value.
    """
    out = _copy_with_string_keys(args, "exchange")
    if REPLICATE in out:
        out[REPLICATE] = _replicate(out[REPLICATE])
    if ALTERNATE_EXCHANGE in out:
        out[ALTERNATE_EXCHANGE] = _string(ALTERNATE_EXCHANGE, out[ALTERNATE_EXCHANGE], empty=True)
    return out
