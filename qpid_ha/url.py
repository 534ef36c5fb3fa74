"""Qpid broker URLs: the grammar of ``ha-brokers-url``, ``ha-public-url`` and ``-b BROKER``.

The grammar is Qpid's (the HA user guide's footnote on URLs)::

    url      = ["amqp:"] [user ["/" password] "@"] addr ("," addr)*
    addr     = [scheme ":"] host [":" port]
    scheme   = "tcp" | "ssl"
    host     = name | IPv4 address | "[" IPv6 address "]"

A missing scheme means ``tcp`` and a missing port means 5672, for ``ssl`` too: our listener
recognises TLS on the same port as plain AMQP (design.md section 2, ``io/``). Qpid's
``rdma`` addresses are not supported.

Proton-style URLs are accepted as well, alone or in a comma list:
``amqp://[user[:password]@]host[:port][/]`` and ``amqps://...`` (scheme ``ssl``). As in proton,
their user and password may be percent-encoded and ``amqps`` defaults to port 5671.

``str()`` of a :class:`Url` gives the canonical Qpid form with every scheme and port
spelled out (``amqp:tcp:127.0.0.1:5672,ssl:[::1]:5672``, as qpidd prints URLs), and
``parse_url(str(url)) == url``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal
from urllib.parse import unquote

import msgspec

from .errors import InvalidArgument

__all__ = ["DEFAULT_PORT", "Address", "Scheme", "Url", "parse_url"]

DEFAULT_PORT = 5672
"""The port of an address that names none (``amqps://`` URLs excepted: 5671)."""

_AMQPS_PORT = 5671

Scheme = Literal["tcp", "ssl"]
"""The transport of an :class:`Address`: plain TCP or TLS over TCP."""

_SCHEMES: frozenset[str] = frozenset({"tcp", "ssl"})
# Words that look like a scheme in front of an address; naming them gives a clearer error than
# "bad port" when someone writes rdma:host or http://host.
_FOREIGN_SCHEMES = frozenset({"rdma", "unix", "ws", "wss", "http", "https", "amqp", "amqps"})
_HOST_NAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?")
_SCHEME_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


class Address(msgspec.Struct, frozen=True):
    """One broker address of a :class:`Url`.

    Attributes:
        host: a host name or IP address; IPv6 addresses are kept without brackets.
        port: the TCP port, 1..65535.
        scheme: ``"tcp"`` or ``"ssl"`` (TLS).

    Raises:
        InvalidArgument: a field is out of range.
    """

    host: str
    port: int = DEFAULT_PORT
    scheme: Scheme = "tcp"

    def __post_init__(self) -> None:
        """Check the fields, so an address built by hand is as valid as a parsed one."""
        if self.scheme not in _SCHEMES:
            raise InvalidArgument(f"unknown address scheme {self.scheme!r} (expected tcp or ssl)")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise InvalidArgument(f"port must be an integer, not {self.port!r}")
        if not 1 <= self.port <= 65535:
            raise InvalidArgument(f"bad port {self.port}: must be 1..65535")
        _check_host(self.host, self.host)

    @property
    def hostport(self) -> str:
        """``host:port``, with brackets around an IPv6 host (for logs and sockets' peers)."""
        return f"{_bracket(self.host)}:{self.port}"

    @property
    def proton_url(self) -> str:
        """This address as a proton-style URL: ``amqp://host:port`` or ``amqps://host:port``."""
        prefix = "amqps" if self.scheme == "ssl" else "amqp"
        return f"{prefix}://{self.hostport}"

    def __str__(self) -> str:
        """The Qpid form, ``scheme:host:port`` (``tcp:127.0.0.1:5672``)."""
        return f"{self.scheme}:{self.hostport}"


class Url(msgspec.Struct, frozen=True):
    """A parsed Qpid URL: optional credentials and one or more broker addresses.

    Attributes:
        addresses: the broker addresses, in the order given (at least one).
        user: the user name, or None.
        password: the password, or None (``user/@host`` gives an empty password).

    Raises:
        InvalidArgument: no addresses, or credentials that the Qpid form cannot carry.
    """

    addresses: tuple[Address, ...]
    user: str | None = None
    password: str | None = None

    def __post_init__(self) -> None:
        """Check that the URL can be written out and parsed back unchanged."""
        if not self.addresses:
            raise InvalidArgument("a URL needs at least one address")
        if self.user is not None and (not self.user or "/" in self.user):
            raise InvalidArgument(f"bad user name {self.user!r}: empty or contains '/'")
        if self.password is not None and self.user is None:
            raise InvalidArgument("a URL with a password needs a user name")

    def __str__(self) -> str:
        """The canonical Qpid form, ``amqp:[user[/password]@]tcp:host:port,...``."""
        credentials = ""
        if self.user is not None:
            credentials = self.user
            if self.password is not None:
                credentials += "/" + self.password
            credentials += "@"
        return "amqp:" + credentials + ",".join(str(a) for a in self.addresses)


def parse_url(text: str) -> Url:
    """Parse a Qpid URL, a proton-style URL, or a comma list of either.

    Args:
        text: for example ``"amqp:guest/guest@tcp:host1:5672,ssl:host2"``,
            ``"host1,host2:5673"``, ``"[::1]:5672"`` or ``"amqps://user:pw@host"``.

    Returns:
        The parsed URL.

    Raises:
        InvalidArgument: the text is empty or malformed: an empty address, a bad port, a
            scheme other than tcp and ssl, conflicting credentials in a proton-style list.
    """
    if not isinstance(text, str):
        raise InvalidArgument(f"a URL must be a string, not {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise InvalidArgument("empty URL")
    try:
        if re.match(r"(?i)amqps?://", stripped):
            return _parse_proton_list(stripped)
        return _parse_qpid(stripped)
    except InvalidArgument as e:
        raise InvalidArgument(f"invalid URL {text!r}: {e.description}") from None


def _parse_qpid(text: str) -> Url:
    """Parse the Qpid form: optional ``amqp:``, optional credentials, addresses."""
    if text[:5].lower() == "amqp:":
        text = text[5:]
    user = password = None
    if "@" in text:
        # Addresses never contain '@', so the last one ends the credentials; the user name
        # ends at the first '/', and the password may contain anything.
        credentials, _, text = text.rpartition("@")
        user, slash, pw = credentials.partition("/")
        if not user:
            raise InvalidArgument("empty user name before '@'")
        password = pw if slash else None
    addresses = tuple(_parse_address(item) for item in text.split(","))
    return Url(addresses, user, password)


def _parse_proton_list(text: str) -> Url:
    """Parse ``amqp://`` / ``amqps://`` URLs (comma separated; Qpid addresses may be mixed in)."""
    credentials: set[tuple[str | None, str | None]] = set()
    addresses = []
    for item in text.split(","):
        match = re.match(r"(?i)(amqps?)://(.*)", item.strip())
        if match is None:
            addresses.append(_parse_address(item))
            continue
        scheme: Scheme = "ssl" if match[1].lower() == "amqps" else "tcp"
        rest = match[2]
        user = password = None
        if "@" in rest:
            userinfo, _, rest = rest.rpartition("@")
            raw_user, colon, raw_password = userinfo.partition(":")
            if not raw_user:
                raise InvalidArgument("empty user name before '@'")
            user = unquote(raw_user)
            password = unquote(raw_password) if colon else None
        credentials.add((user, password))
        if rest.endswith("/"):
            rest = rest[:-1]
        if "/" in rest or "?" in rest or "#" in rest:
            raise InvalidArgument(f"a broker URL has no path: {item.strip()!r}")
        default = _AMQPS_PORT if scheme == "ssl" else DEFAULT_PORT
        addresses.append(_parse_hostport(rest, scheme, default, item.strip()))
    named = {c for c in credentials if c != (None, None)}
    if len(named) > 1:
        raise InvalidArgument("the URLs of the list name different credentials")
    user, password = named.pop() if named else (None, None)
    return Url(tuple(addresses), user, password)


def _parse_address(item: str) -> Address:
    """Parse ``[scheme:]host[:port]``."""
    item = item.strip()
    if not item:
        raise InvalidArgument("empty address")
    scheme: Scheme = "tcp"
    head, colon, rest = item.partition(":")
    if colon and head.lower() in _SCHEMES:
        scheme = "ssl" if head.lower() == "ssl" else "tcp"
        item = rest
    elif (
        colon
        and _SCHEME_WORD.fullmatch(head)
        and not rest.isdigit()
        and (head.lower() in _FOREIGN_SCHEMES or ":" in rest or rest.startswith("["))
    ):
        # A scheme we do not speak; "host:abc" falls through and is reported as a bad port.
        raise InvalidArgument(f"unknown address scheme {head!r} (expected tcp or ssl)")
    return _parse_hostport(item, scheme, DEFAULT_PORT, item)


def _parse_hostport(text: str, scheme: Scheme, default_port: int, context: str) -> Address:
    """Parse ``host[:port]`` where an IPv6 host is in brackets."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise InvalidArgument(f"missing ']' in {context!r}")
        host, tail = text[1:end], text[end + 1 :]
        if not host:
            raise InvalidArgument(f"empty host in {context!r}")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidArgument(f"bad IPv6 address {host!r} in {context!r}") from None
        if tail and not tail.startswith(":"):
            raise InvalidArgument(f"unexpected {tail!r} after ']' in {context!r}")
        port_text = tail[1:] if tail else None
    else:
        host, colon, port_text_or_empty = text.partition(":")
        if ":" in port_text_or_empty:
            raise InvalidArgument(f"IPv6 addresses must be in brackets: {context!r}")
        port_text = port_text_or_empty if colon else None
        _check_host(host, context)
    if port_text is None:
        port = default_port
    else:
        if not port_text.isascii() or not port_text.isdigit():
            raise InvalidArgument(f"bad port {port_text!r} in {context!r}")
        port = int(port_text)
        if not 1 <= port <= 65535:
            raise InvalidArgument(f"bad port {port} in {context!r}: must be 1..65535")
    return Address(host, port, scheme)


def _check_host(host: str, context: str) -> None:
    """Reject an empty host or one with characters no host name or address has."""
    if not isinstance(host, str) or not host:
        raise InvalidArgument(f"empty host in {context!r}")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidArgument(f"bad IPv6 address {host!r}") from None
    elif not _HOST_NAME.fullmatch(host):
        raise InvalidArgument(f"bad host {host!r} in {context!r}")


def _bracket(host: str) -> str:
    """Put an IPv6 host in brackets."""
    return f"[{host}]" if ":" in host else host
