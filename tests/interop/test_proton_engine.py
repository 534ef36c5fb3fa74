"""Level 2 interop: our sans-IO engine against proton's C engine, in memory, both ways round.

Each scenario runs with our engine as the client of a proton server transport
(``our-client``) and as the server of a proton client transport (``our-server``) unless it
only exists one way round. The proton side behaves like a typical proton application: it
answers the peer's opens and copies the peer's termini into its answer, as proton's own
``Handshaker`` does; unlike the Handshaker it also answers with the settle modes the peer
asked for, except in the tests about what happens when it does not. Links are attached by
the client side unless a test says otherwise.

This proton build has no Cyrus SASL: its server offers only ANONYMOUS (EXTERNAL needs TLS)
and cannot verify PLAIN, so PLAIN is tested only with our server and a proton client.

Time is explicit: heartbeat tests pass ``now`` values to both engines' ``tick``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from proton import (
    SASL,
    Condition,
    Data,
    Endpoint,
    Event,
    Message,
    Receiver,
    Sender,
    SymbolList,
    Terminus,
    symbol,
)
from proton import Delivery as ProtonDelivery
from proton import Link as ProtonLink
from proton import Session as ProtonSession

from qpid_ha.amqp import (
    Accepted,
    AnonymousServer,
    Authenticated,
    AuthenticationFailed,
    Begin,
    Close,
    Connection,
    ConnectionClosed,
    ConnectionOpened,
    CreditGranted,
    DeliveryAborted,
    DeliveryReceived,
    DeliveryUpdated,
    Disposition,
    DistributionMode,
    Error,
    ExpiryPolicy,
    Flow,
    Link,
    LinkAttached,
    LinkDetached,
    LinkDrained,
    Modified,
    Open,
    Outcome,
    PlainServer,
    ReceiverSettleMode,
    Rejected,
    Released,
    SaslClient,
    SaslServer,
    SenderSettleMode,
    Session,
    SessionBegun,
    SessionEnded,
    Source,
    Target,
    TerminusDurability,
    Transfer,
    conditions,
)
from qpid_ha.amqp.sasl import SaslInit
from qpid_ha.errors import UsageError

from .proton_pump import ProtonEvent, ProtonPeer, Pump

ROLES = pytest.mark.parametrize("our_server", [False, True], ids=["our-client", "our-server"])

BOTH_ACTIVE = Endpoint.LOCAL_ACTIVE | Endpoint.REMOTE_ACTIVE
MIB = 1 << 20
T0 = 1000.0  # proton's tick treats a deadline of 0 as "not set": start the fake clock later


# -- helpers ---------------------------------------------------------------------------------


def amqp_value(body: Any) -> bytes:
    """A message whose body is ``body``, encoded by proton."""
    return Message(body=body).encode()


def body_of(payload: bytes) -> Any:
    """The body of an encoded message, decoded by proton."""
    m = Message()
    m.decode(payload)
    return m.body


def put_symbols(data: Data, values: list[str]) -> None:
    """Write an array of symbols into a proton Data (terminus capabilities)."""
    data.put_array(False, Data.SYMBOL)
    data.enter()
    for v in values:
        data.put_symbol(v)
    data.exit()


def symbols_in(data: Data) -> list[str]:
    """The symbols of a proton Data holding a symbol or an array of them."""
    data.rewind()
    if data.next() is None:
        return []
    obj = data.get_object()
    data.rewind()
    return [str(s) for s in getattr(obj, "elements", [obj])]


def receiver(link: ProtonLink | None) -> Receiver:
    assert isinstance(link, Receiver), link
    return link


def sender(link: ProtonLink | None) -> Sender:
    assert isinstance(link, Sender), link
    return link


@dataclass
class ProtonApp:
    """A proton application: answers the peer's opens like proton's ``Handshaker``.

    Its events come from the pump as they are collected, so it answers before the bytes
    stop moving.

    Attributes:
        mirror_settle_modes: answer an attach with the settle modes the peer asked for
            (proton's Handshaker does not: it answers with proton's defaults, mixed/first).
        dynamic_address: the address given to a dynamic source or target the peer asks for.
        session_capacity: the incoming capacity of sessions (bytes; proton derives its
            session incoming-window from it), or None for proton's default.
    """

    mirror_settle_modes: bool = True
    dynamic_address: str | None = None
    session_capacity: int | None = None

    def __call__(self, ev: ProtonEvent) -> None:
        if ev.type == Event.CONNECTION_REMOTE_OPEN:
            assert ev.connection is not None
            if ev.connection.state & Endpoint.LOCAL_UNINIT:
                ev.connection.open()
        elif ev.type == Event.SESSION_REMOTE_OPEN:
            assert ev.session is not None
            if ev.session.state & Endpoint.LOCAL_UNINIT:
                if self.session_capacity is not None:
                    ev.session.incoming_capacity = self.session_capacity
                ev.session.open()
        elif ev.type == Event.LINK_REMOTE_OPEN:
            link = ev.link
            assert link is not None
            if link.state & Endpoint.LOCAL_UNINIT:
                link.source.copy(link.remote_source)
                link.target.copy(link.remote_target)
                if self.dynamic_address is not None:
                    if link.remote_source.dynamic:
                        link.source.address = self.dynamic_address
                    if link.remote_target.dynamic:
                        link.target.address = self.dynamic_address
                if self.mirror_settle_modes:
                    link.snd_settle_mode = link.remote_snd_settle_mode
                    link.rcv_settle_mode = link.remote_rcv_settle_mode
                link.open()


def connect(
    our_server: bool,
    *,
    ours_kw: dict[str, Any] | None = None,
    peer_kw: dict[str, Any] | None = None,
    app: ProtonApp | None = None,
) -> Pump:
    """Our engine and a proton engine, SASL ANONYMOUS done and both connections open."""
    if our_server:
        ours = Connection(
            server=True,
            container_id="ours",
            sasl=SaslServer([AnonymousServer()]),
            **(ours_kw or {}),
        )
        peer = ProtonPeer(server=False, **(peer_kw or {}))
        peer.connection.open()
    else:
        ours = Connection(container_id="ours", sasl=SaslClient.for_credentials(), **(ours_kw or {}))
        peer = ProtonPeer(server=True, **(peer_kw or {}))
        ours.open()
    pump = Pump(ours, peer, app or ProtonApp())
    pump.run()
    if our_server:
        pump.one(ConnectionOpened)
        ours.open()
        pump.run()
    assert pump.ours_of(ConnectionOpened), pump.events
    assert peer.connection.state == BOTH_ACTIVE
    return pump


@dataclass
class Linked:
    """An open connection with one session begun by the client side."""

    pump: Pump
    our_server: bool
    session: Session
    psession: ProtonSession

    @property
    def ours(self) -> Connection:
        return self.pump.ours

    @property
    def peer(self) -> ProtonPeer:
        return self.pump.peer

    def proton_link(self, name: str) -> ProtonLink:
        """The proton link our side attached under ``name``."""
        found = [e.link for e in self.peer.saw(Event.LINK_REMOTE_OPEN) if e.link is not None]
        named = [link for link in found if link.name == name]
        assert len(named) == 1, [link.name for link in found]
        return named[0]

    def our_link(self, name: str) -> Link:
        """The link of ours that answered proton's attach of ``name``."""
        named = [e.link for e in self.pump.ours_of(LinkAttached) if e.link.name == name]
        assert len(named) == 1, self.pump.events
        return named[0]

    def our_sender(
        self,
        name: str,
        *,
        ours_first: bool | None = None,
        source: Source | None = None,
        target: Target | None = None,
        snd_settle_mode: int | None = None,
        rcv_settle_mode: int | None = None,
    ) -> tuple[Link, Receiver]:
        """Attach our sender to a proton receiver (by the client side unless ``ours_first``).

        Settle modes are the ones the initiating side asks for.
        """
        link, plink = self._attach(
            True, name, ours_first, source, target, snd_settle_mode, rcv_settle_mode
        )
        return link, receiver(plink)

    def our_receiver(
        self,
        name: str,
        *,
        ours_first: bool | None = None,
        source: Source | None = None,
        target: Target | None = None,
        snd_settle_mode: int | None = None,
        rcv_settle_mode: int | None = None,
    ) -> tuple[Link, Sender]:
        """Attach our receiver to a proton sender (by the client side unless ``ours_first``)."""
        link, plink = self._attach(
            False, name, ours_first, source, target, snd_settle_mode, rcv_settle_mode
        )
        return link, sender(plink)

    def _attach(
        self,
        we_send: bool,
        name: str,
        ours_first: bool | None,
        source: Source | None,
        target: Target | None,
        snd_settle_mode: int | None,
        rcv_settle_mode: int | None,
    ) -> tuple[Link, Any]:
        if ours_first is None:
            ours_first = not self.our_server
        modes = {"snd_settle_mode": snd_settle_mode, "rcv_settle_mode": rcv_settle_mode}
        if ours_first:
            if we_send:
                link = self.session.attach_sender(
                    name, target=target or Target(address=name), source=source, **modes
                )
            else:
                link = self.session.attach_receiver(
                    name, source=source or Source(address=name), target=target, **modes
                )
            self.pump.run()
            plink: Any = self.proton_link(name)
        else:
            if we_send:
                plink = self.psession.receiver(name)
                plink.target.address = target.address if target else name
            else:
                plink = self.psession.sender(name)
                plink.source.address = source.address if source else name
            if snd_settle_mode is not None:
                plink.snd_settle_mode = snd_settle_mode
            if rcv_settle_mode is not None:
                plink.rcv_settle_mode = rcv_settle_mode
            plink.open()
            self.pump.run()
            link = self.our_link(name)
            link.attach(source=link.remote_source, target=link.remote_target)
            self.pump.run()
        assert link.attached
        assert plink.state == BOTH_ACTIVE
        return link, plink

    def proton_send(self, plink: Sender, payload: bytes, tag: str) -> ProtonDelivery:
        """Send one whole message from proton."""
        d = plink.delivery(tag)
        plink.send(payload)
        plink.advance()
        self.pump.run()
        return d

    def proton_receive(self, plink: Receiver) -> tuple[ProtonDelivery, bytes]:
        """Read the current delivery of a proton receiver, which must be complete."""
        d = plink.current
        assert d is not None and d.readable and not d.partial, d
        data = plink.recv(d.pending)
        assert data is not None
        plink.advance()
        return d, data


def linked(
    our_server: bool,
    *,
    ours_kw: dict[str, Any] | None = None,
    peer_kw: dict[str, Any] | None = None,
    app: ProtonApp | None = None,
) -> Linked:
    """Connect and begin a session from the client side."""
    app = app or ProtonApp()
    pump = connect(our_server, ours_kw=ours_kw, peer_kw=peer_kw, app=app)
    if our_server:
        psession = pump.peer.connection.session()
        if app.session_capacity is not None:
            psession.incoming_capacity = app.session_capacity
        psession.open()
        pump.run()
        session = pump.one(SessionBegun).session
        session.begin()
        pump.run()
    else:
        session = pump.ours.begin()
        pump.run()
        found = pump.peer.connection.session_head(Endpoint.REMOTE_ACTIVE)
        assert found is not None
        psession = found
    assert session.remote_begin is not None
    assert psession.state == BOTH_ACTIVE
    return Linked(pump, our_server, session, psession)


def ticks(start: float, stop: float, step: float) -> Iterator[float]:
    """Fake clock readings from ``start`` up to ``stop``, ``step`` apart (no float drift)."""
    n = 0
    while (now := start + n * step) <= stop + 1e-9:
        yield now
        n += 1


# -- SASL ------------------------------------------------------------------------------------


@ROLES
def test_sasl_anonymous_lets_the_client_in_and_the_connection_opens(our_server: bool) -> None:
    pump = connect(our_server)
    auth = pump.one(Authenticated)
    sasl = pump.peer.transport.sasl()

    assert auth.mechanism == "ANONYMOUS"
    assert pump.ours.authenticated
    assert pump.peer.transport.authenticated
    assert sasl.outcome == SASL.OK
    if our_server:
        assert auth.user == "anonymous" and pump.ours.user == "anonymous"
    else:
        assert sasl.user == "anonymous"
    # the SASL header came first each way, then the AMQP header
    assert pump.sent.headers == [b"AMQP\x03\x01\x00\x00", b"AMQP\x00\x01\x00\x00"]
    assert pump.received.headers == [b"AMQP\x03\x01\x00\x00", b"AMQP\x00\x01\x00\x00"]


def test_proton_client_authenticates_to_our_server_with_plain() -> None:
    ours = Connection(
        server=True,
        sasl=SaslServer([PlainServer.from_users({"alice": "secret"}), AnonymousServer()]),
    )
    peer = ProtonPeer(server=False, sasl_mechs="PLAIN", user="alice", password="secret")
    peer.connection.open()
    pump = Pump(ours, peer, ProtonApp())
    pump.run()

    assert pump.one(Authenticated) == Authenticated("PLAIN", "alice")
    assert ours.user == "alice" and ours.mechanism == "PLAIN"
    init = pump.received.frames[0].decode()
    assert isinstance(init, SaslInit)
    assert init.initial_response == b"\x00alice\x00secret"
    assert peer.transport.authenticated
    assert peer.transport.sasl().outcome == SASL.OK
    # proton pipelined its open behind sasl-init; it is processed once SASL succeeded
    pump.one(ConnectionOpened)
    ours.open()
    pump.run()
    assert peer.connection.state == BOTH_ACTIVE


def test_wrong_plain_password_fails_on_our_server_and_on_the_proton_client() -> None:
    ours = Connection(server=True, sasl=SaslServer([PlainServer.from_users({"alice": "secret"})]))
    peer = ProtonPeer(server=False, sasl_mechs="PLAIN", user="alice", password="wrong")
    peer.connection.open()
    pump = Pump(ours, peer, ProtonApp())
    pump.run()

    failed = pump.one(AuthenticationFailed)
    assert failed.code == 1  # sasl-code auth
    assert not ours.authenticated and ours.user is None
    assert ours.finished
    assert not pump.ours_of(ConnectionOpened)  # the pipelined open was never processed
    assert peer.transport.sasl().outcome == SASL.AUTH
    assert not peer.transport.authenticated
    cond = peer.transport.condition
    assert cond is not None and cond.name == conditions.UNAUTHORIZED_ACCESS
    assert peer.transport.closed


def test_our_server_refuses_a_proton_client_with_no_mechanism_in_common() -> None:
    ours = Connection(server=True, sasl=SaslServer([PlainServer.from_users({"a": "b"})]))
    peer = ProtonPeer(server=False, sasl_mechs="ANONYMOUS PLAIN")  # no password: no PLAIN
    peer.connection.open()
    pump = Pump(ours, peer, ProtonApp())
    pump.run()

    cond = peer.transport.condition
    assert cond is not None and cond.name == conditions.UNAUTHORIZED_ACCESS
    assert not peer.transport.authenticated
    assert not ours.authenticated
    closed = pump.one(ConnectionClosed)
    assert closed.by_peer and not pump.ours_of(ConnectionOpened)


def test_our_client_gives_up_when_the_proton_server_offers_no_mechanism_it_allows() -> None:
    ours = Connection(sasl=SaslClient.for_credentials("alice", "secret", allowed=["PLAIN"]))
    peer = ProtonPeer(server=True)  # offers ANONYMOUS only
    ours.open()
    pump = Pump(ours, peer, ProtonApp())
    pump.run()

    failed = pump.one(AuthenticationFailed)
    assert "ANONYMOUS" in failed.description
    assert ours.finished and not ours.authenticated
    # we said nothing after the SASL header: no sasl-init, no open
    assert pump.sent.headers == [b"AMQP\x03\x01\x00\x00"] and pump.sent.frames == []
    assert not peer.transport.authenticated
    assert peer.transport.closed
    assert peer.connection.state & Endpoint.REMOTE_UNINIT


# -- open ------------------------------------------------------------------------------------


@ROLES
def test_open_fields_cross_both_ways(our_server: bool) -> None:
    ours_kw: dict[str, Any] = {
        "offered_capabilities": ("ours-cap",),
        "desired_capabilities": ("ours-wants",),
        "properties": {"product": "qpid-ha"},
        "channel_max": 9,
    }
    if not our_server:
        ours_kw["hostname"] = "vhost.example"
    ours = (
        Connection(
            server=True, container_id="ours", sasl=SaslServer([AnonymousServer()]), **ours_kw
        )
        if our_server
        else Connection(container_id="ours", sasl=SaslClient.for_credentials(), **ours_kw)
    )
    peer = ProtonPeer(server=not our_server, container="proton-box")
    peer.connection.offered_capabilities = SymbolList(["proton-cap"])
    peer.connection.desired_capabilities = SymbolList(["proton-wants"])
    peer.connection.properties = {symbol("proton-prop"): "p"}
    pump = Pump(ours, peer, ProtonApp())
    if our_server:
        peer.connection.hostname = "vhost.example"
        peer.connection.open()
        pump.run()
        ours.open()
    else:
        ours.open()
    pump.run()
    pc = peer.connection
    assert pc.state == BOTH_ACTIVE

    assert pc.remote_container == "ours"
    assert list(pc.remote_offered_capabilities) == ["ours-cap"]
    assert list(pc.remote_desired_capabilities) == ["ours-wants"]
    assert dict(pc.remote_properties) == {"product": "qpid-ha"}
    assert peer.transport.remote_channel_max == 9
    assert peer.transport.remote_max_frame_size == ours.max_frame_size
    remote = ours.remote_open
    assert remote is not None
    assert remote.container_id == "proton-box"
    assert remote.offered_capabilities == ("proton-cap",)
    assert remote.desired_capabilities == ("proton-wants",)
    assert remote.properties == {"proton-prop": "p"}
    assert remote.max_frame_size == peer.transport.max_frame_size == ours.remote_max_frame_size
    if our_server:
        assert remote.hostname == "vhost.example"
    else:
        assert pc.remote_hostname == "vhost.example"


# -- heartbeats and idle timeouts ------------------------------------------------------------


@ROLES
def test_our_heartbeats_keep_protons_idle_timeout_from_expiring(our_server: bool) -> None:
    pump = connect(our_server, peer_kw={"idle_timeout": 2.0})
    proton_open = pump.received.of_type(Open)[0].decode()
    assert proton_open.idle_time_out == 1000  # proton advertises half of its 2 s
    assert pump.ours.remote_idle_timeout == 1.0

    for now in ticks(T0, T0 + 10, 0.25):
        pump.tick(now)
    assert pump.peer.connection.state == BOTH_ACTIVE
    assert pump.peer.transport.condition is None
    assert pump.sent.heartbeats >= 10  # at least one per advertised second

    # Control: once we stop ticking (and so stop heartbeating), proton does time out.
    for now in ticks(T0 + 10.25, T0 + 13, 0.25):
        pump.tick_proton(now)
    cond = pump.peer.transport.condition
    assert cond is not None and cond.name == conditions.RESOURCE_LIMIT_EXCEEDED
    closed = pump.one(ConnectionClosed)
    assert closed.by_peer
    assert closed.error is not None and closed.error.condition == conditions.RESOURCE_LIMIT_EXCEEDED


@ROLES
def test_ticked_only_at_its_own_deadlines_our_engine_keeps_proton_open(our_server: bool) -> None:
    pump = connect(our_server, peer_kw={"idle_timeout": 2.0})
    now = T0
    while now < T0 + 20:
        deadline = pump.ours.tick(now)
        pump.peer.transport.tick(now)
        pump.run()
        assert deadline is not None and deadline > now
        now = deadline
    assert pump.peer.connection.state == BOTH_ACTIVE
    assert pump.peer.transport.condition is None


@ROLES
def test_ticked_only_at_its_own_deadlines_our_engine_heartbeats_every_half_idle_time_out(
    our_server: bool,
) -> None:
    pump = connect(our_server, peer_kw={"idle_timeout": 2.0})  # advertises 1 s
    beats: list[float] = []
    now = T0
    while now < T0 + 10:
        before = pump.sent.heartbeats
        deadline = pump.tick_ours(now)
        if pump.sent.heartbeats > before:
            beats.append(now)
        assert deadline is not None
        now = deadline
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    assert gaps and max(gaps) <= 0.5


@ROLES
def test_a_silent_proton_peer_is_closed_by_us_after_our_idle_timeout(our_server: bool) -> None:
    pump = connect(our_server, ours_kw={"idle_timeout": 1.0})
    assert pump.peer.transport.remote_idle_timeout == 0.5  # we advertise half of ours

    assert pump.tick_ours(T0) == T0 + 1.0
    assert pump.tick_ours(T0 + 0.999) == T0 + 1.0
    assert not pump.ours.finished
    assert pump.tick_ours(T0 + 1.0) is None  # proton never ticked, so never heartbeated

    closed = pump.one(ConnectionClosed)
    assert not closed.by_peer
    assert closed.error is not None
    assert closed.error.condition == conditions.RESOURCE_LIMIT_EXCEEDED
    assert pump.ours.finished
    cond = pump.peer.connection.remote_condition
    assert cond is not None and cond.name == conditions.RESOURCE_LIMIT_EXCEEDED
    assert pump.peer.connection.state & Endpoint.REMOTE_CLOSED


@ROLES
def test_protons_heartbeats_keep_our_idle_timeout_from_expiring(our_server: bool) -> None:
    pump = connect(our_server, ours_kw={"idle_timeout": 1.0})
    for now in ticks(T0, T0 + 5, 0.1):
        pump.tick(now)
    assert not pump.ours.finished
    assert pump.received.heartbeats >= 10  # proton beats every 0.25 s of our advertised 0.5
    assert pump.peer.connection.state == BOTH_ACTIVE

    # Control: when proton stops ticking, we close it one idle timeout later.
    for now in ticks(T0 + 5.1, T0 + 6.2, 0.1):
        pump.tick_ours(now)
    assert pump.ours.finished
    closed = pump.one(ConnectionClosed)
    assert not closed.by_peer
    assert closed.error is not None
    assert closed.error.condition == conditions.RESOURCE_LIMIT_EXCEEDED


# -- attach ----------------------------------------------------------------------------------


@ROLES
def test_our_sender_attach_carries_terminus_fields_to_a_proton_receiver(our_server: bool) -> None:
    w = linked(our_server)
    snd, prcv = w.our_sender(
        "orders-in",
        ours_first=True,
        source=Source(address="ours-src"),
        target=Target(
            address="orders",
            durable=TerminusDurability.CONFIGURATION,
            expiry_policy=ExpiryPolicy.NEVER,
            capabilities=("queue", "shared"),
        ),
    )

    assert prcv.remote_target.address == "orders"
    assert prcv.remote_target.durability == Terminus.CONFIGURATION
    assert prcv.remote_target.expiry_policy == Terminus.EXPIRE_NEVER
    assert symbols_in(prcv.remote_target.capabilities) == ["queue", "shared"]
    assert prcv.remote_source.address == "ours-src"
    assert prcv.is_receiver and prcv.name == "orders-in"
    # proton's answer copies them back
    assert snd.remote_target.address == "orders"
    assert snd.remote_target.capabilities == ("queue", "shared")
    assert snd.remote_target.durable == TerminusDurability.CONFIGURATION
    assert snd.remote_source.address == "ours-src"


@ROLES
def test_our_receiver_attach_carries_terminus_fields_to_a_proton_sender(our_server: bool) -> None:
    w = linked(our_server)
    rcv, psnd = w.our_receiver(
        "events-out",
        ours_first=True,
        source=Source(
            address="events",
            distribution_mode=DistributionMode.COPY,
            expiry_policy=ExpiryPolicy.LINK_DETACH,
            timeout=30,
            capabilities=("topic",),
        ),
        target=Target(address="ours-tgt"),
    )

    src = psnd.remote_source
    assert src.address == "events"
    assert src.distribution_mode == Terminus.DIST_MODE_COPY
    assert src.expiry_policy == Terminus.EXPIRE_WITH_LINK
    assert src.timeout == 30
    assert symbols_in(src.capabilities) == ["topic"]
    assert psnd.remote_target.address == "ours-tgt"
    assert psnd.is_sender
    assert rcv.remote_source.address == "events"
    assert rcv.remote_source.distribution_mode == "copy"
    assert rcv.remote_source.capabilities == ("topic",)


@ROLES
def test_proton_attach_carries_terminus_fields_to_our_side(our_server: bool) -> None:
    w = linked(our_server)
    psnd = w.psession.sender("feed")
    psnd.source.address = "feed-src"
    psnd.source.durability = Terminus.DELIVERIES
    psnd.source.expiry_policy = Terminus.EXPIRE_NEVER
    put_symbols(psnd.source.capabilities, ["topic"])
    psnd.target.address = "feed-tgt"
    psnd.open()
    prcv = w.psession.receiver("sink")
    prcv.target.address = "sink-tgt"
    put_symbols(prcv.target.capabilities, ["queue"])
    prcv.open()
    w.pump.run()

    attached = {e.link.name: e for e in w.pump.ours_of(LinkAttached)}
    feed, sink = attached["feed"], attached["sink"]
    assert feed.link.is_receiver and sink.link.is_sender
    assert feed.attach.source == Source(
        address="feed-src",
        durable=TerminusDurability.UNSETTLED_STATE,
        expiry_policy=ExpiryPolicy.NEVER,
        capabilities=("topic",),
    )
    assert feed.attach.target == Target(address="feed-tgt")
    assert sink.attach.target == Target(address="sink-tgt", capabilities=("queue",))
    for ev in (feed, sink):
        ev.link.attach(source=ev.link.remote_source, target=ev.link.remote_target)
    w.pump.run()
    assert psnd.state == BOTH_ACTIVE and prcv.state == BOTH_ACTIVE
    assert psnd.remote_source.address == "feed-src"
    assert symbols_in(prcv.remote_target.capabilities) == ["queue"]


@ROLES
def test_proton_gives_the_dynamic_source_our_receiver_asked_for_an_address(
    our_server: bool,
) -> None:
    w = linked(our_server, app=ProtonApp(dynamic_address="proton.tmp.1"))
    rcv = w.session.attach_receiver(
        "reply", source=Source(dynamic=True, expiry_policy=ExpiryPolicy.LINK_DETACH)
    )
    w.pump.run()

    prcv = w.proton_link("reply")
    assert prcv.remote_source.dynamic and prcv.remote_source.address is None
    assert rcv.attached
    assert rcv.remote_source.dynamic
    assert rcv.remote_source.address == "proton.tmp.1"


@ROLES
def test_our_side_gives_the_dynamic_source_proton_asked_for_an_address(our_server: bool) -> None:
    w = linked(our_server)
    prcv = w.psession.receiver("reply")
    prcv.source.dynamic = True
    prcv.open()
    w.pump.run()

    link = w.our_link("reply")
    assert link.remote_source.dynamic and link.remote_source.address is None
    link.attach(source=Source(address="ours.tmp.1", dynamic=True), target=link.remote_target)
    w.pump.run()
    assert prcv.state == BOTH_ACTIVE
    assert prcv.remote_source.dynamic
    assert prcv.remote_source.address == "ours.tmp.1"


def test_our_client_pipelines_open_begin_and_attach_before_sasl_completes() -> None:
    ours = Connection(container_id="ours", sasl=SaslClient.for_credentials())
    ours.open()
    session = ours.begin()
    snd = session.attach_sender("early", target=Target(address="q"))
    peer = ProtonPeer(server=True)
    pump = Pump(ours, peer, ProtonApp())
    pump.run()

    assert [type(b).__name__ for b in pump.sent.bodies()][:4] == [
        "SaslInit",
        "Open",
        "Begin",
        "Attach",
    ]
    assert snd.attached and session.remote_begin is not None
    prcv = receiver(peer.saw(Event.LINK_REMOTE_OPEN)[0].link)
    assert prcv.state == BOTH_ACTIVE and prcv.remote_target.address == "q"


def test_proton_client_pipelines_open_begin_attach_and_flow_before_our_server_opens() -> None:
    ours = Connection(server=True, container_id="ours", sasl=SaslServer([AnonymousServer()]))
    peer = ProtonPeer(server=False)
    pc = peer.connection
    pc.open()
    ps = pc.session()
    ps.open()
    prcv = ps.receiver("in")
    prcv.source.address = "q1"
    prcv.open()
    prcv.flow(2)
    psnd = ps.sender("out")
    psnd.target.address = "q2"
    psnd.open()
    d = psnd.delivery("early")
    psnd.send(amqp_value("early bird"))
    psnd.advance()
    pump = Pump(ours, peer, ProtonApp())
    pump.run()

    # Everything arrived before we said a word beyond SASL.
    assert [type(b).__name__ for b in pump.received.bodies()] == [
        "SaslInit",
        "Open",
        "Begin",
        "Attach",
        "Attach",
        "Flow",
    ]
    assert [type(e).__name__ for e in pump.events] == [
        "Authenticated",
        "ConnectionOpened",
        "SessionBegun",
        "LinkAttached",
        "LinkAttached",
        "CreditGranted",
    ]
    assert not any(isinstance(b, Open) for b in pump.sent.bodies())
    ours.open()
    pump.one(SessionBegun).session.begin()
    for ev in pump.ours_of(LinkAttached):
        ev.link.attach(source=ev.link.remote_source, target=ev.link.remote_target)
    pump.run()
    assert pc.state == ps.state == prcv.state == psnd.state == BOTH_ACTIVE
    # the credit proton granted before we attached is ours to use
    out = pump.one(CreditGranted)
    assert out.link.name == "in" and out.credit == 2
    out.link.send(amqp_value("to proton"))
    recv = pump.ours_of(LinkAttached)[1].link
    recv.flow(1)
    pump.run()
    got = pump.one(DeliveryReceived)
    assert body_of(got.payload) == "early bird" and got.delivery.tag == b"early"
    got.delivery.accept()
    pump.run()
    assert d.remote_state == ProtonDelivery.ACCEPTED
    current = prcv.current
    assert current is not None and current.readable
    data = prcv.recv(current.pending)
    assert data is not None and body_of(data) == "to proton"


# -- credit and drain ------------------------------------------------------------------------


@ROLES
def test_proton_credit_reaches_our_sender_as_a_total(our_server: bool) -> None:
    w = linked(our_server)
    snd, prcv = w.our_sender("credit")
    prcv.flow(3)
    w.pump.run()
    prcv.flow(2)  # proton adds; the flow carries the new total
    w.pump.run()
    assert [e.credit for e in w.pump.ours_of(CreditGranted)] == [3, 5]
    assert snd.credit == 5
    for i in range(5):
        snd.send(amqp_value(i))
    w.pump.run()
    assert snd.credit == 0
    assert prcv.queued == 5
    assert [body_of(w.proton_receive(prcv)[1]) for _ in range(5)] == [0, 1, 2, 3, 4]


@ROLES
def test_proton_drain_with_nothing_to_send_is_answered_and_protons_credit_goes_to_zero(
    our_server: bool,
) -> None:
    w = linked(our_server)
    snd, prcv = w.our_sender("drain-idle")
    prcv.drain(5)
    w.pump.run()
    assert w.pump.one(CreditGranted) == CreditGranted(snd, 5, True)
    assert prcv.draining()

    snd.drained()
    w.pump.run()
    assert prcv.credit == 0
    assert not prcv.draining()
    assert prcv.drained() == 5
    assert snd.credit == 0 and snd.delivery_count == 5


@ROLES
def test_proton_drain_is_answered_after_what_our_sender_had(our_server: bool) -> None:
    w = linked(our_server)
    snd, prcv = w.our_sender("drain-some")
    prcv.drain(5)
    w.pump.run()
    snd.send(amqp_value("a"))
    snd.send(amqp_value("b"))
    snd.drained()
    w.pump.run()

    assert prcv.queued == 2
    assert not prcv.draining()
    assert prcv.drained() == 3
    assert [body_of(w.proton_receive(prcv)[1]) for _ in range(2)] == ["a", "b"]
    assert prcv.credit == 0


@ROLES
def test_our_drain_against_an_idle_proton_sender_yields_link_drained(our_server: bool) -> None:
    w = linked(our_server)
    rcv, psnd = w.our_receiver("drain-me")
    rcv.flow(5, drain=True)
    w.pump.run()
    assert psnd.credit == 5 and psnd.drain_mode
    assert not w.pump.ours_of(LinkDrained)

    assert psnd.drained() == 5
    w.pump.run()
    assert w.pump.one(LinkDrained).link is rcv
    assert rcv.credit == 0 and not rcv.drain
    assert rcv.delivery_count == 5


@ROLES
def test_our_drain_gets_protons_messages_then_link_drained(our_server: bool) -> None:
    w = linked(our_server)
    rcv, psnd = w.our_receiver("drain-busy")
    rcv.flow(5, drain=True)
    w.pump.run()
    w.proton_send(psnd, amqp_value(1), "t1")
    w.proton_send(psnd, amqp_value(2), "t2")
    assert not w.pump.ours_of(LinkDrained)
    assert psnd.drained() == 3
    w.pump.run()

    kinds = [type(e) for e in w.pump.events if isinstance(e, (DeliveryReceived, LinkDrained))]
    assert kinds == [DeliveryReceived, DeliveryReceived, LinkDrained]
    assert rcv.credit == 0 and not rcv.drain


# -- large messages and windows --------------------------------------------------------------


@ROLES
@pytest.mark.parametrize("proton_max_frame", [512, None], ids=["proton-512", "proton-default"])
def test_1mib_from_our_sender_fits_protons_max_frame_size_and_arrives_intact(
    our_server: bool, proton_max_frame: int | None
) -> None:
    w = linked(our_server, peer_kw={"max_frame_size": proton_max_frame})
    limit = w.peer.transport.max_frame_size
    assert w.ours.remote_max_frame_size == limit
    if proton_max_frame is None:
        assert limit == 32768
    snd, prcv = w.our_sender("big")
    prcv.flow(1)
    w.pump.run()
    payload = os.urandom(MIB)
    first = len(w.pump.sent.frames)
    snd.send(payload)
    w.pump.run()

    frames = w.pump.sent.frames[first:]
    assert max(f.size for f in frames) <= limit
    transfers = [f for f in frames if not f.empty and isinstance(f.decode(), Transfer)]
    assert len(transfers) >= MIB // limit
    assert all(f.decode().more for f in transfers[:-1]) and not transfers[-1].decode().more
    d, data = w.proton_receive(prcv)
    assert data == payload
    d.update(ProtonDelivery.ACCEPTED)
    d.settle()
    w.pump.run()
    assert w.pump.one(DeliveryUpdated).state == Accepted()


@ROLES
@pytest.mark.parametrize("our_max_frame", [512, 65536], ids=["ours-512", "ours-64k"])
def test_1mib_from_proton_is_reassembled_from_its_frames(
    our_server: bool, our_max_frame: int
) -> None:
    w = linked(our_server, ours_kw={"max_frame_size": our_max_frame})
    assert w.peer.transport.remote_max_frame_size == our_max_frame
    rcv, psnd = w.our_receiver("big")
    rcv.flow(1)
    w.pump.run()
    payload = os.urandom(MIB)
    first = len(w.pump.received.frames)
    w.proton_send(psnd, payload, "big-1")

    transfers = w.pump.received.of_type(Transfer)
    assert len(transfers) >= MIB // our_max_frame
    assert all(f.size <= our_max_frame for f in w.pump.received.frames[first:])
    got = w.pump.one(DeliveryReceived)
    assert got.payload == payload
    assert got.delivery.tag == b"big-1"


@ROLES
def test_our_sender_keeps_within_protons_session_window(our_server: bool) -> None:
    w = linked(our_server, app=ProtonApp(session_capacity=4 * 32768))
    begin = w.pump.received.of_type(Begin)[0].decode()
    assert begin.incoming_window == 4
    snd, prcv = w.our_sender("windowed")
    prcv.flow(1)
    w.pump.run()
    payload = os.urandom(MIB)
    first = len(w.pump.sent.of_type(Transfer))
    snd.send(payload)
    w.pump.run()
    assert len(w.pump.sent.of_type(Transfer)) - first == 4
    assert w.session.blocked_transfers > 0

    chunks: list[bytes] = []
    for _ in range(1000):
        d = prcv.current
        assert d is not None
        if not d.partial and d.pending == 0:
            break
        data = prcv.recv(MIB)
        assert data is not None
        chunks.append(data)
        w.pump.run()  # reading frees capacity; proton's flow opens the window again
    assert b"".join(chunks) == payload
    assert w.session.blocked_transfers == 0


@ROLES
def test_our_small_session_window_paces_a_long_transfer_from_proton(our_server: bool) -> None:
    w = linked(our_server, ours_kw={"incoming_window": 4, "max_frame_size": 512})
    rcv, psnd = w.our_receiver("paced")
    rcv.flow(1)
    w.pump.run()
    # 256 KiB in 512-byte frames: proton's pending() costs grow with the message size
    payload = os.urandom(MIB // 4)
    flows_before = len(w.pump.sent.of_type(Flow))
    w.proton_send(psnd, payload, "paced-1")

    # proton never overran the window (that would end the session with window-violation)
    assert not w.pump.ours_of(SessionEnded)
    assert w.pump.one(DeliveryReceived).payload == payload
    transfers = len(w.pump.received.of_type(Transfer))
    assert transfers > 500
    # ... because we reopened it every couple of frames
    assert len(w.pump.sent.of_type(Flow)) - flows_before >= transfers // 4


@ROLES
def test_a_message_over_our_max_message_size_detaches_protons_link(our_server: bool) -> None:
    w = linked(our_server)
    rcv = w.session.attach_receiver("small", source=Source(address="s"), max_message_size=1000)
    w.pump.run()
    psnd = sender(w.proton_link("small"))
    assert psnd.remote_max_message_size == 1000
    rcv.flow(1)
    w.pump.run()
    w.proton_send(psnd, os.urandom(5000), "too-big")

    assert not w.pump.ours_of(DeliveryReceived)
    detached = w.pump.one(LinkDetached)
    assert detached.link is rcv and not detached.by_peer
    assert detached.error is not None
    assert detached.error.condition == conditions.MESSAGE_SIZE_EXCEEDED
    cond = psnd.remote_condition
    assert cond is not None and cond.name == conditions.MESSAGE_SIZE_EXCEEDED


@ROLES
def test_our_sender_refuses_a_message_over_protons_max_message_size(our_server: bool) -> None:
    w = linked(our_server)
    prcv = w.psession.receiver("limited")
    prcv.target.address = "q"
    prcv.max_message_size = 1000
    prcv.open()
    w.pump.run()
    snd = w.our_link("limited")
    snd.attach(source=snd.remote_source, target=snd.remote_target)
    prcv.flow(1)
    w.pump.run()

    assert snd.remote_max_message_size == 1000
    with pytest.raises(UsageError, match="exceeds the link's limit"):
        snd.send(os.urandom(5000))
    snd.send(os.urandom(1000))  # at the limit is fine
    w.pump.run()
    assert len(w.proton_receive(prcv)[1]) == 1000


# -- outcomes --------------------------------------------------------------------------------


OUTCOMES: dict[str, Outcome] = {
    "accepted": Accepted(),
    "rejected": Rejected(
        error=Error(condition="amqp:precondition-failed", description="no", info={"why": "x"})
    ),
    "released": Released(),
    "modified": Modified(
        delivery_failed=True, undeliverable_here=True, message_annotations={"x-opt-n": 7}
    ),
}


def set_proton_outcome(d: ProtonDelivery, name: str) -> None:
    if name == "accepted":
        d.update(ProtonDelivery.ACCEPTED)
    elif name == "rejected":
        d.local.condition = Condition("amqp:precondition-failed", "no", {symbol("why"): "x"})
        d.update(ProtonDelivery.REJECTED)
    elif name == "released":
        d.update(ProtonDelivery.RELEASED)
    else:
        d.local.failed = True
        d.local.undeliverable = True
        d.local.annotations = {symbol("x-opt-n"): 7}
        d.update(ProtonDelivery.MODIFIED)


@ROLES
@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_proton_receivers_outcome_reaches_our_sender_exactly(
    our_server: bool, outcome: str
) -> None:
    w = linked(our_server)
    snd, prcv = w.our_sender("out")
    prcv.flow(1)
    w.pump.run()
    sent = snd.send(amqp_value(outcome))
    w.pump.run()
    d, data = w.proton_receive(prcv)
    assert body_of(data) == outcome
    set_proton_outcome(d, outcome)
    d.settle()
    w.pump.run()

    update = w.pump.one(DeliveryUpdated)
    assert update.delivery is sent
    assert update.state == OUTCOMES[outcome]
    assert update.settled
    assert sent.remote_state == OUTCOMES[outcome] and sent.remote_settled


@ROLES
@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_our_receivers_outcome_reaches_the_proton_sender_exactly(
    our_server: bool, outcome: str
) -> None:
    w = linked(our_server)
    rcv, psnd = w.our_receiver("in")
    rcv.flow(1)
    w.pump.run()
    d = w.proton_send(psnd, amqp_value(outcome), "t")
    got = w.pump.one(DeliveryReceived).delivery
    if outcome == "accepted":
        got.accept()
    elif outcome == "rejected":
        got.reject(Error(condition="amqp:precondition-failed", description="no", info={"why": "x"}))
    elif outcome == "released":
        got.release()
    else:
        got.modify(delivery_failed=True, undeliverable_here=True, annotations={"x-opt-n": 7})
    w.pump.run()

    assert d.updated and d.settled  # rcv-settle-mode first: settled with the outcome
    remote = d.remote
    if outcome == "accepted":
        assert d.remote_state == ProtonDelivery.ACCEPTED
    elif outcome == "rejected":
        assert d.remote_state == ProtonDelivery.REJECTED
        assert remote.condition == Condition("amqp:precondition-failed", "no", {"why": "x"})
    elif outcome == "released":
        assert d.remote_state == ProtonDelivery.RELEASED
    else:
        assert d.remote_state == ProtonDelivery.MODIFIED
        assert remote.failed and remote.undeliverable
        assert remote.annotations == {"x-opt-n": 7}


@ROLES
def test_our_receiver_settles_a_batch_in_one_ranged_disposition_proton_applies_to_each(
    our_server: bool,
) -> None:
    w = linked(our_server)
    rcv, psnd = w.our_receiver("batch")
    rcv.flow(5)
    w.pump.run()
    sent = [w.proton_send(psnd, amqp_value(i), f"t{i}") for i in range(5)]
    first = len(w.pump.sent.frames)
    for ev in w.pump.ours_of(DeliveryReceived):
        ev.delivery.accept()
    w.pump.run()

    dispositions = [f.decode() for f in w.pump.sent.frames[first:]]
    assert len(dispositions) == 1
    disp = dispositions[0]
    assert isinstance(disp, Disposition)
    assert disp.first is not None and disp.last is not None
    assert disp.last - disp.first == 4
    assert all(d.remote_state == ProtonDelivery.ACCEPTED and d.settled for d in sent)


# -- settlement modes ------------------------------------------------------------------------


@ROLES
def test_our_sender_in_settled_mode_sends_at_most_once(our_server: bool) -> None:
    w = linked(our_server)  # proton answers with the modes asked for
    snd, prcv = w.our_sender("amo", snd_settle_mode=SenderSettleMode.SETTLED)
    assert prcv.remote_snd_settle_mode == ProtonLink.SND_SETTLED
    assert snd.snd_settle_mode == SenderSettleMode.SETTLED
    prcv.flow(1)
    w.pump.run()
    sent = snd.send(amqp_value("once"))
    w.pump.run()

    assert sent.settled
    d, data = w.proton_receive(prcv)
    assert body_of(data) == "once"
    assert d.settled  # proton sees it settled by us
    d.update(ProtonDelivery.ACCEPTED)
    d.settle()
    w.pump.run()
    assert not w.pump.ours_of(DeliveryUpdated)
    assert not w.pump.received.of_type(Disposition)  # proton has nothing to tell us


@ROLES
def test_our_sender_stays_in_settled_mode_when_proton_answers_with_its_default(
    our_server: bool,
) -> None:
    w = linked(our_server, app=ProtonApp(mirror_settle_modes=False))
    snd, prcv = w.our_sender("amo", ours_first=True, snd_settle_mode=SenderSettleMode.SETTLED)
    assert prcv.snd_settle_mode == ProtonLink.SND_MIXED  # proton's answer, a mere wish
    prcv.flow(1)
    w.pump.run()
    sent = snd.send(amqp_value("once"))
    w.pump.run()
    d, _ = w.proton_receive(prcv)
    assert sent.settled and d.settled
    assert snd.snd_settle_mode == SenderSettleMode.SETTLED


@ROLES
def test_proton_presettled_transfers_arrive_settled_and_need_no_disposition(
    our_server: bool,
) -> None:
    w = linked(our_server)
    rcv, psnd = w.our_receiver("amo-in", snd_settle_mode=SenderSettleMode.SETTLED)
    assert psnd.snd_settle_mode == ProtonLink.SND_SETTLED
    assert rcv.snd_settle_mode == SenderSettleMode.SETTLED
    rcv.flow(1)
    w.pump.run()
    d = psnd.delivery("pre")
    psnd.send(os.urandom(100_000))  # several frames: settled arrives with the last
    d.settle()
    psnd.advance()
    w.pump.run()

    got = w.pump.one(DeliveryReceived).delivery
    assert got.remote_settled
    first = len(w.pump.sent.frames)
    got.accept()
    w.pump.run()
    assert w.pump.sent.frames[first:] == []


@ROLES
def test_our_receiver_in_rcv_settle_mode_second_settles_after_proton(our_server: bool) -> None:
    w = linked(our_server)
    rcv, psnd = w.our_receiver("eo", rcv_settle_mode=ReceiverSettleMode.SECOND)
    assert rcv.rcv_settle_mode == ReceiverSettleMode.SECOND
    assert psnd.remote_rcv_settle_mode == ProtonLink.RCV_SECOND
    rcv.flow(1)
    w.pump.run()
    d = w.proton_send(psnd, amqp_value("exactly once"), "t")
    got = w.pump.one(DeliveryReceived).delivery
    got.accept()
    w.pump.run()

    assert d.remote_state == ProtonDelivery.ACCEPTED
    assert not d.settled  # we did not settle first
    assert not got.settled
    d.settle()
    w.pump.run()
    update = w.pump.one(DeliveryUpdated)
    assert update.delivery is got and update.settled
    got.settle()  # now we may
    w.pump.run()
    assert got.settled


@ROLES
def test_our_receiver_stays_in_rcv_settle_mode_second_when_proton_answers_with_its_default(
    our_server: bool,
) -> None:
    w = linked(our_server, app=ProtonApp(mirror_settle_modes=False))
    rcv, psnd = w.our_receiver("eo", ours_first=True, rcv_settle_mode=ReceiverSettleMode.SECOND)
    assert psnd.rcv_settle_mode == ProtonLink.RCV_FIRST  # proton's answer, a mere wish
    rcv.flow(1)
    w.pump.run()
    d = w.proton_send(psnd, amqp_value("exactly once"), "t")
    got = w.pump.one(DeliveryReceived).delivery
    got.accept()
    w.pump.run()
    assert not got.settled and not d.settled
    assert rcv.rcv_settle_mode == ReceiverSettleMode.SECOND


@ROLES
def test_proton_receiver_in_rcv_settle_mode_second_waits_for_our_settlement(
    our_server: bool,
) -> None:
    w = linked(our_server)
    snd, prcv = w.our_sender("eo-out", rcv_settle_mode=ReceiverSettleMode.SECOND)
    assert prcv.rcv_settle_mode == ProtonLink.RCV_SECOND
    prcv.flow(1)
    w.pump.run()
    sent = snd.send(amqp_value("x"))
    w.pump.run()
    d, _ = w.proton_receive(prcv)
    d.update(ProtonDelivery.ACCEPTED)  # proton in mode second: outcome without settling
    w.pump.run()

    update = w.pump.one(DeliveryUpdated)
    assert update.state == Accepted() and not update.settled
    assert not sent.remote_settled
    sent.settle()
    w.pump.run()
    assert d.settled  # proton sees our settlement


# -- aborted transfers -----------------------------------------------------------------------


@ROLES
def test_a_delivery_proton_aborts_midway_is_reported_aborted(our_server: bool) -> None:
    w = linked(our_server)
    rcv, psnd = w.our_receiver("abort-in")
    rcv.flow(2)
    w.pump.run()
    d = psnd.delivery("partial")
    psnd.send(os.urandom(100_000))  # not advanced: more to come
    w.pump.run()
    assert not w.pump.ours_of(DeliveryReceived)
    d.abort()
    w.pump.run()

    aborted = w.pump.one(DeliveryAborted)
    assert aborted.link is rcv and aborted.delivery.aborted
    assert not w.pump.ours_of(DeliveryReceived)
    w.proton_send(psnd, amqp_value("next"), "next")
    assert body_of(w.pump.one(DeliveryReceived).payload) == "next"


@ROLES
def test_a_delivery_we_abort_midway_is_aborted_at_proton(our_server: bool) -> None:
    w = linked(our_server)
    snd, prcv = w.our_sender("abort-out")
    prcv.flow(2)
    w.pump.run()
    sent = snd.send(b"\x00Sw\xa1\x05part1", more=True)
    w.pump.run()
    d = prcv.current
    assert d is not None and d.partial and not d.aborted
    sent.abort()
    w.pump.run()
    assert d.aborted
    assert d.settled


# -- close, end, detach with errors ----------------------------------------------------------


@ROLES
def test_our_close_error_reaches_proton(our_server: bool) -> None:
    pump = connect(our_server)
    pump.ours.close(
        Error(condition=conditions.INTERNAL_ERROR, description="ours broke", info={"k": "v"})
    )
    pump.run()

    pc = pump.peer.connection
    assert pc.remote_condition == Condition(conditions.INTERNAL_ERROR, "ours broke", {"k": "v"})
    assert pc.state & Endpoint.REMOTE_CLOSED
    assert not pump.ours.finished  # waiting for proton's close
    pc.close()
    pump.run()
    assert pump.one(ConnectionClosed) == ConnectionClosed(None, True)
    assert pump.ours.finished
    assert pump.peer.transport.closed and pump.peer.transport.condition is None


@ROLES
def test_protons_close_error_reaches_us(our_server: bool) -> None:
    pump = connect(our_server)
    pc = pump.peer.connection
    pc.condition = Condition(conditions.CONNECTION_FORCED, "proton bye", {symbol("a"): 1})
    pc.close()
    pump.run()

    closed = pump.one(ConnectionClosed)
    assert closed.by_peer
    assert closed.error == Error(
        condition=conditions.CONNECTION_FORCED, description="proton bye", info={"a": 1}
    )
    assert pump.ours.finished
    assert pc.state == Endpoint.LOCAL_CLOSED | Endpoint.REMOTE_CLOSED  # we answered
    assert any(isinstance(b, Close) for b in pump.sent.bodies())
    assert pump.peer.transport.closed and pump.peer.transport.condition is None


@ROLES
def test_our_session_end_error_reaches_proton(our_server: bool) -> None:
    w = linked(our_server)
    w.session.end(Error(condition=conditions.ERRANT_LINK, description="ours ends"))
    w.pump.run()

    assert w.psession.remote_condition == Condition(conditions.ERRANT_LINK, "ours ends")
    assert w.psession.state & Endpoint.REMOTE_CLOSED
    w.psession.close()
    w.pump.run()
    assert w.pump.one(SessionEnded) == SessionEnded(w.session, None, True)
    assert w.peer.connection.state == BOTH_ACTIVE  # only the session ended


@ROLES
def test_protons_session_end_error_reaches_us(our_server: bool) -> None:
    w = linked(our_server)
    w.psession.condition = Condition(conditions.RESOURCE_DELETED, "proton ends")
    w.psession.close()
    w.pump.run()

    ended = w.pump.one(SessionEnded)
    assert ended.session is w.session and ended.by_peer
    assert ended.error == Error(condition=conditions.RESOURCE_DELETED, description="proton ends")
    assert w.psession.state == Endpoint.LOCAL_CLOSED | Endpoint.REMOTE_CLOSED  # we answered
    assert w.peer.connection.state == BOTH_ACTIVE


@ROLES
def test_our_link_detach_error_reaches_proton(our_server: bool) -> None:
    w = linked(our_server)
    snd, prcv = w.our_sender("doomed")
    snd.detach(Error(condition=conditions.NOT_FOUND, description="gone"))
    w.pump.run()

    assert prcv.remote_condition == Condition(conditions.NOT_FOUND, "gone")
    assert prcv.state & Endpoint.REMOTE_CLOSED
    assert w.peer.saw(Event.LINK_REMOTE_CLOSE)
    prcv.close()
    w.pump.run()
    assert w.pump.one(LinkDetached) == LinkDetached(snd, None, True, True)
    assert w.session.links == {}


@ROLES
def test_protons_link_close_error_reaches_us(our_server: bool) -> None:
    w = linked(our_server)
    rcv, psnd = w.our_receiver("stolen")
    psnd.condition = Condition(conditions.STOLEN, "proton detaches")
    psnd.close()
    w.pump.run()

    detached = w.pump.one(LinkDetached)
    assert detached.link is rcv and detached.by_peer and detached.closed
    assert detached.error == Error(condition=conditions.STOLEN, description="proton detaches")
    assert psnd.state == Endpoint.LOCAL_CLOSED | Endpoint.REMOTE_CLOSED  # we answered
    assert w.psession.state == BOTH_ACTIVE


@ROLES
def test_protons_detach_without_close_reaches_us_as_not_closed(our_server: bool) -> None:
    w = linked(our_server)
    snd, prcv = w.our_sender("suspended")
    prcv.detach()
    w.pump.run()

    detached = w.pump.one(LinkDetached)
    assert detached.link is snd and not detached.closed and detached.error is None
    assert w.peer.saw(Event.LINK_REMOTE_DETACH)  # our answer was a detach, not a close
    assert not w.peer.saw(Event.LINK_REMOTE_CLOSE)
