"""Two qpid-ha AMQP 1.0 engines talking in memory: no sockets, no event loop.

A client opens a connection (SASL PLAIN), a session and a sender link; the server
authenticates it, grants credit and accepts every message. Run it with:

    python examples/engine_pair.py
"""

from __future__ import annotations

from qpid_ha.amqp import (
    Authenticated,
    Connection,
    ConnectionOpened,
    CreditGranted,
    DeliveryReceived,
    DeliveryUpdated,
    LinkAttached,
    PlainServer,
    SaslClient,
    SaslServer,
    SessionBegun,
    Source,
    Target,
)
from qpid_ha.amqp.message import Message, encode_message


def pump(a: Connection, b: Connection) -> None:
    """Move bytes both ways until neither engine has anything to send."""
    while True:
        moved = False
        for src, dst in ((a, b), (b, a)):
            data = src.data_to_send()
            if data:
                dst.receive_data(data)
                moved = True
        if not moved:
            return


def serve(server: Connection) -> None:
    """A tiny server: answer opens, begins and attaches; accept and print messages."""
    for event in server.events():
        if isinstance(event, Authenticated):
            print(f"server: {event.user} authenticated with {event.mechanism}")
        elif isinstance(event, ConnectionOpened):
            server.open()
        elif isinstance(event, SessionBegun):
            event.session.begin()
        elif isinstance(event, LinkAttached):
            event.link.attach(source=Source(), target=event.attach.target)
            event.link.flow(10)
        elif isinstance(event, DeliveryReceived):
            message = Message(event.payload)
            print(f"server: received {message.body!r} for {message.to}")
            event.delivery.accept()


def main() -> None:
    """Send three messages from a client engine to a server engine."""
    server = Connection(
        server=True,
        container_id="example-server",
        sasl=SaslServer([PlainServer.from_users({"guest": "guest"})]),
    )
    client = Connection(
        container_id="example-client", sasl=SaslClient.for_credentials("guest", "guest")
    )
    client.open()
    sender = client.begin().attach_sender("example", target=Target(address="examples"))
    pump(client, server)
    serve(server)
    pump(client, server)
    for event in client.events():
        if isinstance(event, CreditGranted):
            print(f"client: {event.credit} credit granted")
    for n in range(3):
        sender.send(encode_message(f"message {n}", to="examples"))
    pump(client, server)
    serve(server)
    pump(client, server)
    outcomes = [e.state for e in client.events() if isinstance(e, DeliveryUpdated)]
    print(f"client: outcomes {[type(o).__name__ for o in outcomes]}")
    client.close()
    pump(client, server)
    print(f"closed: client {client.finished}, server {server.finished}")


if __name__ == "__main__":
    main()
