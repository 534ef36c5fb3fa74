# Stubs for the parts of proton.utils (python-qpid-proton 0.40) the interop tests use.

from collections.abc import Callable
from typing import Any, Literal

from proton import (
    Connection,
    ConnectionException,
    Delivery,
    Handler,
    LinkException,
    Message,
    ProtonException,
    Receiver,
    Sender,
)
from proton.handlers import Acking
from proton.reactor import Container, _Options

class SendException(ProtonException):
    state: int

class LinkDetached(LinkException):
    condition: str | None

class ConnectionClosed(ConnectionException):
    condition: str | None

class BlockingLink:
    connection: BlockingConnection
    def close(self) -> None: ...

class BlockingSender(BlockingLink):
    link: Sender
    def send(
        self,
        msg: Message,
        timeout: float | Literal[False] | None = ...,
        error_states: list[int] | None = ...,
    ) -> Delivery: ...

class BlockingReceiver(BlockingLink):
    link: Receiver
    def receive(self, timeout: float | Literal[False] | None = ...) -> Message: ...
    def accept(self) -> None: ...
    def reject(self) -> None: ...
    def release(self, delivered: bool = ...) -> None: ...
    def settle(self, state: int | None = ...) -> None: ...

class BlockingConnection(Handler):
    conn: Connection
    container: Container
    timeout: float
    def __init__(
        self,
        url: str | None = ...,
        timeout: float | None = ...,
        container: Container | None = ...,
        ssl_domain: Any = ...,
        heartbeat: float | None = ...,
        urls: list[str] | None = ...,
        reconnect: Any = ...,
        **kwargs: Any,
    ) -> None: ...
    def create_sender(
        self,
        address: str | None,
        handler: Handler | None = ...,
        name: str | None = ...,
        options: _Options = ...,
    ) -> BlockingSender: ...
    def create_receiver(
        self,
        address: str | None = ...,
        credit: int | None = ...,
        dynamic: bool = ...,
        handler: Handler | None = ...,
        name: str | None = ...,
        options: _Options = ...,
    ) -> BlockingReceiver: ...
    def close(self) -> None: ...
    def run(self) -> None: ...
    def wait(
        self,
        condition: Callable[[], bool],
        timeout: float | Literal[False] | None = ...,
        msg: str | None = ...,
    ) -> None: ...

class SyncRequestResponse(Handler, Acking):
    connection: BlockingConnection
    address: str | None
    sender: BlockingSender
    receiver: BlockingReceiver
    def __init__(self, connection: BlockingConnection, address: str | None = ...) -> None: ...
    def call(self, request: Message) -> Message: ...
    @property
    def reply_to(self) -> str: ...
