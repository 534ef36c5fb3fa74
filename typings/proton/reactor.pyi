# Stubs for the parts of proton.reactor (python-qpid-proton 0.40) the interop tests use.

from collections.abc import Callable
from typing import Any

from proton import Connection, Described, Handler, Link, Receiver, Sender, Session, Url, symbol

class Task:
    def cancel(self) -> None: ...

class LinkOption:
    def apply(self, link: Link) -> None: ...
    def test(self, link: Link) -> bool: ...

class AtMostOnce(LinkOption): ...
class AtLeastOnce(LinkOption): ...
class SenderOption(LinkOption): ...
class ReceiverOption(LinkOption): ...

class DynamicNodeProperties(LinkOption):
    def __init__(self, props: dict[Any, Any] = ...) -> None: ...

class Filter(ReceiverOption):
    def __init__(self, filter_set: dict[symbol, Described] = ...) -> None: ...

class Selector(Filter):
    def __init__(self, value: str, name: str = ...) -> None: ...

class DurableSubscription(ReceiverOption): ...
class Move(ReceiverOption): ...
class Copy(ReceiverOption): ...

_Options = LinkOption | list[LinkOption] | list[ReceiverOption] | list[SenderOption] | None

class Container:
    container_id: str
    timeout: float
    def __init__(self, *handlers: Handler, **kwargs: Any) -> None: ...
    def run(self) -> None: ...
    def stop(self) -> None: ...
    def schedule(self, delay: float, handler: Handler) -> Task: ...
    def connect(
        self,
        url: str | Url | None = ...,
        urls: list[str] | None = ...,
        address: str | None = ...,
        handler: Handler | None = ...,
        reconnect: Any = ...,
        heartbeat: float | None = ...,
        ssl_domain: Any = ...,
        **kwargs: Any,
    ) -> Connection: ...
    def create_sender(
        self,
        context: str | Url | Connection | Session,
        target: str | None = ...,
        source: str | None = ...,
        name: str | None = ...,
        handler: Handler | None = ...,
        tags: Callable[[], bytes] | None = ...,
        options: _Options = ...,
    ) -> Sender: ...
    def create_receiver(
        self,
        context: str | Url | Connection | Session,
        source: str | None = ...,
        target: str | None = ...,
        name: str | None = ...,
        dynamic: bool = ...,
        handler: Handler | None = ...,
        options: _Options = ...,
    ) -> Receiver: ...
