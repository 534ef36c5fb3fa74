"""SASL negotiation (OASIS AMQP 1.0 Part 5, section 5.3).

The SASL frames are composites like the performatives. Mechanisms plug in on either side:

- a client holds a :class:`SaslClient` with :class:`ClientMechanism` objects in its order of
  preference and takes the first one the server offers;
- a server holds a :class:`SaslServer` with :class:`ServerMechanism` factories, offered in
  the order given (rhea takes the first it supports, so list the strongest first).

ANONYMOUS and PLAIN (RFC 4616) are built in; EXTERNAL and SCRAM-SHA-256 plug in through the
same two interfaces.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import Protocol

from ..errors import AuthenticationError
from .composite import Composite, composite

__all__ = [
    "AnonymousClient",
    "AnonymousServer",
    "ClientMechanism",
    "PlainClient",
    "PlainServer",
    "SaslChallenge",
    "SaslClient",
    "SaslCode",
    "SaslInit",
    "SaslMechanisms",
    "SaslOutcome",
    "SaslResponse",
    "SaslServer",
    "ServerMechanism",
    "ServerStep",
]


class SaslCode(IntEnum):
    """sasl-code values (Part 5 section 5.3.3.6)."""

    OK = 0
    AUTH = 1
    SYS = 2
    SYS_PERM = 3
    SYS_TEMP = 4


@composite(0x40, "amqp:sasl-mechanisms:list", "symbols", mandatory=("sasl_server_mechanisms",))
class SaslMechanisms(Composite, frozen=True):
    """sasl-mechanisms: the mechanisms the server offers (Part 5 section 5.3.3.1)."""

    sasl_server_mechanisms: tuple[str, ...] | None = None


@composite(0x41, "amqp:sasl-init:list", "symbol", "binary", "string", mandatory=("mechanism",))
class SaslInit(Composite, frozen=True):
    """sasl-init: the client's choice and initial response (Part 5 section 5.3.3.2)."""

    mechanism: str | None = None
    initial_response: bytes | None = None
    hostname: str | None = None


@composite(0x42, "amqp:sasl-challenge:list", "binary", mandatory=("challenge",))
class SaslChallenge(Composite, frozen=True):
    """sasl-challenge (Part 5 section 5.3.3.3)."""

    challenge: bytes | None = None


@composite(0x43, "amqp:sasl-response:list", "binary", mandatory=("response",))
class SaslResponse(Composite, frozen=True):
    """sasl-response (Part 5 section 5.3.3.4)."""

    response: bytes | None = None


@composite(0x44, "amqp:sasl-outcome:list", "ubyte", "binary", mandatory=("code",))
class SaslOutcome(Composite, frozen=True):
    """sasl-outcome: the result of authentication (Part 5 section 5.3.3.5)."""

    code: int | None = None
    additional_data: bytes | None = None


SASL_FRAMES = (SaslMechanisms, SaslInit, SaslChallenge, SaslResponse, SaslOutcome)


# ---------------------------------------------------------------------------------------------
# Client side
# ---------------------------------------------------------------------------------------------


class ClientMechanism(Protocol):
    """A client-side SASL mechanism."""

    name: str

    def initial_response(self, hostname: str | None) -> bytes | None:
        """The initial response sent with sasl-init."""

    def challenge(self, data: bytes) -> bytes:
        """Answer a server challenge; raise AuthenticationError to give up."""

    def outcome(self, additional_data: bytes | None) -> None:
        """Check the server's additional data on success (mutual authentication)."""


class AnonymousClient:
    """ANONYMOUS (RFC 4505): the trace string is sent as the initial response."""

    name = "ANONYMOUS"

    def __init__(self, trace: str = "anonymous") -> None:
        self.trace = trace

    def initial_response(self, hostname: str | None) -> bytes | None:
        """Send the trace string."""
        return self.trace.encode("utf-8")

    def challenge(self, data: bytes) -> bytes:
        """ANONYMOUS takes no challenges."""
        raise AuthenticationError("unexpected challenge for ANONYMOUS")

    def outcome(self, additional_data: bytes | None) -> None:
        """Nothing to verify."""


class PlainClient:
    """PLAIN (RFC 4616): ``authzid NUL authcid NUL password`` in the initial response."""

    name = "PLAIN"

    def __init__(self, username: str, password: str, authzid: str = "") -> None:
        self.username = username
        self.password = password
        self.authzid = authzid

    def initial_response(self, hostname: str | None) -> bytes | None:
        """Send the credentials."""
        return b"\x00".join(s.encode("utf-8") for s in (self.authzid, self.username, self.password))

    def challenge(self, data: bytes) -> bytes:
        """PLAIN takes no challenges."""
        raise AuthenticationError("unexpected challenge for PLAIN")

    def outcome(self, additional_data: bytes | None) -> None:
        """Nothing to verify."""


class SaslClient:
    """The client side of SASL: picks a mechanism and runs it.

    Args:
        mechanisms: in order of preference; the first one the server offers is used.
        hostname: sent in sasl-init (the virtual host), or None.
    """

    def __init__(self, mechanisms: Sequence[ClientMechanism], hostname: str | None = None):
        if not mechanisms:
            raise ValueError("a SASL client needs at least one mechanism")
        self.mechanisms = list(mechanisms)
        self.hostname = hostname
        self.chosen: ClientMechanism | None = None

    @classmethod
    def for_credentials(
        cls,
        username: str | None = None,
        password: str | None = None,
        allowed: Sequence[str] | None = None,
    ) -> SaslClient:
        """The usual client: PLAIN when a password is given, else ANONYMOUS.

        Args:
            username: the user; with no password it is ANONYMOUS's trace string.
            password: the password for PLAIN.
            allowed: mechanism names the application allows, or None for all.
        """
        mechs: list[ClientMechanism] = []
        if username is not None and password is not None:
            mechs.append(PlainClient(username, password))
        mechs.append(AnonymousClient(username or "anonymous"))
        if allowed is not None:
            ok = {a.upper() for a in allowed}
            mechs = [m for m in mechs if m.name in ok]
            if not mechs:
                raise ValueError(f"none of the allowed mechanisms {sorted(ok)} is available")
        return cls(mechs)

    def choose(self, offered: Sequence[str]) -> SaslInit:
        """Choose a mechanism from the server's list and build sasl-init.

        Raises:
            AuthenticationError: no mechanism in common.
        """
        offered_set = set(offered)
        for mech in self.mechanisms:
            if mech.name in offered_set:
                self.chosen = mech
                return SaslInit(
                    mechanism=mech.name,
                    initial_response=mech.initial_response(self.hostname),
                    hostname=self.hostname,
                )
        raise AuthenticationError(
            f"no SASL mechanism in common: server offers {sorted(offered_set)}, "
            f"client allows {[m.name for m in self.mechanisms]}"
        )


# ---------------------------------------------------------------------------------------------
# Server side
# ---------------------------------------------------------------------------------------------


class ServerStep:
    """What a server mechanism does next: challenge, or finish with an outcome.

    Attributes:
        challenge: bytes to send as sasl-challenge, or None when finished.
        code: the outcome code when finished.
        user: the authenticated identity on success.
        additional_data: sent with a successful outcome.
    """

    __slots__ = ("additional_data", "challenge", "code", "user")

    def __init__(
        self,
        challenge: bytes | None = None,
        code: SaslCode = SaslCode.OK,
        user: str | None = None,
        additional_data: bytes | None = None,
    ) -> None:
        self.challenge = challenge
        self.code = code
        self.user = user
        self.additional_data = additional_data

    @classmethod
    def ok(cls, user: str, additional_data: bytes | None = None) -> ServerStep:
        """Authentication succeeded for ``user``."""
        return cls(code=SaslCode.OK, user=user, additional_data=additional_data)

    @classmethod
    def fail(cls, code: SaslCode = SaslCode.AUTH) -> ServerStep:
        """Authentication failed."""
        return cls(code=code)


class ServerMechanism(Protocol):
    """A server-side SASL mechanism factory: ``start`` begins one exchange."""

    name: str

    def start(self, initial_response: bytes | None, hostname: str | None) -> ServerStep:
        """Handle sasl-init."""

    def respond(self, response: bytes) -> ServerStep:
        """Handle sasl-response (after a challenge)."""


class AnonymousServer:
    """ANONYMOUS: everyone is let in as ``anonymous``."""

    name = "ANONYMOUS"

    def start(self, initial_response: bytes | None, hostname: str | None) -> ServerStep:
        """Accept at once."""
        return ServerStep.ok("anonymous")

    def respond(self, response: bytes) -> ServerStep:
        """ANONYMOUS never challenges."""
        return ServerStep.fail()


class PlainServer:
    """PLAIN, checking each username and password with ``authenticate``.

    Args:
        authenticate: returns True when the password is right for the user.
    """

    name = "PLAIN"

    def __init__(self, authenticate: Callable[[str, str], bool]) -> None:
        self.authenticate = authenticate

    @classmethod
    def from_users(cls, users: dict[str, str]) -> PlainServer:
        """PLAIN over a fixed user -> password table, compared in constant time."""

        def check(user: str, password: str) -> bool:
            expected = users.get(user)
            return expected is not None and hmac.compare_digest(
                expected.encode("utf-8"), password.encode("utf-8")
            )

        return cls(check)

    def start(self, initial_response: bytes | None, hostname: str | None) -> ServerStep:
        """Check ``authzid NUL authcid NUL password``."""
        if initial_response is None:
            return ServerStep(challenge=b"")
        return self.respond(initial_response)

    def respond(self, response: bytes) -> ServerStep:
        """Check the credentials."""
        parts = response.split(b"\x00")
        if len(parts) != 3:
            return ServerStep.fail()
        try:
            authzid, user, password = (p.decode("utf-8") for p in parts)
        except UnicodeDecodeError:
            return ServerStep.fail()
        if authzid and authzid != user:
            return ServerStep.fail()
        if not user or not self.authenticate(user, password):
            return ServerStep.fail()
        return ServerStep.ok(user)


class SaslServer:
    """The server side of SASL.

    Args:
        mechanisms: offered to clients in this order.
        max_rounds: most challenge/response rounds before giving up.
    """

    def __init__(self, mechanisms: Sequence[ServerMechanism], max_rounds: int = 8) -> None:
        if not mechanisms:
            raise ValueError("a SASL server needs at least one mechanism")
        self.mechanisms = {m.name: m for m in mechanisms}
        self.max_rounds = max_rounds

    @property
    def offered(self) -> tuple[str, ...]:
        """Mechanism names in the order offered."""
        return tuple(self.mechanisms)

    @property
    def allows_anonymous(self) -> bool:
        """Whether ANONYMOUS is among the mechanisms."""
        return "ANONYMOUS" in self.mechanisms
