"""Two engines joined in memory, for level-1 tests (a client and a server Connection)."""

from __future__ import annotations

from typing import Any, TypeVar

from qpid_ha.amqp import (
    Connection,
    ConnectionOpened,
    Event,
    Link,
    LinkAttached,
    Session,
    SessionBegun,
    Source,
    Target,
)

E = TypeVar("E", bound=Event)


class Pair:
    """A client and a server engine; ``pump()`` moves bytes until both are quiet.

    Events are collected per side in ``client_events`` / ``server_events`` as they come.
    """

    def __init__(self, client: Connection | None = None, server: Connection | None = None):
        self.client = client or Connection(container_id="client")
        self.server = server or Connection(server=True, container_id="server")
        self.client_events: list[Event] = []
        self.server_events: list[Event] = []
        self.frames_to_server: list[bytes] = []
        self.frames_to_client: list[bytes] = []

    def pump(self, rounds: int = 1000) -> None:
        """Exchange bytes until neither side has anything to send."""
        for _ in range(rounds):
            moved = False
            data = self.client.data_to_send()
            if data:
                self.frames_to_server.append(data)
                self.server.receive_data(data)
                moved = True
            data = self.server.data_to_send()
            if data:
                self.frames_to_client.append(data)
                self.client.receive_data(data)
                moved = True
            self.client_events.extend(self.client.events())
            self.server_events.extend(self.server.events())
            if not moved:
                return
        raise AssertionError("the engines never went quiet")

    def take(self, side: str, kind: type[E]) -> list[E]:
        """Remove and return the collected events of ``kind`` on ``side``."""
        events = self.client_events if side == "client" else self.server_events
        found = [e for e in events if isinstance(e, kind)]
        events[:] = [e for e in events if not isinstance(e, kind)]
        return found

    def one(self, side: str, kind: type[E]) -> E:
        """The single collected event of ``kind`` on ``side`` (removed)."""
        found = self.take(side, kind)
        assert len(found) == 1, f"expected one {kind.__name__} on {side}, got {found}"
        return found[0]

    def open(self) -> None:
        """Open both ends (the server answers the client's open)."""
        if self.client.local.value == "uninit":
            self.client.open()
        self.pump()
        self.one("server", ConnectionOpened)
        self.server.open()
        self.pump()
        self.one("client", ConnectionOpened)

    def session(self, **kw: Any) -> tuple[Session, Session]:
        """Begin a session from the client; the server answers. Returns (client, server)."""
        cs = self.client.begin(**kw)
        self.pump()
        ss = self.one("server", SessionBegun).session
        ss.begin()
        self.pump()
        self.one("client", SessionBegun)
        return cs, ss

    def link(
        self,
        cs: Session,
        name: str = "link",
        *,
        client_sends: bool = True,
        credit: int = 0,
        **kw: Any,
    ) -> tuple[Link, Link]:
        """Attach a link from the client and answer it on the server.

        Returns (client end, server end). ``credit`` is granted by whichever end receives.
        """
        if client_sends:
            cl = cs.attach_sender(name, target=Target(address="q"), **kw)
        else:
            cl = cs.attach_receiver(name, source=Source(address="q"), **kw)
        self.pump()
        sl = self.one("server", LinkAttached).link
        sl.attach(source=sl.remote_source, target=sl.remote_target)
        self.pump()
        self.one("client", LinkAttached)
        if credit:
            (sl if client_sends else cl).flow(credit)
            self.pump()
        return cl, sl

    def established(self, **kw: Any) -> tuple[Session, Session]:
        """Open the connection and one session."""
        self.open()
        return self.session(**kw)
