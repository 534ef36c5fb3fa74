"""Two of our engines pumped in memory through every phase of a connection."""

from __future__ import annotations

import logging
import struct

import pytest

from qpid_ha.amqp import (
    Accepted,
    AnonymousServer,
    Authenticated,
    AuthenticationFailed,
    Connection,
    ConnectionClosed,
    ConnectionOpened,
    CreditGranted,
    DeliveryAborted,
    DeliveryReceived,
    DeliveryUpdated,
    Error,
    LinkAttached,
    LinkDetached,
    LinkDrained,
    Modified,
    PlainServer,
    ReceiverSettleMode,
    Rejected,
    Released,
    SaslClient,
    SaslServer,
    SenderSettleMode,
    SessionBegun,
    SessionEnded,
    Source,
    Target,
    conditions,
)
from qpid_ha.amqp.framing import AMQP_HEADER, EMPTY_FRAME, SASL_HEADER
from qpid_ha.amqp.performatives import Attach, Begin, Disposition, Flow, Open, Transfer
from qpid_ha.errors import UsageError

from .pair import Pair


def frame(channel: int, body: object, payload: bytes = b"") -> bytes:
    """One AMQP frame around ``body`` (a composite), for hand-made peer input."""
    out = bytearray()
    body.encode_amqp(out)  # type: ignore[attr-defined]
    out += payload
    return struct.pack(">IBBH", 8 + len(out), 2, 0, channel) + bytes(out)


def sasl_pair(
    username: str | None = None, password: str | None = None, allow_bare: bool = True
) -> Pair:
    users = {"bob": "secret"}
    server = Connection(
        server=True,
        container_id="server",
        sasl=SaslServer([PlainServer.from_users(users), AnonymousServer()]),
        allow_bare_amqp=allow_bare,
    )
    client = Connection(container_id="client", sasl=SaslClient.for_credentials(username, password))
    return Pair(client, server)


# -- protocol header and SASL ---------------------------------------------------------------


def test_client_sends_the_amqp_header_first_without_sasl() -> None:
    client = Connection(container_id="c")
    assert client.data_to_send() == AMQP_HEADER


def test_client_with_sasl_holds_frames_until_the_outcome() -> None:
    client = Connection(container_id="c", sasl=SaslClient.for_credentials())
    client.open()
    client.begin()
    assert client.data_to_send() == SASL_HEADER


def test_sasl_plain_with_the_right_password_authenticates_the_user() -> None:
    p = sasl_pair("bob", "secret")
    p.open()
    auth = p.one("server", Authenticated)
    assert (auth.mechanism, auth.user) == ("PLAIN", "bob")
    assert p.server.user == "bob"
    assert p.one("client", Authenticated).mechanism == "PLAIN"


def test_sasl_plain_with_a_wrong_password_fails_on_both_sides() -> None:
    p = sasl_pair("bob", "wrong")
    p.client.open()
    p.pump()
    assert p.one("server", AuthenticationFailed).code == 1
    assert p.one("client", AuthenticationFailed).code == 1
    assert p.client.finished and p.server.finished
    assert not p.take("server", ConnectionOpened)


def test_sasl_anonymous_when_no_credentials() -> None:
    p = sasl_pair()
    p.open()
    assert p.one("server", Authenticated).mechanism == "ANONYMOUS"


def test_no_common_mechanism_fails_the_client() -> None:
    server = Connection(server=True, sasl=SaslServer([PlainServer.from_users({"a": "b"})]))
    client = Connection(sasl=SaslClient.for_credentials())
    p = Pair(client, server)
    p.pump()
    failed = p.one("client", AuthenticationFailed)
    assert "no SASL mechanism in common" in failed.description
    assert client.finished


def test_server_accepts_the_bare_amqp_header_when_allowed() -> None:
    server = Connection(server=True, sasl=SaslServer([AnonymousServer()]))
    p = Pair(Connection(), server)
    p.open()
    assert server.user is None


def test_server_requiring_sasl_refuses_the_bare_amqp_header() -> None:
    p = sasl_pair(allow_bare=False)
    p.client = Connection()
    p.pump()
    closed = p.one("server", ConnectionClosed)
    assert closed.error is not None and closed.error.condition == conditions.FRAMING_ERROR
    # Part 2 section 2.2: the server answers with the header it does support.
    assert p.frames_to_client[0].startswith(SASL_HEADER)


def test_tls_header_is_answered_with_a_supported_header_and_closed() -> None:
    server = Connection(server=True)
    server.receive_data(b"AMQP\x02\x01\x00\x00")
    assert server.finished
    assert server.data_to_send() == AMQP_HEADER


def test_garbage_instead_of_a_header_is_refused_at_once() -> None:
    server = Connection(server=True)
    server.receive_data(b"GET / HTTP/1.1\r\n")
    assert server.finished
    closed = server.next_event()
    assert isinstance(closed, ConnectionClosed) and not closed.by_peer


# -- open / close ---------------------------------------------------------------------------


def test_open_negotiates_frame_size_channels_and_capabilities() -> None:
    client = Connection(
        container_id="client",
        hostname="vhost",
        max_frame_size=4096,
        channel_max=7,
        desired_capabilities=("ANONYMOUS-RELAY",),
        properties={"product": "test"},
    )
    server = Connection(
        server=True, container_id="server", offered_capabilities=("ANONYMOUS-RELAY",)
    )
    p = Pair(client, server)
    p.open()
    assert server.remote_open is not None and client.remote_open is not None
    assert server.remote_open.container_id == "client"
    assert server.remote_open.hostname == "vhost"
    assert server.remote_max_frame_size == 4096
    assert server.remote_channel_max == 7
    assert server.remote_open.desired_capabilities == ("ANONYMOUS-RELAY",)
    assert server.remote_open.properties == {"product": "test"}
    assert client.remote_open.offered_capabilities == ("ANONYMOUS-RELAY",)


def test_pipelined_open_begin_attach_arrive_before_the_server_opens() -> None:
    p = Pair()
    p.client.open()
    cs = p.client.begin()
    cs.attach_sender("pipelined", target=Target(address="q"))
    p.pump()
    kinds = [type(e).__name__ for e in p.server_events]
    assert kinds == ["ConnectionOpened", "SessionBegun", "LinkAttached"]
    p.server.open()
    ss = p.one("server", SessionBegun).session
    ss.begin()
    sl = p.one("server", LinkAttached).link
    sl.attach(source=sl.remote_source, target=sl.remote_target)
    sl.flow(5)
    p.pump()
    assert p.one("client", CreditGranted).credit == 5


def test_close_with_an_error_reaches_the_peer_and_is_answered() -> None:
    p = Pair()
    p.open()
    p.server.close(Error(condition="amqp:connection:forced", description="going away"))
    p.pump()
    closed = p.one("client", ConnectionClosed)
    assert closed.by_peer
    assert closed.error == Error(condition="amqp:connection:forced", description="going away")
    assert p.one("server", ConnectionClosed).by_peer
    assert p.client.finished and p.server.finished


def test_frame_before_open_is_an_illegal_state() -> None:
    server = Connection(server=True)
    server.receive_data(
        AMQP_HEADER + frame(0, Begin(next_outgoing_id=0, incoming_window=1, outgoing_window=1))
    )
    closed = server.next_event()
    assert isinstance(closed, ConnectionClosed)
    assert closed.error is not None and closed.error.condition == conditions.ILLEGAL_STATE


def test_frame_larger_than_our_max_frame_size_is_a_framing_error() -> None:
    server = Connection(server=True, max_frame_size=1024)
    big = frame(0, Open(container_id="x", properties={"pad": "x" * 2000}))
    server.receive_data(AMQP_HEADER + big)
    closed = server.next_event()
    assert isinstance(closed, ConnectionClosed)
    assert closed.error is not None and closed.error.condition == conditions.FRAMING_ERROR
    # The server still says who it is before closing (an open then a close with the error).
    assert b"framing-error" in server.data_to_send()


def test_begin_beyond_channel_max_is_a_framing_error() -> None:
    server = Connection(server=True, channel_max=3)
    server.receive_data(
        AMQP_HEADER
        + frame(0, Open(container_id="x"))
        + frame(9, Begin(next_outgoing_id=0, incoming_window=10, outgoing_window=10))
    )
    events = list(server.events())
    assert isinstance(events[-1], ConnectionClosed)
    assert events[-1].error is not None
    assert events[-1].error.condition == conditions.FRAMING_ERROR


def test_empty_frames_are_heartbeats_between_transfer_frames() -> None:
    p = Pair()
    cs, _ss = p.established()
    cl, _sl = p.link(cs, credit=1)
    cl.send(b"a" * 10)
    data = p.client.data_to_send()
    p.server.receive_data(EMPTY_FRAME + data[:5])
    p.server.receive_data(data[5:] + EMPTY_FRAME)
    got = [e for e in p.server.events() if isinstance(e, DeliveryReceived)]
    assert [g.payload for g in got] == [b"a" * 10]


# -- idle timeout ---------------------------------------------------------------------------


def test_idle_timeout_is_advertised_as_half_and_heartbeats_keep_the_peer_alive() -> None:
    client = Connection(container_id="c", idle_timeout=4.0)
    server = Connection(server=True, idle_timeout=10.0)
    p = Pair(client, server)
    p.open()
    assert server.remote_open is not None and server.remote_open.idle_time_out == 2000
    assert server.remote_idle_timeout == 2.0
    server.tick(0.0)
    client.tick(0.0)
    # The server must send something at least every 1 s (half the client's 2 s).
    deadline = server.tick(0.5)
    assert deadline is not None and deadline <= 1.0
    server.tick(1.0)
    assert server.data_to_send() == EMPTY_FRAME


def test_a_silent_peer_is_closed_with_resource_limit_exceeded() -> None:
    client = Connection(container_id="c")
    server = Connection(server=True, idle_timeout=2.0)
    p = Pair(client, server)
    p.open()
    assert server.tick(100.0) == 102.0
    assert server.tick(101.9) == 102.0
    assert server.tick(102.0) is None
    closed = server.next_event()
    assert isinstance(closed, ConnectionClosed)
    assert closed.error is not None
    assert closed.error.condition == conditions.RESOURCE_LIMIT_EXCEEDED
    assert closed.error.description == "local-idle-timeout expired"
    p.pump()
    remote = p.one("client", ConnectionClosed)
    assert remote.error is not None
    assert remote.error.condition == conditions.RESOURCE_LIMIT_EXCEEDED


def test_received_frames_reset_the_idle_timer() -> None:
    server = Connection(server=True, idle_timeout=2.0)
    p = Pair(Connection(), server)
    p.open()
    server.tick(0.0)
    server.receive_data(EMPTY_FRAME)
    assert server.tick(1.5) == 3.5
    assert not server.finished


# -- sessions -------------------------------------------------------------------------------


def test_sessions_use_separate_channels_and_end_cleanly() -> None:
    p = Pair()
    p.open()
    a, _ = p.session()
    b, _ = p.session()
    assert {a.channel, b.channel} == {0, 1}
    a.end()
    p.pump()
    ended = p.one("server", SessionEnded)
    assert ended.by_peer and ended.error is None
    assert p.one("client", SessionEnded).by_peer
    assert len(p.client.sessions) == 1


def test_a_small_incoming_window_holds_frames_until_the_receiver_reopens_it() -> None:
    p = Pair()
    p.open()
    cs = p.client.begin()
    p.pump()
    ss = p.one("server", SessionBegun).session
    ss.incoming_window = ss._window_size = 2
    ss.begin()
    p.pump()
    cl, _sl = p.link(cs, credit=10)
    for i in range(6):
        cl.send(b"m%d" % i)
    # Only two frames fit the server's window; the rest wait in the client session.
    assert cs.blocked_transfers == 4
    p.pump()
    received = [e.payload for e in p.take("server", DeliveryReceived)]
    assert received == [b"m%d" % i for i in range(6)]
    assert cs.blocked_transfers == 0


def test_transfer_beyond_the_window_ends_the_session_with_window_violation() -> None:
    p = Pair()
    p.open()
    cs = p.client.begin()
    p.pump()
    ss = p.one("server", SessionBegun).session
    ss.incoming_window = ss._window_size = 1
    ss.begin()
    p.pump()
    _cl, _sl = p.link(cs, credit=5)
    # A peer that ignores our window: hand-made transfers beyond it.
    ch = cs.channel or 0
    t = frame(ch, Transfer(handle=0, delivery_id=0, delivery_tag=b"a", settled=True), b"x")
    t2 = frame(ch, Transfer(handle=0, delivery_id=1, delivery_tag=b"b", settled=True), b"x")
    ss.incoming_window = 0  # the window is used up
    p.server.receive_data(t + t2)
    ended = p.take("server", SessionEnded) + [
        e for e in p.server.events() if isinstance(e, SessionEnded)
    ]
    assert ended and ended[0].error is not None
    assert ended[0].error.condition == conditions.WINDOW_VIOLATION


def test_attach_on_a_handle_in_use_ends_the_session() -> None:
    p = Pair()
    cs, _ss = p.established()
    p.link(cs, "one")
    ch = cs.channel or 0
    p.server.receive_data(frame(ch, Attach(name="two", handle=0, role=False)))
    ended = [e for e in p.server.events() if isinstance(e, SessionEnded)]
    assert ended[0].error is not None
    assert ended[0].error.condition == conditions.HANDLE_IN_USE


def test_attach_beyond_handle_max_is_a_connection_framing_error() -> None:
    p = Pair()
    p.open()
    cs = p.client.begin()
    p.pump()
    ss = p.one("server", SessionBegun).session
    ss.begin(handle_max=3)
    p.pump()
    p.server.receive_data(frame(cs.channel or 0, Attach(name="x", handle=4, role=False)))
    closed = [e for e in p.server.events() if isinstance(e, ConnectionClosed)]
    assert closed[0].error is not None
    assert closed[0].error.condition == conditions.FRAMING_ERROR


def test_flow_on_an_unattached_handle_ends_the_session() -> None:
    p = Pair()
    cs, _ss = p.established()
    p.server.receive_data(
        frame(
            cs.channel or 0,
            Flow(incoming_window=1, next_outgoing_id=0, outgoing_window=1, handle=7, link_credit=1),
        )
    )
    ended = [e for e in p.server.events() if isinstance(e, SessionEnded)]
    assert ended[0].error is not None
    assert ended[0].error.condition == conditions.UNATTACHED_HANDLE


# -- links, credit, drain -------------------------------------------------------------------


def test_attach_carries_terminus_and_settle_modes_both_ways() -> None:
    p = Pair()
    cs, _ = p.established()
    cs.attach_receiver(
        "r",
        source=Source(address="q", distribution_mode="copy", capabilities=("queue",)),
        snd_settle_mode=SenderSettleMode.SETTLED,
        rcv_settle_mode=ReceiverSettleMode.SECOND,
        max_message_size=1000,
    )
    p.pump()
    att = p.one("server", LinkAttached)
    assert att.link.is_sender
    assert att.attach.source == Source(
        address="q", distribution_mode="copy", capabilities=("queue",)
    )
    assert att.attach.snd_settle_mode == SenderSettleMode.SETTLED
    assert att.attach.rcv_settle_mode == ReceiverSettleMode.SECOND
    assert att.link.remote_max_message_size == 1000
    att.link.attach(source=Source(address="q-answered"), target=att.attach.target)
    p.pump()
    back = p.one("client", LinkAttached)
    assert back.link.remote_source == Source(address="q-answered")
    assert back.attach.initial_delivery_count == 0


def test_credit_limits_sending_and_counts_deliveries() -> None:
    p = Pair()
    cs, _ = p.established()
    cl, sl = p.link(cs, credit=2)
    assert cl.credit == 2
    cl.send(b"1")
    cl.send(b"2")
    with pytest.raises(UsageError, match="no credit"):
        cl.send(b"3")
    p.pump()
    assert sl.credit == 0 and sl.delivery_count == 2
    sl.flow(3)
    p.pump()
    assert p.take("client", CreditGranted)[-1].credit == 3
    assert cl.credit == 3


def test_transfer_without_credit_detaches_the_link_with_transfer_limit_exceeded() -> None:
    p = Pair()
    cs, _ = p.established()
    cl, _sl = p.link(cs, credit=1)
    cl.send(b"ok")
    cl.credit = 1  # a misbehaving sender pretends to have credit
    cl.send(b"too many")
    p.pump()
    detached = p.take("server", LinkDetached)
    assert detached and detached[0].error is not None
    assert detached[0].error.condition == conditions.TRANSFER_LIMIT_EXCEEDED
    client_side = p.one("client", LinkDetached)
    assert client_side.error is not None
    assert client_side.error.condition == conditions.TRANSFER_LIMIT_EXCEEDED


def test_drain_with_nothing_to_send_returns_the_credit_at_once() -> None:
    p = Pair()
    cs, _ = p.established()
    rl, sl = p.link(cs, client_sends=False)
    rl.flow(10, drain=True)
    p.pump()
    granted = p.one("server", CreditGranted)
    assert granted.drain and granted.credit == 10
    sl.drained()
    p.pump()
    p.one("client", LinkDrained)
    assert rl.credit == 0 and rl.delivery_count == 10 and sl.delivery_count == 10


def test_drain_after_some_messages_uses_up_the_rest() -> None:
    p = Pair()
    cs, _ = p.established()
    rl, sl = p.link(cs, client_sends=False)
    rl.flow(5, drain=True)
    p.pump()
    p.one("server", CreditGranted)
    sl.send(b"a", settled=True)
    sl.send(b"b", settled=True)
    sl.drained()
    p.pump()
    assert [e.payload for e in p.take("client", DeliveryReceived)] == [b"a", b"b"]
    p.one("client", LinkDrained)
    assert rl.credit == 0 and rl.delivery_count == 5


def test_echo_asks_the_peer_for_its_link_state() -> None:
    p = Pair()
    cs, _ss = p.established()
    _cl, _sl = p.link(cs, credit=4)
    ch = cs.channel or 0
    p.server.receive_data(
        frame(
            ch,
            Flow(
                next_incoming_id=0,
                incoming_window=100,
                next_outgoing_id=0,
                outgoing_window=100,
                handle=0,
                delivery_count=0,
                link_credit=0,
                echo=True,
            ),
        )
    )
    reply = p.server.data_to_send()
    assert b"\x00S\x13" in reply  # a flow frame answers the echo


def test_detach_with_an_error_reaches_the_peer() -> None:
    p = Pair()
    cs, _ = p.established()
    _cl, sl = p.link(cs)
    sl.detach(Error(condition=conditions.NOT_FOUND, description="Node not found: q"))
    p.pump()
    d = p.one("client", LinkDetached)
    assert d.closed and d.by_peer
    assert d.error == Error(condition=conditions.NOT_FOUND, description="Node not found: q")
    assert ("link", False) not in cs.links


# -- transfers ------------------------------------------------------------------------------


def test_settled_transfers_need_no_disposition() -> None:
    p = Pair()
    cs, _ = p.established()
    cl, _sl = p.link(cs, credit=5, snd_settle_mode=SenderSettleMode.SETTLED)
    d = cl.send(b"fire and forget")
    assert d.settled
    p.pump()
    got = p.one("server", DeliveryReceived)
    assert got.delivery.remote_settled
    assert not [f for f in p.frames_to_client if b"\x00S\x15" in f]


def test_a_large_message_is_split_at_the_peer_max_frame_size_and_reassembled() -> None:
    client = Connection(container_id="c")
    server = Connection(server=True, max_frame_size=1024)
    p = Pair(client, server)
    cs, _ = p.established()
    cl, _sl = p.link(cs, credit=1)
    body = bytes(range(256)) * 4096  # 1 MiB
    cl.send(body)
    out = p.client.data_to_send()
    pos, sizes = 0, []
    while pos < len(out):
        size = struct.unpack_from(">I", out, pos)[0]
        sizes.append(size)
        pos += size
    assert max(sizes) <= 1024 and len(sizes) > 1000
    p.server.receive_data(out)
    p.pump()
    assert p.one("server", DeliveryReceived).payload == body


def test_multi_frame_delivery_sent_in_parts_and_aborted() -> None:
    p = Pair()
    cs, _ = p.established()
    cl, _sl = p.link(cs, credit=2)
    d = cl.send(b"part one", more=True)
    cl.send_more(d, b" part two", more=True)
    p.pump()
    assert not p.take("server", DeliveryReceived)
    d.abort()
    p.pump()
    aborted = p.one("server", DeliveryAborted)
    assert aborted.delivery.delivery_id == d.delivery_id
    d2 = cl.send(b"whole", more=True)
    cl.send_more(d2, b" again")
    p.pump()
    assert p.one("server", DeliveryReceived).payload == b"whole again"


def test_max_message_size_is_enforced_on_receipt() -> None:
    p = Pair()
    cs, _ = p.established()
    cl = cs.attach_sender("big", target=Target(address="q"))
    p.pump()
    sl = p.one("server", LinkAttached).link
    sl.attach(source=Source(), target=Target(address="q"), max_message_size=100)
    sl.flow(1)
    p.pump()
    with pytest.raises(UsageError, match="exceeds the link's limit"):
        cl.send(b"x" * 101)
    cl.remote_attach = None  # a sender that ignores the limit
    cl.send(b"x" * 101)
    p.pump()
    d = p.take("server", LinkDetached)
    assert d and d[0].error is not None
    assert d[0].error.condition == conditions.MESSAGE_SIZE_EXCEEDED


# -- dispositions and outcomes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("settle", "expected"),
    [
        (lambda d: d.accept(), Accepted()),
        (
            lambda d: d.reject(Error(condition="amqp:not-allowed", description="no")),
            Rejected(error=Error(condition="amqp:not-allowed", description="no")),
        ),
        (lambda d: d.release(), Released()),
        (
            lambda d: d.modify(delivery_failed=True, undeliverable_here=True),
            Modified(delivery_failed=True, undeliverable_here=True),
        ),
    ],
)
def test_each_outcome_reaches_the_sender(settle: object, expected: object) -> None:
    p = Pair()
    cs, _ = p.established()
    cl, _sl = p.link(cs, credit=1)
    sent = cl.send(b"m")
    p.pump()
    settle(p.one("server", DeliveryReceived).delivery)  # type: ignore[operator]
    p.pump()
    upd = p.one("client", DeliveryUpdated)
    assert upd.delivery is sent
    assert upd.state == expected and upd.settled
    assert sent.remote_settled and sent.remote_state == expected


def test_dispositions_for_consecutive_deliveries_coalesce_into_one_range() -> None:
    p = Pair()
    cs, _ = p.established()
    cl, _sl = p.link(cs, credit=100)
    for i in range(50):
        cl.send(b"%d" % i)
    p.pump()
    for e in p.take("server", DeliveryReceived):
        e.delivery.accept()
    before = len(p.frames_to_client)
    p.pump()
    batch = b"".join(p.frames_to_client[before:])
    assert batch.count(b"\x00S\x15") == 1
    assert len(p.take("client", DeliveryUpdated)) == 50


def test_disposition_range_covering_unknown_ids_updates_only_known_deliveries() -> None:
    p = Pair()
    cs, _ = p.established()
    cl, _sl = p.link(cs, credit=3)
    sent = [cl.send(b"x") for _ in range(3)]
    p.pump()
    ch = cs.remote_channel or 0
    p.client.receive_data(
        frame(ch, Disposition(role=True, first=0, last=0xFFFFFFFF, settled=True, state=Accepted()))
    )
    updated = [e.delivery for e in p.client.events() if isinstance(e, DeliveryUpdated)]
    assert updated == sent


def test_receiver_settle_mode_second_waits_for_the_sender_to_settle() -> None:
    p = Pair()
    cs, _ = p.established()
    cl, sl = p.link(cs, credit=1, rcv_settle_mode=ReceiverSettleMode.SECOND)
    assert sl.rcv_settle_mode == ReceiverSettleMode.SECOND
    sent = cl.send(b"m")
    p.pump()
    received = p.one("server", DeliveryReceived).delivery
    received.accept()  # in mode second: accepted, not yet settled
    p.pump()
    upd = p.one("client", DeliveryUpdated)
    assert upd.state == Accepted() and not upd.settled
    sent.settle()
    p.pump()
    final = p.one("server", DeliveryUpdated)
    assert final.settled and final.delivery is received


def test_unsettled_state_can_be_updated_before_settling() -> None:
    p = Pair()
    cs, _ = p.established()
    cl, _sl = p.link(cs, credit=1)
    sent = cl.send(b"m")
    p.pump()
    d = p.one("server", DeliveryReceived).delivery
    d.update(Released())
    p.pump()
    first = p.one("client", DeliveryUpdated)
    assert first.state == Released() and not first.settled
    d.settle(Accepted())
    p.pump()
    second = p.one("client", DeliveryUpdated)
    assert second.state == Accepted() and second.settled
    with pytest.raises(UsageError):
        d.accept()
    assert sent.remote_settled


# -- teardown -------------------------------------------------------------------------------


def test_peer_detach_end_and_close_are_answered_automatically() -> None:
    p = Pair()
    cs, ss = p.established()
    cl, _sl = p.link(cs)
    cl.detach()
    p.pump()
    assert p.one("server", LinkDetached).by_peer
    assert not ss.links and not cs.links
    cs.end(Error(condition="amqp:internal-error", description="bye"))
    p.pump()
    ended = p.one("server", SessionEnded)
    assert ended.error is not None and ended.error.description == "bye"
    p.client.close()
    p.pump()
    assert p.client.finished and p.server.finished


def test_eof_without_close_is_reported_as_a_lost_connection() -> None:
    p = Pair()
    p.open()
    p.server.receive_data(b"")
    closed = p.one("server", ConnectionClosed) if p.server_events else p.server.next_event()
    assert isinstance(closed, ConnectionClosed)
    assert closed.error is not None and closed.error.condition == "amqp:connection:forced"
    assert p.server.finished


def test_detaching_a_link_forgets_its_unsettled_deliveries() -> None:
    p = Pair()
    cs, _ = p.established()
    cl, _sl = p.link(cs, credit=2)
    cl.send(b"a")
    cl.send(b"b")
    p.pump()
    cl.detach()
    p.pump()
    ch = cs.remote_channel or 0
    p.client.receive_data(
        frame(ch, Disposition(role=True, first=0, last=1, settled=True, state=Accepted()))
    )
    assert not [e for e in p.client.events() if isinstance(e, DeliveryUpdated)]


def test_frame_trace_reads_like_proton_and_hides_sasl_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="qpid_ha.amqp.frames")
    p = sasl_pair("bob", "secret")
    p.open()
    lines = [r.getMessage() for r in caplog.records]
    assert any('-> @open(16) [container-id="client"' in ln for ln in lines)
    assert any("<- @open(16)" in ln for ln in lines)
    assert not any("secret" in ln for ln in lines)


def test_we_never_send_a_frame_larger_than_the_peer_allows() -> None:
    p = Pair(Connection(container_id="c", max_frame_size=512), None)
    p.open()
    session = p.server.begin()
    with pytest.raises(UsageError, match="max-frame-size of 512"):
        session.attach_sender("x", target=Target(address="q" * 600))
    # Nothing of the refused frame was queued, and the name is free again.
    assert b"qqqq" not in p.server.data_to_send()
    assert not session.links
    session.attach_sender("x", target=Target(address="q"))


def test_a_field_out_of_range_is_refused_without_queuing_anything() -> None:
    p = Pair()
    cs, _ = p.established()
    with pytest.raises(UsageError, match="cannot encode Attach"):
        cs.attach_sender("x", target=Target(address="q"), max_message_size=-5)
    assert p.client.data_to_send() == b""


def test_a_sender_and_a_receiver_may_share_a_link_name() -> None:
    p = Pair()
    cs, _ = p.established()
    cs.attach_sender("same", target=Target(address="q"))
    cs.attach_receiver("same", source=Source(address="q"))
    p.pump()
    attached = p.take("server", LinkAttached)
    assert sorted(a.link.is_sender for a in attached) == [False, True]
    assert not p.take("server", SessionEnded)
