"""The AMQP 1.0 connection engine, sans-IO (OASIS AMQP 1.0 Part 2 section 2.4, Part 5 5.3).

A :class:`Connection` takes bytes and gives events; it never touches sockets, tasks or
clocks. Drive it like this::

    conn = Connection(container_id="me", sasl=SaslClient.for_credentials())
    conn.open()
    while not conn.finished:
        sock.sendall(conn.data_to_send())
        conn.receive_data(sock.recv(65536))      # b"" when the peer closed the socket
        while (event := conn.next_event()) is not None:
            ...                                   # ConnectionOpened, LinkAttached, ...
        deadline = conn.tick(time.monotonic())   # heartbeats and idle timeout

It plays either role (``server=True`` for a listener), handles the protocol header exchange
(SASL or bare AMQP), SASL, pipelined open/begin/attach, sessions and links with their flow
control, multi-frame and aborted transfers, dispositions in ranges, and idle timeouts.
Whatever the peer sends, :meth:`receive_data` does not raise: a violation becomes a close,
end or detach carrying the spec's error condition, reported as an event.
"""

from __future__ import annotations

import logging
import struct
import uuid
from collections import deque
from collections.abc import Iterator
from typing import Any

from ..errors import AuthenticationError, FramingError, ProtocolError, UsageError
from . import conditions
from ._state import CONNECTION_FRAMES, EndpointState, Phase
from .codec import DEFAULT_LIMITS, DecodeLimits
from .events import (
    Authenticated,
    AuthenticationFailed,
    ConnectionClosed,
    ConnectionOpened,
    Event,
    LinkDetached,
    SessionBegun,
    SessionEnded,
)
from .framing import (
    AMQP_FRAME,
    AMQP_HEADER,
    EMPTY_FRAME,
    MIN_MAX_FRAME_SIZE,
    SASL_FRAME,
    SASL_HEADER,
    frame_log,
    parse_frame,
)
from .performatives import (
    Attach,
    Begin,
    Close,
    Detach,
    Disposition,
    End,
    Error,
    Flow,
    Open,
    Transfer,
)
from .sasl import (
    SaslChallenge,
    SaslClient,
    SaslCode,
    SaslInit,
    SaslMechanisms,
    SaslOutcome,
    SaslResponse,
    SaslServer,
    ServerMechanism,
    ServerStep,
)
from .session import DEFAULT_WINDOW, LinkFault, Session, SessionFault
from .trace import describe

__all__ = ["Connection"]

_pack_size = struct.Struct(">I").pack_into
# The largest a transfer performative gets without a delivery state: descriptor, list header,
# handle, delivery-id, a 32-byte tag, message-format and five booleans, rounded up.
_TRANSFER_HEAD_MAX = 80
# SASL frames are small; a peer that sends more before authenticating is refused.
_SASL_MAX_FRAME = 65536


class Connection:
    """One AMQP 1.0 connection, client or server side.

    Args:
        server: play the listening side (answer headers, offer SASL mechanisms).
        container_id: our container-id (a random UUID by default).
        hostname: the open's hostname (client side: the virtual host).
        sasl: a :class:`SaslClient` (client) or :class:`SaslServer` (server), or None to
            speak bare AMQP.
        allow_bare_amqp: server with SASL: still accept a client that sends the bare AMQP
            header (rhea without credentials does); the user is then anonymous.
        max_frame_size: the largest frame we accept (at least 512).
        channel_max: the highest channel number we accept.
        idle_timeout: seconds of silence after which we close the connection; half of it is
            advertised as idle-time-out, as the spec recommends (Part 2 section 2.4.5).
        properties, offered_capabilities, desired_capabilities: sent in our open.
        incoming_window: default session incoming window, in frames.
        limits: bounds for decoding what the peer sends.
    """

    def __init__(
        self,
        *,
        server: bool = False,
        container_id: str | None = None,
        hostname: str | None = None,
        sasl: SaslClient | SaslServer | None = None,
        allow_bare_amqp: bool = True,
        max_frame_size: int = 65536,
        channel_max: int = 255,
        idle_timeout: float | None = None,
        properties: dict[Any, Any] | None = None,
        offered_capabilities: tuple[str, ...] | None = None,
        desired_capabilities: tuple[str, ...] | None = None,
        incoming_window: int = DEFAULT_WINDOW,
        limits: DecodeLimits = DEFAULT_LIMITS,
    ) -> None:
        if max_frame_size < MIN_MAX_FRAME_SIZE:
            raise ValueError(f"max_frame_size must be at least {MIN_MAX_FRAME_SIZE}")
        if server and sasl is not None and not isinstance(sasl, SaslServer):
            raise TypeError("a server connection takes a SaslServer")
        if not server and sasl is not None and not isinstance(sasl, SaslClient):
            raise TypeError("a client connection takes a SaslClient")
        self.server = server
        self.container_id = container_id or str(uuid.uuid4())
        self.hostname = hostname
        self.sasl = sasl
        self.allow_bare_amqp = allow_bare_amqp
        self.max_frame_size = max_frame_size
        self.channel_max = channel_max
        self.idle_timeout = idle_timeout
        self.properties = properties
        self.offered_capabilities = offered_capabilities
        self.desired_capabilities = desired_capabilities
        self.incoming_window = incoming_window
        self.limits = limits
        #: our half and the peer's half of the connection state
        self.local = EndpointState.UNINIT
        self.remote = EndpointState.UNINIT
        #: the peer's open, once it arrived
        self.remote_open: Open | None = None
        #: the peer's close error, or the error we closed with
        self.error: Error | None = None
        #: the authenticated user (server side), or None for anonymous
        self.user: str | None = None
        #: the mechanism SASL used, or None
        self.mechanism: str | None = None
        self.remote_max_frame_size = MIN_MAX_FRAME_SIZE
        self.remote_channel_max = 0xFFFF
        self.remote_idle_timeout: float | None = None
        self._phase = Phase.HEADER
        self._sasl_done = sasl is None
        self._sasl_mech: ServerMechanism | None = None
        self._sasl_rounds = 0
        self._inbuf = bytearray()
        self._out = bytearray()
        self._held = bytearray()  # AMQP frames written before our AMQP header
        self._header_sent = False
        self._events: deque[Event] = deque()
        self._local_channels: dict[int, Session] = {}
        self._remote_channels: dict[int, Session] = {}
        self._dirty: list[Session] = []
        self._rx = False
        self._tx = False
        self._last_rx: float | None = None
        self._last_tx: float | None = None
        self._trace = frame_log.isEnabledFor(logging.DEBUG)
        if not server:
            if sasl is not None:
                self._out += SASL_HEADER
            else:
                self._send_amqp_header()

    # -- I/O side -------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """No more input will be processed: write what :meth:`data_to_send` returns, then
        close the transport."""
        return self._phase is Phase.DONE

    @property
    def authenticated(self) -> bool:
        """SASL completed successfully (or was not used)."""
        return self._sasl_done

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Feed bytes from the transport; ``b""`` means the peer closed it.

        Never raises for anything the peer sends: violations close the connection (or end
        the session, or detach the link) with the spec's error condition.
        """
        if self._phase is Phase.DONE:
            return
        if not data:
            self._on_eof()
            return
        self._rx = True
        self._trace = frame_log.isEnabledFor(logging.DEBUG)
        buf = self._inbuf
        if buf:
            buf += data
            src: Any = buf
        else:
            src = data if isinstance(data, bytes) else bytes(data)
        try:
            pos = self._process(src)
        except ProtocolError as e:
            self._inbuf = bytearray()
            self._fail(e)
            return
        if buf:
            del buf[:pos]
        elif pos < len(src):
            self._inbuf = bytearray(src[pos:])

    def next_event(self) -> Event | None:
        """The next event, or None when there is none."""
        return self._events.popleft() if self._events else None

    def events(self) -> Iterator[Event]:
        """Iterate over (and consume) the pending events."""
        ev = self._events
        while ev:
            yield ev.popleft()

    @property
    def has_data_to_send(self) -> bool:
        """Whether :meth:`data_to_send` would return bytes now."""
        return bool(self._out) or bool(self._dirty)

    def data_to_send(self) -> bytes:
        """Bytes to write to the transport now (may be empty)."""
        self._trace = frame_log.isEnabledFor(logging.DEBUG)
        if self._dirty:
            dirty, self._dirty = self._dirty, []
            for session in dirty:
                session._flush()
        if not self._out:
            return b""
        data = bytes(self._out)
        self._out.clear()
        return data

    def tick(self, now: float) -> float | None:
        """Run timers at time ``now`` (seconds, any monotonic clock).

        Sends a heartbeat (an empty frame) when the peer's idle-time-out asks for one, and
        closes the connection with ``amqp:resource-limit-exceeded`` when the peer has been
        silent longer than our idle timeout.

        Returns:
            When to call again at the latest, or None when no timer runs.
        """
        if self._phase is Phase.DONE:
            return None
        if self._last_rx is None or self._rx:
            self._last_rx = now
            self._rx = False
        if self._last_tx is None or self._tx:
            self._last_tx = now
            self._tx = False
        deadline: float | None = None
        if self.idle_timeout and self.remote_open is not None:
            expiry = self._last_rx + self.idle_timeout
            if now >= expiry:
                self._fail(
                    ProtocolError("local-idle-timeout expired", conditions.RESOURCE_LIMIT_EXCEEDED)
                )
                return None
            deadline = expiry
        if self.remote_idle_timeout and self.local is EndpointState.ACTIVE:
            interval = self.remote_idle_timeout / 2
            due = self._last_tx + interval
            if now >= due and self._header_sent:
                self._out += EMPTY_FRAME
                self._last_tx = now
                due = now + interval
            deadline = due if deadline is None else min(deadline, due)
        return deadline

    # -- application commands -------------------------------------------------------------

    def open(self) -> None:
        """Send our open."""
        if self.local is not EndpointState.UNINIT:
            raise UsageError("connection already opened")
        self.local = EndpointState.ACTIVE
        idle_ms = int(self.idle_timeout * 500) if self.idle_timeout else None
        self._write(
            0,
            Open(
                container_id=self.container_id,
                hostname=self.hostname,
                max_frame_size=self.max_frame_size,
                channel_max=self.channel_max,
                idle_time_out=idle_ms,
                offered_capabilities=self.offered_capabilities,
                desired_capabilities=self.desired_capabilities,
                properties=self.properties,
            ),
        )

    def close(self, error: Error | None = None) -> None:
        """Send our close (after queued dispositions and flows)."""
        if self.local is EndpointState.CLOSED:
            return
        if self.local is EndpointState.UNINIT:
            self.open()  # the spec wants an open before the close
        self._flush_sessions()
        self.local = EndpointState.CLOSED
        self.error = error
        self._write(0, Close(error=error))
        if self.remote is EndpointState.CLOSED:
            self._phase = Phase.DONE

    def abort(self) -> None:
        """Stop at once without another frame (an HA backup refusing a client does this)."""
        self._phase = Phase.DONE
        self._out.clear()
        self._held.clear()

    def begin(self, incoming_window: int | None = None, handle_max: int = 0xFFFFFFFF) -> Session:
        """Start a session and send its begin."""
        session = Session(self, incoming_window or self.incoming_window)
        session.begin(handle_max)
        return session

    @property
    def sessions(self) -> list[Session]:
        """Sessions that have not fully ended."""
        seen = dict.fromkeys([*self._local_channels.values(), *self._remote_channels.values()])
        return list(seen)

    # -- used by sessions -----------------------------------------------------------------

    def _begin_session(self, session: Session) -> None:
        if self.local is not EndpointState.ACTIVE:
            raise UsageError("open the connection before beginning a session")
        limit = min(self.channel_max, self.remote_channel_max)
        channel = 0
        while channel in self._local_channels:
            channel += 1
        if channel > limit:
            raise UsageError("no free channel on this connection")
        session.channel = channel
        self._local_channels[channel] = session

    def _session_ended_locally(self, session: Session) -> None:
        if session.remote is EndpointState.CLOSED:
            self._forget_session(session)

    def _forget_session(self, session: Session) -> None:
        if session.channel is not None and self._local_channels.get(session.channel) is session:
            del self._local_channels[session.channel]
        rc = session.remote_channel
        if rc is not None and self._remote_channels.get(rc) is session:
            del self._remote_channels[rc]

    def _queue_session(self, session: Session) -> None:
        self._dirty.append(session)

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _transfer_room(self, transfer: Transfer) -> int:
        """Payload bytes that fit in one frame after this transfer performative."""
        if transfer.state is None:
            head = _TRANSFER_HEAD_MAX
        else:
            tmp = bytearray()
            transfer.encode_amqp(tmp)
            head = len(tmp)
        return max(self.remote_max_frame_size - 8 - head, 1)

    def _write(
        self, channel: int | None, body: Any, payload: bytes | None = None, ftype: int = AMQP_FRAME
    ) -> None:
        out = self._out if self._header_sent or ftype == SASL_FRAME else self._held
        start = len(out)
        out += b"\x00\x00\x00\x00\x02"
        out.append(ftype)
        out += (channel or 0).to_bytes(2, "big")
        try:
            body.encode_amqp(out)
        except (ValueError, OverflowError, struct.error) as e:
            del out[start:]
            raise UsageError(f"cannot encode {type(body).__name__}: {e}") from None
        if payload:
            out += payload
        self._tx = True  # a frame other than a heartbeat: it resets the peer's idle timer
        size = len(out) - start
        if size > self.remote_max_frame_size and self.remote_open is not None:
            del out[start:]
            raise UsageError(
                f"a {size}-byte {type(body).__name__} frame exceeds the peer's "
                f"max-frame-size of {int(self.remote_max_frame_size)}"
            )
        _pack_size(out, start, size)
        if self._trace:
            frame_log.debug(
                "[%s] %d -> %s%s",
                self.container_id,
                channel or 0,
                describe(body),
                f" ({len(payload)} bytes)" if payload else "",
            )

    def _flush_sessions(self) -> None:
        if self._dirty:
            dirty, self._dirty = self._dirty, []
            for session in dirty:
                session._flush()

    def _send_amqp_header(self) -> None:
        self._out += AMQP_HEADER
        self._header_sent = True
        if self._held:
            self._out += self._held
            self._held.clear()

    # -- input ----------------------------------------------------------------------------

    def _process(self, src: Any) -> int:
        pos = 0
        n = len(src)
        limits = self.limits
        while pos < n:
            phase = self._phase
            if phase is Phase.AMQP:
                r = parse_frame(src, pos, self.max_frame_size, limits)
                if r is None:
                    return pos
                pos, ftype, channel, body, payload = r
                if body is None:
                    continue  # an empty frame: a heartbeat
                if ftype != AMQP_FRAME:
                    raise FramingError(f"frame type {ftype} after SASL")
                self._dispatch(channel, body, payload)
            elif phase is Phase.HEADER:
                if n - pos < 8:
                    tail = bytes(src[pos:n])
                    if not b"AMQP".startswith(tail[:4]):
                        raise FramingError(f"not an AMQP protocol header: {tail!r}")
                    return pos
                header = bytes(src[pos : pos + 8])
                pos += 8
                self._on_header(header)
            elif phase is Phase.SASL:
                r = parse_frame(src, pos, _SASL_MAX_FRAME, limits)
                if r is None:
                    return pos
                pos, ftype, channel, body, payload = r
                if body is None:
                    continue
                if ftype != SASL_FRAME:
                    raise FramingError(f"frame type {ftype} during SASL")
                self._on_sasl(body)
            else:
                return n
        return pos

    def _on_eof(self) -> None:
        self._phase = Phase.DONE
        if self.remote is not EndpointState.CLOSED:
            self.remote = EndpointState.CLOSED
            error = Error(
                condition=conditions.CONNECTION_FORCED, description="the transport was closed"
            )
            self.error = self.error or error
            self._emit(ConnectionClosed(error, True))

    def _fail(self, e: ProtocolError) -> None:
        """The peer broke the protocol: close with its condition and stop reading."""
        error = Error(condition=e.condition, description=e.description or None)
        if self._header_sent and self._sasl_done and self.local is not EndpointState.CLOSED:
            if self.local is EndpointState.UNINIT:
                self.local = EndpointState.ACTIVE
                self._write(0, Open(container_id=self.container_id))
            self._flush_sessions()
            self.local = EndpointState.CLOSED
            self._write(0, Close(error=error))
        self.error = error
        self._phase = Phase.DONE
        self._emit(ConnectionClosed(error, False))

    def _on_header(self, header: bytes) -> None:
        if not self.server:
            expected = AMQP_HEADER if self._sasl_done else SASL_HEADER
            if header != expected:
                raise FramingError(f"the server answered with protocol header {header!r}")
            self._phase = Phase.AMQP if self._sasl_done else Phase.SASL
            return
        if header == SASL_HEADER and not self._sasl_done and self.sasl is not None:
            assert isinstance(self.sasl, SaslServer)
            self._out += SASL_HEADER
            self._write(0, SaslMechanisms(sasl_server_mechanisms=self.sasl.offered), None, 1)
            self._phase = Phase.SASL
            return
        if header == AMQP_HEADER and (self._sasl_done or self.allow_bare_amqp):
            self._sasl_done = True
            self._send_amqp_header()
            self._phase = Phase.AMQP
            return
        # Part 2 section 2.2: answer with the header we do support, then close.
        self._out += SASL_HEADER if (self.sasl is not None and not self._sasl_done) else AMQP_HEADER
        raise FramingError(f"unsupported protocol header {header!r}")

    def _on_sasl(self, body: Any) -> None:
        if self.server:
            self._on_sasl_server(body)
        else:
            self._on_sasl_client(body)

    def _on_sasl_server(self, body: Any) -> None:
        sasl = self.sasl
        assert isinstance(sasl, SaslServer)
        if isinstance(body, SaslInit) and self._sasl_mech is None:
            mech = sasl.mechanisms.get(body.mechanism or "")
            if mech is None:
                self._sasl_finish(ServerStep.fail(), body.mechanism or "")
                return
            self._sasl_mech = mech
            self._sasl_step(mech.start(body.initial_response, body.hostname))
        elif isinstance(body, SaslResponse) and self._sasl_mech is not None:
            self._sasl_rounds += 1
            if self._sasl_rounds > sasl.max_rounds:
                self._sasl_finish(ServerStep.fail(), self._sasl_mech.name)
                return
            self._sasl_step(self._sasl_mech.respond(body.response or b""))
        else:
            raise FramingError(f"unexpected {type(body).__name__} in SASL negotiation")

    def _sasl_step(self, step: ServerStep) -> None:
        assert self._sasl_mech is not None
        if step.challenge is not None:
            self._write(0, SaslChallenge(challenge=step.challenge), None, SASL_FRAME)
        else:
            self._sasl_finish(step, self._sasl_mech.name)

    def _sasl_finish(self, step: ServerStep, mechanism: str) -> None:
        self._write(
            0, SaslOutcome(code=int(step.code), additional_data=step.additional_data), None, 1
        )
        if step.code == SaslCode.OK:
            self._sasl_done = True
            self.user = step.user
            self.mechanism = mechanism
            self._phase = Phase.HEADER
            self._emit(Authenticated(mechanism, step.user))
        else:
            self._phase = Phase.DONE
            self.error = Error(
                condition=conditions.UNAUTHORIZED_ACCESS, description="authentication failed"
            )
            self._emit(AuthenticationFailed(int(step.code), f"{mechanism} authentication failed"))

    def _on_sasl_client(self, body: Any) -> None:
        sasl = self.sasl
        assert isinstance(sasl, SaslClient)
        try:
            if isinstance(body, SaslMechanisms) and sasl.chosen is None:
                init = sasl.choose(body.sasl_server_mechanisms or ())
                self._write(0, init, None, SASL_FRAME)
            elif isinstance(body, SaslChallenge) and sasl.chosen is not None:
                response = sasl.chosen.challenge(body.challenge or b"")
                self._write(0, SaslResponse(response=response), None, SASL_FRAME)
            elif isinstance(body, SaslOutcome) and sasl.chosen is not None:
                if body.code != SaslCode.OK:
                    raise AuthenticationError(
                        f"the server refused {sasl.chosen.name} (sasl code {body.code})"
                    )
                sasl.chosen.outcome(body.additional_data)
                self._sasl_done = True
                self.mechanism = sasl.chosen.name
                self._phase = Phase.HEADER
                self._send_amqp_header()
                self._emit(Authenticated(sasl.chosen.name, None))
            else:
                raise FramingError(f"unexpected {type(body).__name__} in SASL negotiation")
        except AuthenticationError as e:
            self._phase = Phase.DONE
            self.error = Error(condition=e.condition, description=e.description)
            code = body.code if isinstance(body, SaslOutcome) else int(SaslCode.AUTH)
            self._emit(AuthenticationFailed(int(code or 0), e.description))

    # -- AMQP frames ----------------------------------------------------------------------

    def _dispatch(self, channel: int, body: Any, payload: bytes) -> None:
        if self._trace:
            frame_log.debug(
                "[%s] %d <- %s%s",
                self.container_id,
                channel,
                describe(body),
                f" ({len(payload)} bytes)" if payload else "",
            )
        cls = type(body)
        if cls not in CONNECTION_FRAMES[self.remote]:
            if self.remote is EndpointState.UNINIT:
                raise ProtocolError(f"{cls.__name__} before open", conditions.ILLEGAL_STATE)
            raise ProtocolError(f"unexpected {cls.__name__}", conditions.ILLEGAL_STATE)
        if cls is Open:
            self._on_open(body)
            return
        if cls is Close:
            self._on_close(body)
            return
        if cls is Begin:
            self._on_begin(channel, body)
            return
        session = self._remote_channels.get(channel)
        if session is None:
            raise ProtocolError(f"no session on channel {channel}", conditions.NOT_ALLOWED)
        if payload and cls is not Transfer:
            raise FramingError(f"{cls.__name__} frame with a payload")
        if session.local is EndpointState.CLOSED and cls is not End:
            return  # we ended it; frames in flight are dropped until the peer's end
        try:
            if cls is Transfer:
                session._on_transfer(body, payload)
            elif cls is Disposition:
                session._on_disposition(body)
            elif cls is Flow:
                session._on_flow(body)
            elif cls is Attach:
                session._on_attach(body)
            elif cls is Detach:
                session._on_detach(body)
            else:  # End
                self._on_end(session, body)
        except SessionFault as f:
            self._end_session(session, f.error)
        except LinkFault as f:
            link = f.link
            if link.local is EndpointState.ACTIVE:
                link.detach(error=f.error)
            self._emit_link_error(link, f.error)

    def _emit_link_error(self, link: Any, error: Error) -> None:
        self._emit(LinkDetached(link, error, True, False))

    def _end_session(self, session: Session, error: Error) -> None:
        if session.local is EndpointState.UNINIT:
            # The peer pipelined frames we never answered: an end needs our open and begin.
            if self.local is EndpointState.UNINIT:
                self.open()
            session.begin()
        session.end(error)
        self._emit(SessionEnded(session, error, False))

    def _on_open(self, body: Open) -> None:
        if body.max_frame_size < MIN_MAX_FRAME_SIZE:
            raise ProtocolError(
                f"max-frame-size {body.max_frame_size} is below 512",
                conditions.INVALID_FIELD,
            )
        self.remote_open = body
        self.remote = EndpointState.ACTIVE
        self.remote_max_frame_size = body.max_frame_size
        self.remote_channel_max = body.channel_max
        if body.idle_time_out:
            self.remote_idle_timeout = body.idle_time_out / 1000
        self._emit(ConnectionOpened(body))

    def _on_close(self, body: Close) -> None:
        self.remote = EndpointState.CLOSED
        if self.local is not EndpointState.CLOSED:
            if self.local is EndpointState.UNINIT:
                self.open()
            self._flush_sessions()
            self.local = EndpointState.CLOSED
            self._write(0, Close())
        self.error = body.error
        self._phase = Phase.DONE
        self._emit(ConnectionClosed(body.error, True))

    def _on_begin(self, channel: int, body: Begin) -> None:
        if channel > self.channel_max:
            raise FramingError(f"channel {channel} exceeds channel-max {self.channel_max}")
        if channel in self._remote_channels:
            raise ProtocolError(f"channel {channel} is already in use", conditions.NOT_ALLOWED)
        if body.remote_channel is None:
            session = Session(self, self.incoming_window)
        else:
            found = self._local_channels.get(body.remote_channel)
            if found is None or found.remote is not EndpointState.UNINIT:
                raise ProtocolError(
                    f"begin answers channel {body.remote_channel}, which we did not begin",
                    conditions.NOT_ALLOWED,
                )
            session = found
        session.remote_channel = channel
        self._remote_channels[channel] = session
        session._on_begin(body)
        self._emit(SessionBegun(session, body))

    def _on_end(self, session: Session, body: End) -> None:
        session._on_end()
        if session.local is not EndpointState.CLOSED:
            if session.local is EndpointState.UNINIT:
                session.begin()
            session.end()
        self._forget_session(session)
        self._emit(SessionEnded(session, body.error, True))
