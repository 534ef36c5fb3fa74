"""qpid.messaging address strings and option maps, and their mapping onto AMQP 1.0 termini.

An address names a node and says how to reach it::

    address = name ["/" subject] [";" map]
    map     = "{" [key (":" | "=") value ("," key (":" | "=") value)*] "}"
    list    = "[" [value ("," value)*] "]"
    key     = word | quoted
    value   = word | quoted | map | list

A *word* is a run of letters, digits and ``_ - . / $ # * + @ % ^ ! ~``; as a value it means
``True`` for ``true``/``True``, ``False`` for ``false``/``False``, an ``int`` or a ``float``
when it is a number (``10``, ``-3``, ``2.5``, ``1e3``) and otherwise the word itself as a
string (``always``, ``all``, ``amq.topic``). A *quoted* string is in single or double quotes
with Python's backslash escapes (``\\n``, ``\\'``, ``\\x41``, ``\\u00e9``...). Whitespace
between tokens is ignored. ``{reconnect:true, heartbeat:10}`` is therefore
``{"reconnect": True, "heartbeat": 10}``, and
``myqueue;{create:always,node:{x-declare:{arguments:{'qpid.replicate':all}}}}`` names the node
``myqueue`` with those options. :func:`format_map` writes a map back in this syntax.

The name may be quoted (``'my/queue'/subject``); ``#`` as a name asks for a temporary node
with a name the broker generates, which AMQP 1.0 expresses as a *dynamic* terminus.

The options the address syntax defines are checked (an unknown option is an error naming it,
where qpid.messaging would ignore some):

- ``create``, ``assert``, ``delete``: ``always``, ``sender``, ``receiver`` or ``never``;
- ``mode``: ``browse`` or ``consume`` (receivers);
- ``node``: ``type`` (``queue`` or ``topic``), ``durable``, ``x-declare`` (``arguments``,
  ``auto-delete``, ``exclusive``, ``durable``, ``type``, ``alternate-exchange``),
  ``x-bindings``, ``properties`` and ``capabilities``;
- ``link``: ``name``, ``durable``, ``reliability`` (``unreliable``, ``at-most-once``,
  ``at-least-once``, ``exactly-once``), ``timeout``, ``selector``, ``filter``, ``x-declare``,
  ``x-subscribe``, ``x-bindings``;
- ``filter`` (a map ``{name, descriptor, value}``, a list of such maps, or a selector
  string) and ``selector`` (a string), accepted at the top level as well as in ``link``.

:func:`target_for` and :func:`source_for` map an address to the terminus a sender or receiver
attaches with, as Qpid's C++ messaging client does over AMQP 1.0 (``AddressHelper``):

- ``create`` matching the role (``always``, or ``sender``/``receiver``) adds the
  ``create-on-demand`` capability and sends the node properties;
- node ``type`` becomes the ``queue`` or ``topic`` capability and the
  ``supported-dist-modes`` property (``move`` or ``copy``); node ``durable`` becomes the
  ``durable`` capability and property;
- ``x-declare`` is flattened into the node properties: its ``arguments`` become top-level
  properties (so ``qpid.replicate`` reaches the broker as a declare argument), ``type``
  becomes ``exchange-type``, and ``auto-delete``, ``exclusive``, ``durable`` and
  ``alternate-exchange`` are kept as they are;
- node properties are sent only when the node may be created (``create`` for this role,
  or a temporary node) or asserted (``assert`` for this role), as qpid does;
- for receivers: ``mode: browse`` is the ``copy`` distribution mode; a subject becomes a
  ``subject-filter`` binding filter, except on a node of type ``queue``; a selector
  becomes the ``apache.org:selector-filter:string`` filter;
- ``link: {durable: true}`` is a terminus of durability ``unsettled-state`` that never
  expires; ``link: {timeout: N}`` is the terminus timeout in seconds;
- ``delete``, ``x-bindings``, ``x-subscribe`` and the link's ``x-declare`` are accepted
  and checked, but AMQP 1.0 has nothing to map them to.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

import msgspec

from ..amqp.performatives import ReceiverSettleMode, SenderSettleMode
from ..amqp.terminus import (
    DeleteOnClose,
    DeleteOnNoLinks,
    DeleteOnNoLinksOrMessages,
    DeleteOnNoMessages,
    DistributionMode,
    ExpiryPolicy,
    Source,
    Target,
    TerminusDurability,
)
from ..amqp.types import Described, symbol, ulong
from ..errors import InvalidArgument
from ..url import Url, parse_url

__all__ = [
    "DIRECT_BINDING_FILTER",
    "SELECTOR_FILTER",
    "TOPIC_BINDING_FILTER",
    "Address",
    "format_map",
    "format_value",
    "link_name",
    "parse_address",
    "parse_connection_options",
    "parse_map",
    "reliability",
    "source_for",
    "target_for",
]

#: filter descriptor of a JMS selector (Apache Qpid filter registry)
SELECTOR_FILTER: Final = "apache.org:selector-filter:string"
#: filter descriptor of an AMQP 0-10 style topic binding key (may hold ``*`` and ``#``)
TOPIC_BINDING_FILTER: Final = "apache.org:legacy-amqp-topic-binding:string"
#: filter descriptor of an AMQP 0-10 style direct binding key
DIRECT_BINDING_FILTER: Final = "apache.org:legacy-amqp-direct-binding:string"

_Role = Literal["sender", "receiver"]  # which end of a link an address is used for

_MAX_DEPTH: Final = 64
_SPACE: Final = frozenset(" \t\r\n")
_WORD_CHARS: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./$#*+@%^!~"
)
_WORD: Final = re.compile(r"[A-Za-z0-9_\-./$#*+@%^!~]+\Z")
_INT: Final = re.compile(r"[+-]?[0-9]+\Z")
_FLOAT: Final = re.compile(
    r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z|[+-]?[0-9]+[eE][+-]?[0-9]+\Z"
)
_ESCAPES: Final = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "0": "\0",
    "/": "/",
}
_HEX_ESCAPES: Final = {"x": 2, "u": 4, "U": 8}
_RENDER_ESCAPES: Final = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


# -------------------------------------------------------------------------------------------
# The map syntax
# -------------------------------------------------------------------------------------------


def _word_value(word: str) -> Any:
    """The value a bare word stands for: a bool, an int, a float or the word itself."""
    if word in ("true", "True"):
        return True
    if word in ("false", "False"):
        return False
    if _INT.match(word):
        return int(word)
    if _FLOAT.match(word):
        return float(word)
    return word


class _Parser:
    """A cursor over address or map text that raises errors naming the position."""

    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.what = what
        self.pos = 0

    def fail(self, reason: str, pos: int | None = None) -> InvalidArgument:
        at = self.pos if pos is None else pos
        return InvalidArgument(f"invalid {self.what} {self.text!r}: {reason} (at position {at})")

    def found(self) -> str:
        return repr(self.text[self.pos]) if self.pos < len(self.text) else "the end"

    def hint(self) -> str:
        return " (quote strings that hold other characters)" if self.peek() in (":", "=") else ""

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_space(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos] in _SPACE:
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text)

    def value(self, depth: int) -> Any:
        self.skip_space()
        c = self.peek()
        if c == "{":
            return self.map(depth + 1)
        if c == "[":
            return self.list(depth + 1)
        if c in ("'", '"'):
            return self.quoted()
        if c and c in _WORD_CHARS:
            return _word_value(self.word())
        raise self.fail(f"expected a value, found {self.found()}")

    def map(self, depth: int) -> dict[str, Any]:
        if depth > _MAX_DEPTH:
            raise self.fail(f"maps and lists nested deeper than {_MAX_DEPTH}")
        self.skip_space()
        if self.peek() != "{":
            raise self.fail(f"expected '{{', found {self.found()}")
        self.pos += 1
        result: dict[str, Any] = {}
        self.skip_space()
        if self.peek() == "}":
            self.pos += 1
            return result
        while True:
            self.skip_space()
            start = self.pos
            key = self.key()
            if key in result:
                raise self.fail(f"key {key!r} given twice", start)
            self.skip_space()
            if self.peek() not in (":", "="):
                raise self.fail(f"expected ':' or '=' after key {key!r}, found {self.found()}")
            self.pos += 1
            result[key] = self.value(depth)
            self.skip_space()
            c = self.peek()
            if c not in (",", "}"):
                raise self.fail(
                    f"expected ',' or '}}' after the value of {key!r}, found {self.found()}"
                    + self.hint()
                )
            self.pos += 1
            if c == "}":
                return result

    def list(self, depth: int) -> list[Any]:
        if depth > _MAX_DEPTH:
            raise self.fail(f"maps and lists nested deeper than {_MAX_DEPTH}")
        self.pos += 1  # the '['
        result: list[Any] = []
        self.skip_space()
        if self.peek() == "]":
            self.pos += 1
            return result
        while True:
            result.append(self.value(depth))
            self.skip_space()
            c = self.peek()
            if c not in (",", "]"):
                raise self.fail(
                    f"expected ',' or ']' in a list, found {self.found()}" + self.hint()
                )
            self.pos += 1
            if c == "]":
                return result

    def key(self) -> str:
        c = self.peek()
        if c in ("'", '"'):
            return self.quoted()
        if c and c in _WORD_CHARS:
            return self.word()
        raise self.fail(f"expected a key, found {self.found()}")

    def word(self) -> str:
        text, n, start = self.text, len(self.text), self.pos
        while self.pos < n and text[self.pos] in _WORD_CHARS:
            self.pos += 1
        return text[start : self.pos]

    def quoted(self) -> str:
        text, n, start = self.text, len(self.text), self.pos
        quote = text[start]
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= n:
                raise self.fail("unterminated quoted string", start)
            c = text[self.pos]
            if c == quote:
                self.pos += 1
                return "".join(out)
            if c != "\\":
                out.append(c)
                self.pos += 1
                continue
            esc = text[self.pos + 1 : self.pos + 2]
            if esc in _ESCAPES:
                out.append(_ESCAPES[esc])
                self.pos += 2
            elif esc in _HEX_ESCAPES:
                width = _HEX_ESCAPES[esc]
                digits = text[self.pos + 2 : self.pos + 2 + width]
                if len(digits) != width or not all(d in "0123456789abcdefABCDEF" for d in digits):
                    raise self.fail(f"\\{esc} needs {width} hex digits")
                code = int(digits, 16)
                if code > 0x10FFFF:
                    raise self.fail(f"\\{esc}{digits} is not a Unicode code point")
                out.append(chr(code))
                self.pos += 2 + width
            elif not esc:
                raise self.fail("unterminated quoted string", start)
            else:
                raise self.fail(f"unknown escape \\{esc}")


def parse_map(text: str) -> dict[str, Any]:
    """Parse a map in qpid.messaging's syntax, as in address options and connection options.

    Args:
        text: for example ``"{reconnect:true, heartbeat:10, reconnect_urls:['a:1','b:2']}"``.

    Returns:
        The map: string keys; values are ``bool``, ``int``, ``float``, ``str``, ``dict`` or
        ``list`` (see the module documentation for the rules).

    Raises:
        InvalidArgument: the text is not one well-formed map (the message gives the position).
    """
    if not isinstance(text, str):
        raise InvalidArgument(f"a map must be given as a string, not {type(text).__name__}")
    parser = _Parser(text, "map")
    result = parser.map(1)
    if not parser.at_end():
        raise parser.fail(f"unexpected {parser.found()} after the map")
    return result


def _quote(text: str) -> str:
    out = ["'"]
    for c in text:
        escaped = _RENDER_ESCAPES.get(c)
        if escaped is not None:
            out.append(escaped)
        elif c.isprintable():
            out.append(c)
        else:
            code = ord(c)
            out.append(
                f"\\x{code:02x}"
                if code < 0x100
                else f"\\u{code:04x}"
                if code < 0x10000
                else f"\\U{code:08x}"
            )
    out.append("'")
    return "".join(out)


def _format_string(text: str) -> str:
    """A string as a bare word when it reads back as that string, else quoted."""
    if _WORD.match(text) and isinstance(_word_value(text), str):
        return text
    return _quote(text)


def format_value(value: Any) -> str:
    """Write a value in qpid.messaging's map syntax (the inverse of the parser).

    Args:
        value: a ``bool``, ``int``, finite ``float``, ``str``, or a ``dict`` (string keys) or
            ``list``/``tuple`` of such values.

    Returns:
        The text, which :func:`parse_map` (inside a map) reads back as an equal value.

    Raises:
        InvalidArgument: the value has no representation in the syntax (``None``, bytes,
            NaN or infinity, a non-string key...).
    """
    return _format(value, 0)


def _format(value: Any, depth: int) -> str:
    if depth > _MAX_DEPTH:
        raise InvalidArgument(f"maps and lists nested deeper than {_MAX_DEPTH}")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgument(f"{value!r} cannot be written in the map syntax")
        return repr(float(value))
    if isinstance(value, str):
        return _format_string(value)
    if isinstance(value, Mapping):
        items = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidArgument(f"map keys must be strings, not {k!r}")
            items.append(f"{_format_string(k)}:{_format(v, depth + 1)}")
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_format(v, depth + 1) for v in value) + "]"
    raise InvalidArgument(f"a {type(value).__name__} cannot be written in the map syntax")


def format_map(value: Mapping[str, Any]) -> str:
    """Write a map in qpid.messaging's syntax: ``parse_map(format_map(m)) == m``.

    Args:
        value: string keys to values :func:`format_value` accepts.

    Returns:
        The text, for example ``{reconnect:true, heartbeat:10}``.

    Raises:
        InvalidArgument: the map holds a value the syntax cannot express.
    """
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"expected a map, not {type(value).__name__}")
    return _format(value, 0)


# -------------------------------------------------------------------------------------------
# Addresses
# -------------------------------------------------------------------------------------------

_POLICIES: Final = ("always", "sender", "receiver", "never")
_MODES: Final = ("browse", "consume")
_NODE_TYPES: Final = ("queue", "topic")
_RELIABILITIES: Final = ("unreliable", "at-most-once", "at-least-once", "exactly-once")
_UNRELIABLE: Final = ("unreliable", "at-most-once")
_LIFETIME_POLICIES: Final[dict[str, Any]] = {
    # qpid.messaging's names, then the AMQP 1.0 names (without the amqp: prefix)
    "delete-on-close": DeleteOnClose,
    "delete-if-unused": DeleteOnNoLinks,
    "delete-if-empty": DeleteOnNoMessages,
    "delete-if-unused-and-empty": DeleteOnNoLinksOrMessages,
    "delete-on-no-links": DeleteOnNoLinks,
    "delete-on-no-messages": DeleteOnNoMessages,
    "delete-on-no-links-or-messages": DeleteOnNoLinksOrMessages,
}
_TEMPORARY: Final = "#"


def _where(path: str) -> str:
    return f"address option {path}"


def _choice(value: Any, choices: tuple[str, ...], path: str) -> None:
    if not isinstance(value, str) or value not in choices:
        raise InvalidArgument(f"{_where(path)} must be one of {', '.join(choices)}, not {value!r}")


def _boolean(value: Any, path: str) -> None:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{_where(path)} must be true or false, not {value!r}")


def _string(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise InvalidArgument(f"{_where(path)} must be a string, not {value!r}")


def _map(value: Any, path: str) -> None:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InvalidArgument(f"{_where(path)} must be a map with string keys, not {value!r}")


def _list(value: Any, path: str) -> None:
    if not isinstance(value, list):
        raise InvalidArgument(f"{_where(path)} must be a list, not {value!r}")


def _anything(value: Any, path: str) -> None:
    """Accepted as given (options qpid defines but AMQP 1.0 cannot express)."""


def _lifetime_policy(value: Any, path: str) -> None:
    if isinstance(value, str) and value not in _LIFETIME_POLICIES:
        raise InvalidArgument(
            f"{_where(path)} must be one of {', '.join(_LIFETIME_POLICIES)}, not {value!r}"
        )


def _capabilities(value: Any, path: str) -> None:
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise InvalidArgument(f"{_where(path)} must be a list of strings, not {value!r}")


def _timeout(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
        raise InvalidArgument(f"{_where(path)} must be a whole number of seconds, not {value!r}")


def _filter(value: Any, path: str) -> None:
    if isinstance(value, str):
        return
    if isinstance(value, dict):
        _filter_entry(value, path)
        return
    if isinstance(value, list) and value:
        for i, entry in enumerate(value):
            if not isinstance(entry, dict):
                raise InvalidArgument(f"{_where(f'{path}[{i}]')} must be a map, not {entry!r}")
            _filter_entry(entry, f"{path}[{i}]")
        return
    raise InvalidArgument(
        f"{_where(path)} must be a selector string, a map {{name, descriptor, value}} or a list"
        f" of such maps, not {value!r}"
    )


def _filter_entry(entry: dict[str, Any], path: str) -> None:
    for key in entry:
        if key not in ("name", "descriptor", "value"):
            raise InvalidArgument(
                f"unknown {_where(f'{path}.{key}')} (a filter has name, descriptor and value)"
            )
    for key in ("name", "descriptor", "value"):
        if key not in entry:
            raise InvalidArgument(f"{_where(path)} needs a {key}")
    _string(entry["name"], f"{path}.name")
    descriptor = entry["descriptor"]
    numeric = isinstance(descriptor, int) and not isinstance(descriptor, bool)
    if not (isinstance(descriptor, str) or (numeric and 0 <= descriptor <= ulong.hi)):
        raise InvalidArgument(
            f"{_where(f'{path}.descriptor')} must be a symbol or a 64-bit code, not {descriptor!r}"
        )


# option name -> a check (value, path) or the schema of a nested map; "*" matches any name
_Schema = dict[str, Any]

_X_DECLARE: Final[_Schema] = {
    "arguments": _map,
    "auto-delete": _boolean,
    "exclusive": _boolean,
    "durable": _boolean,
    "type": _string,
    "alternate-exchange": _string,
}
_SCHEMA: Final[_Schema] = {
    "create": lambda v, p: _choice(v, _POLICIES, p),
    "assert": lambda v, p: _choice(v, _POLICIES, p),
    "delete": lambda v, p: _choice(v, _POLICIES, p),
    "mode": lambda v, p: _choice(v, _MODES, p),
    "node": {
        "type": lambda v, p: _choice(v, _NODE_TYPES, p),
        "durable": _boolean,
        "x-declare": _X_DECLARE,
        "x-bindings": _list,
        "properties": {"lifetime-policy": _lifetime_policy, "*": _anything},
        "capabilities": _capabilities,
    },
    "link": {
        "name": _string,
        "durable": _boolean,
        "reliability": lambda v, p: _choice(v, _RELIABILITIES, p),
        "timeout": _timeout,
        "selector": _string,
        "filter": _filter,
        "x-declare": {"*": _anything},
        "x-subscribe": {"*": _anything},
        "x-bindings": _list,
    },
    "filter": _filter,
    "selector": _string,
}


def _check(options: Any, schema: _Schema, path: str) -> None:
    _map(options, path or "map")
    for key, value in options.items():
        where = f"{path}.{key}" if path else key
        rule = schema.get(key, schema.get("*"))
        if rule is None:
            raise InvalidArgument(f"unknown {_where(where)} (expected one of {', '.join(schema)})")
        if isinstance(rule, dict):
            _check(value, rule, where)
        else:
            rule(value, where)


class Address(msgspec.Struct, frozen=True):
    """A qpid.messaging address: a node name, an optional subject and options.

    Attributes:
        name: the node name; ``"#"`` asks for a temporary node named by the broker.
        subject: the subject: for a sender, the default subject of its messages; for a
            receiver on an exchange, the binding key. ``None`` when absent.
        options: the options map (see the module documentation), checked on construction.

    Raises:
        InvalidArgument: an empty name, or an option that is unknown or has a bad value.
    """

    name: str
    subject: str | None = None
    options: dict[str, Any] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        """Check the name and options, so an address built by hand is as valid as a parsed one."""
        if not isinstance(self.name, str) or not self.name:
            raise InvalidArgument(f"an address needs a name, not {self.name!r}")
        if self.subject is not None and not isinstance(self.subject, str):
            raise InvalidArgument(f"an address subject is a string, not {self.subject!r}")
        _check(self.options, _SCHEMA, "")
        if "selector" in self.options and "selector" in self.options.get("link", {}):
            raise InvalidArgument("address option selector given both at the top and in link")

    @property
    def is_temporary(self) -> bool:
        """The name is ``#``: a temporary node, named by the broker (a dynamic terminus)."""
        return self.name == _TEMPORARY

    @property
    def node_type(self) -> str | None:
        """The ``node: {type}`` option: ``"queue"``, ``"topic"`` or ``None``."""
        node_type: str | None = self.options.get("node", {}).get("type")
        return node_type

    def __str__(self) -> str:
        """The address string, which :func:`parse_address` reads back as an equal address.

        Options holding values the map syntax cannot write (``None``, bytes) are shown as
        Python's ``repr`` instead.
        """
        text = _format_name(self.name, "/;")
        if self.subject:
            text += "/" + _format_name(self.subject, ";")
        if self.options:
            try:
                text += ";" + format_map(self.options)
            except InvalidArgument:  # a value set by hand that the syntax cannot write
                text += ";" + repr(self.options)
        return text


def _format_name(text: str, stops: str) -> str:
    if text == _TEMPORARY or (
        text.strip() == text
        and not any(c in stops or c in "'\"{}\\" or not c.isprintable() for c in text)
    ):
        return text
    return _quote(text)


def _address_part(parser: _Parser, stops: str) -> str:
    """Read a name or subject: quoted pieces and bare characters up to one of ``stops``."""
    parser.skip_space()
    text, n = parser.text, len(parser.text)
    out: list[str] = []
    keep = 0  # length of ``out`` without trailing unquoted whitespace
    while parser.pos < n:
        c = text[parser.pos]
        if c in stops:
            break
        if c in ("'", '"'):
            out.append(parser.quoted())
            keep = len(out)
            continue
        if c in "{}":
            raise parser.fail(f"unexpected {c!r} (options follow a ';'; quote a name with braces)")
        out.append(c)
        parser.pos += 1
        if c not in _SPACE:
            keep = len(out)
    return "".join(out[:keep])


def parse_address(text: str) -> Address:
    """Parse a qpid.messaging address string.

    Args:
        text: ``name[/subject][;{options}]``, for example ``"amq.topic/news.#"`` or
            ``"myqueue;{create:always,node:{x-declare:{arguments:{'qpid.replicate':all}}}}"``.

    Returns:
        The address, its options checked.

    Raises:
        InvalidArgument: the text is malformed (the message gives the position) or an option
            is unknown or has a bad value (the message names it).
    """
    if not isinstance(text, str):
        raise InvalidArgument(f"an address must be a string, not {type(text).__name__}")
    parser = _Parser(text, "address")
    name = _address_part(parser, "/;")
    if not name:
        raise parser.fail("an address needs a name", 0)
    subject = None
    if parser.peek() == "/":
        parser.pos += 1
        subject = _address_part(parser, ";") or None
    options: dict[str, Any] = {}
    if parser.peek() == ";":
        parser.pos += 1
        parser.skip_space()
        if parser.peek() != "{":
            raise parser.fail(f"expected '{{' after ';', found {parser.found()}")
        options = parser.map(1)
    if not parser.at_end():
        raise parser.fail(f"unexpected {parser.found()} after the address")
    try:
        return Address(name, subject, options)
    except InvalidArgument as e:
        raise InvalidArgument(f"invalid address {text!r}: {e.description}") from None


# -------------------------------------------------------------------------------------------
# Mapping onto AMQP 1.0 termini
# -------------------------------------------------------------------------------------------


def _enabled(policy: Any, role: _Role) -> bool:
    return bool(policy == "always" or policy == role)


def _node_properties(address: Address) -> dict[Any, Any]:
    """The node properties qpid's AddressHelper sends for this address."""
    node: dict[str, Any] = address.options.get("node", {})
    props: dict[str, Any] = {}
    node_type = node.get("type")
    if node_type:
        props["supported-dist-modes"] = (
            DistributionMode.COPY if node_type == "topic" else DistributionMode.MOVE
        )
    if node.get("durable"):
        props["durable"] = True
    props.update(node.get("properties", {}))
    for key, value in node.get("x-declare", {}).items():
        if key == "arguments":
            props.update(value)
        elif key == "type":
            props["exchange-type"] = value
        else:
            props[key] = value
    if address.is_temporary and "lifetime-policy" not in props and "auto-delete" not in props:
        props["lifetime-policy"] = "delete-on-close"
    policy = props.get("lifetime-policy")
    if isinstance(policy, str):
        props["lifetime-policy"] = _LIFETIME_POLICIES[policy]()
    return {symbol(k): v for k, v in props.items()}


def _capabilities_for(address: Address, create: bool) -> tuple[str, ...] | None:
    node: dict[str, Any] = address.options.get("node", {})
    caps: list[str] = list(node.get("capabilities", []))
    if create:
        caps.append("create-on-demand")
    if node.get("type"):
        caps.append(node["type"])
    if node.get("durable"):
        caps.append("durable")
    unique = tuple(symbol(c) for c in dict.fromkeys(caps))
    return unique or None


def _terminus_fields(address: Address, role: _Role) -> dict[str, Any]:
    options = address.options
    temporary = address.is_temporary
    create = not temporary and _enabled(options.get("create"), role)
    properties = (
        _node_properties(address)
        if temporary or create or _enabled(options.get("assert"), role)
        else {}
    )
    fields: dict[str, Any] = {
        "address": None if temporary else address.name,
        "dynamic": temporary,
        "dynamic_node_properties": properties or None,
        "capabilities": _capabilities_for(address, create),
    }
    link: dict[str, Any] = options.get("link", {})
    if link.get("durable"):
        fields["durable"] = TerminusDurability.UNSETTLED_STATE
        fields["expiry_policy"] = ExpiryPolicy.NEVER
    if "timeout" in link:
        fields["timeout"] = link["timeout"]
    return fields


def target_for(address: Address) -> Target:
    """The target a sender to ``address`` attaches with.

    Args:
        address: the sender's address.

    Returns:
        The target: the node name (or a dynamic target for ``#``), its capabilities and,
        when the node may be created or is asserted, its node properties. For example
        ``myqueue;{create:always,node:{x-declare:{arguments:{'qpid.replicate':all}}}}`` gives
        ``Target(address="myqueue", capabilities=("create-on-demand",),
        dynamic_node_properties={"qpid.replicate": "all"})``.
    """
    return Target(**_terminus_fields(address, "sender"))


def _filter_entries(value: Any) -> list[tuple[str, Any]]:
    """(name, described filter) for a ``filter`` option: a selector, a map or a list of maps."""
    if isinstance(value, str):
        return [("selector", Described(symbol(SELECTOR_FILTER), value))]
    entries = value if isinstance(value, list) else [value]
    out = []
    for entry in entries:
        descriptor = entry["descriptor"]
        code = symbol(descriptor) if isinstance(descriptor, str) else ulong(descriptor)
        out.append((entry["name"], Described(code, entry["value"])))
    return out


def _filters(address: Address) -> dict[Any, Any] | None:
    options = address.options
    link: dict[str, Any] = options.get("link", {})
    filters: dict[Any, Any] = {}
    selector = link.get("selector", options.get("selector"))
    if selector is not None:
        filters[symbol("selector")] = Described(symbol(SELECTOR_FILTER), selector)
    node_type = address.node_type
    if address.subject and node_type != "queue":
        # qpid's client picks the descriptor from the key; on a topic node it is a topic key.
        wildcards = "*" in address.subject or "#" in address.subject
        descriptor = (
            TOPIC_BINDING_FILTER if node_type == "topic" or wildcards else DIRECT_BINDING_FILTER
        )
        filters[symbol("subject-filter")] = Described(symbol(descriptor), address.subject)
    for where in (options, link):
        if "filter" in where:
            for name, described in _filter_entries(where["filter"]):
                filters[symbol(name)] = described
    return filters or None


def source_for(address: Address) -> Source:
    """The source a receiver from ``address`` attaches with.

    Args:
        address: the receiver's address.

    Returns:
        The source: as for :func:`target_for`, plus the ``copy`` distribution mode for
        ``mode: browse`` and the filters: the subject as a binding key (unless the node is a
        queue), and the selector and ``filter`` options.
    """
    fields = _terminus_fields(address, "receiver")
    if address.options.get("mode") == "browse":
        fields["distribution_mode"] = DistributionMode.COPY
    fields["filter"] = _filters(address)
    return Source(**fields)


def link_name(address: Address, default: str | None = None) -> str:
    """The name of a link to or from ``address``.

    Args:
        address: the link's address.
        default: the name to use when the address has no ``link: {name}`` option; by
            default ``<name>_<uuid>``, as qpid's client names links.

    Returns:
        The ``link: {name}`` option, else ``default``, else a new unique name.
    """
    name: str | None = address.options.get("link", {}).get("name")
    if name is not None:
        return name
    if default is not None:
        return default
    return f"{address.name}_{uuid.uuid4()}"


def reliability(address: Address) -> tuple[int, int]:
    """The settle modes of a link for the address's ``link: {reliability}`` option.

    ``unreliable`` and ``at-most-once`` are sent settled, and so is a browser that names no
    reliability (as in qpid); everything else is sent unsettled and settled by the receiver
    first (``exactly-once`` included: it is at-least-once here, as in qpid's client).

    Args:
        address: the link's address.

    Returns:
        ``(snd_settle_mode, rcv_settle_mode)``: a
        :class:`~qpid_ha.amqp.performatives.SenderSettleMode` and a
        :class:`~qpid_ha.amqp.performatives.ReceiverSettleMode` value.
    """
    options = address.options
    chosen = options.get("link", {}).get("reliability")
    settled = chosen in _UNRELIABLE or (chosen is None and options.get("mode") == "browse")
    snd = SenderSettleMode.SETTLED if settled else SenderSettleMode.UNSETTLED
    return snd, ReceiverSettleMode.FIRST


# -------------------------------------------------------------------------------------------
# Connection options
# -------------------------------------------------------------------------------------------


def _opt_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"connection option {name} must be true or false, not {value!r}")
    return value


def _opt_seconds(name: str, value: Any) -> float | int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise InvalidArgument(
            f"connection option {name} must be a number of seconds >= 0, not {value!r}"
        )
    return value


def _opt_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(
            f"connection option {name} must be a whole number >= 0, not {value!r}"
        )
    return value


def _opt_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"connection option {name} must be a string, not {value!r}")
    return value


def _opt_map(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidArgument(
            f"connection option {name} must be a map with string keys, not {value!r}"
        )
    return dict(value)


def _opt_urls(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise InvalidArgument(
            f"connection option {name} must be a list of URLs or a comma-separated string,"
            f" not {value!r}"
        )
    urls: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidArgument(f"connection option {name}: a URL is a string, not {item!r}")
        try:
            url = parse_url(item)
        except InvalidArgument as e:
            raise InvalidArgument(f"connection option {name}: {e.description}") from None
        urls.extend(str(Url((a,), url.user, url.password)) for a in url.addresses)
    return urls


def _opt_mechanisms(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        mechanisms = [m for m in re.split(r"[\s,]+", value) if m]
    elif isinstance(value, list | tuple) and all(isinstance(m, str) for m in value):
        mechanisms = [m.strip() for m in value if m.strip()]
    else:
        raise InvalidArgument(
            f"connection option {name} must be a string or a list of strings, not {value!r}"
        )
    if not mechanisms:
        raise InvalidArgument(f"connection option {name} names no mechanism")
    return mechanisms


def _opt_protocol(name: str, value: Any) -> str:
    if value != "amqp1.0":
        raise InvalidArgument(
            f"connection option {name} must be amqp1.0 (the only protocol supported), not {value!r}"
        )
    return "amqp1.0"


_CONNECTION_OPTIONS: Final[dict[str, Callable[[str, Any], Any]]] = {
    "reconnect": _opt_bool,
    "reconnect_urls": _opt_urls,
    "reconnect_timeout": _opt_seconds,
    "reconnect_limit": _opt_count,
    "reconnect_interval": _opt_seconds,
    "reconnect_interval_min": _opt_seconds,
    "reconnect_interval_max": _opt_seconds,
    "heartbeat": _opt_seconds,
    "username": _opt_str,
    "password": _opt_str,
    "sasl_mechanisms": _opt_mechanisms,
    "container_id": _opt_str,
    "properties": _opt_map,
    "tcp_nodelay": _opt_bool,
    "protocol": _opt_protocol,
}


def parse_connection_options(options: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """Check and normalise qpid.messaging connection options.

    The names are qpid.messaging's, with ``_`` or ``-`` (``reconnect_timeout`` or
    ``reconnect-timeout``); the result uses ``_``. Values are normalised:

    - ``reconnect_urls``: a list of URLs or a string; each URL may name several brokers
      (``"a:1,b:2"``) and the result has one canonical single-broker URL per broker
      (``["amqp:tcp:a:1", "amqp:tcp:b:2"]``), credentials kept;
    - ``sasl_mechanisms``: a string separated by spaces or commas, or a list; the result is a
      list of names;
    - ``reconnect_interval`` sets both ``reconnect_interval_min`` and
      ``reconnect_interval_max`` (it replaces itself with them);
    - ``reconnect``, ``tcp_nodelay``: booleans; ``reconnect_timeout``, ``heartbeat`` and the
      intervals: seconds >= 0; ``reconnect_limit``: a whole number >= 0; ``username``,
      ``password``, ``container_id``: strings; ``properties``: a map (the connection's open
      properties); ``protocol``: only ``amqp1.0``.

    Args:
        options: a map, the string form (``"{reconnect:true, heartbeat:10}"``), or ``None``.

    Returns:
        The options given, checked and normalised (no defaults are added).

    Raises:
        InvalidArgument: an unknown option (named), a bad value, ``reconnect_interval`` given
            with ``reconnect_interval_min`` or ``_max``, or a minimum above the maximum.
    """
    if options is None:
        return {}
    given = parse_map(options) if isinstance(options, str) else options
    if not isinstance(given, Mapping):
        raise InvalidArgument(f"connection options must be a map, not {type(given).__name__}")
    result: dict[str, Any] = {}
    for raw, value in given.items():
        if not isinstance(raw, str):
            raise InvalidArgument(f"connection option names are strings, not {raw!r}")
        name = raw.replace("-", "_")
        check = _CONNECTION_OPTIONS.get(name)
        if check is None:
            raise InvalidArgument(
                f"unknown connection option {raw!r} (known: {', '.join(_CONNECTION_OPTIONS)})"
            )
        if name in result:
            raise InvalidArgument(f"connection option {name} given twice")
        result[name] = check(name, value)
    if "reconnect_interval" in result:
        if "reconnect_interval_min" in result or "reconnect_interval_max" in result:
            raise InvalidArgument(
                "connection option reconnect_interval sets both reconnect_interval_min and"
                " reconnect_interval_max: give it alone or give those"
            )
        interval = result.pop("reconnect_interval")
        result["reconnect_interval_min"] = result["reconnect_interval_max"] = interval
    low, high = result.get("reconnect_interval_min"), result.get("reconnect_interval_max")
    if low is not None and high is not None and low > high:
        raise InvalidArgument(
            f"connection option reconnect_interval_min ({low}) is above reconnect_interval_max"
            f" ({high})"
        )
    return result
