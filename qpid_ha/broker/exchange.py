"""Exchanges and bindings: the AMQP 0-10 routing model that qpidd keeps under AMQP 1.0.

An exchange routes a message with a routing key to the queues bound to it. A binding is
named by its exchange, queue and binding key; binding the same queue with the same key again
is a no-op when the arguments are equal and replaces the binding's arguments otherwise
(qpidd's headers exchange does the same, and the other types keep arguments only for
management and replication, for example a binding's own ``qpid.replicate``).

The four types:

- ``direct`` (:class:`DirectExchange`): the binding key equals the routing key; a dict lookup.
- ``topic`` (:class:`TopicExchange`): binding keys are AMQP 0-10 patterns: words separated by
  ``.``, ``*`` matching exactly one word and ``#`` zero or more. Patterns live in a trie of
  words, so routing costs depend on the key's length, not on the number of bindings, and
  results are cached per routing key until the bindings change.
- ``fanout`` (:class:`FanoutExchange`): every bound queue.
- ``headers`` (:class:`HeadersExchange`): the binding arguments are matched against the
  message's application properties; ``x-match`` is ``all`` (the default) or ``any``; keys
  starting with ``x-`` are not matched; a value of ``None`` matches any value of a present
  property.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from ..amqp.message import Message
from ..errors import InvalidArgument
from .arguments import ALTERNATE_EXCHANGE, validate_exchange_arguments

__all__ = [
    "EXCHANGE_TYPES",
    "Binding",
    "DirectExchange",
    "Exchange",
    "FanoutExchange",
    "HeadersExchange",
    "TopicExchange",
    "topic_words",
]


@dataclasses.dataclass(slots=True)
class Binding:
    """A binding of a queue to an exchange.

    Attributes:
        exchange: the exchange name.
        queue: the queue name.
        key: the binding key (a pattern for topic exchanges; often empty for fanout and
            headers exchanges).
        arguments: the binding arguments (the match arguments of a headers binding).
    """

    exchange: str
    queue: str
    key: str = ""
    arguments: dict[str, Any] = dataclasses.field(default_factory=dict)


class Exchange:
    """The base of the exchange types; routes nothing by itself.

    Args:
        name: the exchange name.
        durable: survives a broker restart (recorded only).
        auto_delete: deleted when its last binding goes (recorded; the registry decides).
        arguments: declare arguments, checked by
            :func:`~qpid_ha.broker.arguments.validate_exchange_arguments`.

    Raises:
        InvalidArgument: bad arguments.

    Attributes:
        name: the exchange name.
        type: the exchange type name (``direct``, ``topic``, ``fanout``, ``headers``).
        durable: the durable flag.
        auto_delete: the auto-delete flag.
        arguments: the normalized declare arguments.
        alternate_exchange: where unroutable messages go, or ``None``.
    """

    type: ClassVar[str] = ""

    def __init__(
        self,
        name: str,
        *,
        durable: bool = False,
        auto_delete: bool = False,
        arguments: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.durable = durable
        self.auto_delete = auto_delete
        self.arguments: dict[str, Any] = validate_exchange_arguments(arguments or {})
        self.alternate_exchange: str | None = self.arguments.get(ALTERNATE_EXCHANGE) or None
        self._bindings: dict[tuple[str, str], Binding] = {}
        self._init_index()

    def _init_index(self) -> None:
        """Set up the subclass's routing index (called by ``__init__``)."""

    @property
    def bindings(self) -> list[Binding]:
        """The bindings, in the order they were made."""
        return list(self._bindings.values())

    def get_binding(self, queue: str, key: str = "") -> Binding | None:
        """The binding of ``queue`` with ``key``, or ``None``."""
        return self._bindings.get((queue, key))

    def bind(self, binding: Binding) -> bool:
        """Add ``binding``; replace the arguments of the same queue and key.

        Args:
            binding: the binding; its ``exchange`` should be this exchange's name.

        Returns:
            ``False`` if an identical binding (same queue, key and arguments) exists.

        Raises:
            InvalidArgument: the binding arguments are invalid for this exchange type.
        """
        self._check(binding)
        ident = (binding.queue, binding.key)
        old = self._bindings.get(ident)
        if old is not None:
            if old.arguments == binding.arguments:
                return False
            self._remove(old)
        self._bindings[ident] = binding
        self._add(binding)
        return True

    def unbind(self, queue: str, key: str = "", arguments: Mapping[str, Any] | None = None) -> bool:
        """Remove the binding of ``queue`` with ``key``.

        Args:
            queue: the queue name.
            key: the binding key.
            arguments: ignored: a binding is named by its queue and key.

        Returns:
            ``False`` if there was no such binding.
        """
        old = self._bindings.pop((queue, key), None)
        if old is None:
            return False
        self._remove(old)
        return True

    def route(self, message: Message, routing_key: str) -> list[str]:
        """The names of the queues ``message`` goes to, each once, in binding order.

        Args:
            message: the message (headers exchanges read its application properties).
            routing_key: the routing key (the subject or the address, chosen by the caller).
        """
        return []

    def _check(self, binding: Binding) -> None:
        """Check a binding's arguments before it is added (raise InvalidArgument)."""

    def _add(self, binding: Binding) -> None:
        """Index a new binding."""

    def _remove(self, binding: Binding) -> None:
        """Drop a binding from the index."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} bindings={len(self._bindings)}>"


class DirectExchange(Exchange):
    """Routes to the queues bound with a key equal to the routing key."""

    type: ClassVar[str] = "direct"

    def _init_index(self) -> None:
        self._by_key: dict[str, list[str]] = {}

    def _add(self, binding: Binding) -> None:
        self._by_key.setdefault(binding.key, []).append(binding.queue)

    def _remove(self, binding: Binding) -> None:
        queues = self._by_key[binding.key]
        queues.remove(binding.queue)
        if not queues:
            del self._by_key[binding.key]

    def route(self, message: Message, routing_key: str) -> list[str]:
        """The queues bound with ``routing_key``."""
        queues = self._by_key.get(routing_key)
        return list(queues) if queues else []


class FanoutExchange(Exchange):
    """Routes to every bound queue, whatever the key."""

    type: ClassVar[str] = "fanout"

    def _init_index(self) -> None:
        self._queues: dict[str, int] = {}  # queue -> number of bindings

    def _add(self, binding: Binding) -> None:
        self._queues[binding.queue] = self._queues.get(binding.queue, 0) + 1

    def _remove(self, binding: Binding) -> None:
        n = self._queues[binding.queue] - 1
        if n:
            self._queues[binding.queue] = n
        else:
            del self._queues[binding.queue]

    def route(self, message: Message, routing_key: str) -> list[str]:
        """Every bound queue."""
        return list(self._queues)


def topic_words(key: str) -> list[str]:
    """Split a topic routing key or binding pattern into words.

    The empty key has no words; otherwise the words are what lies between the dots, empty
    words included (``"a..b"`` has three words, the second empty).
    """
    return key.split(".") if key else []


def _normalize_pattern(words: list[str]) -> list[str]:
    """Collapse runs of ``#``: ``a.#.#.b`` matches exactly what ``a.#.b`` matches."""
    out: list[str] = []
    for word in words:
        if word == "#" and out and out[-1] == "#":
            continue
        out.append(word)
    return out


class _TrieNode:
    __slots__ = ("children", "hash", "queues", "star")

    def __init__(self) -> None:
        self.children: dict[str, _TrieNode] = {}
        self.star: _TrieNode | None = None
        self.hash: _TrieNode | None = None
        self.queues: dict[str, int] = {}  # queue -> number of patterns ending here

    def empty(self) -> bool:
        return not (self.children or self.star or self.hash or self.queues)


_CACHE_LIMIT: Final = 4096


class TopicExchange(Exchange):
    """Routes by AMQP 0-10 topic patterns (``*`` one word, ``#`` zero or more words)."""

    type: ClassVar[str] = "topic"

    def _init_index(self) -> None:
        self._root = _TrieNode()
        self._cache: dict[str, tuple[str, ...]] = {}

    def _add(self, binding: Binding) -> None:
        node = self._root
        for word in _normalize_pattern(topic_words(binding.key)):
            if word == "*":
                if node.star is None:
                    node.star = _TrieNode()
                node = node.star
            elif word == "#":
                if node.hash is None:
                    node.hash = _TrieNode()
                node = node.hash
            else:
                child = node.children.get(word)
                if child is None:
                    child = node.children[word] = _TrieNode()
                node = child
        node.queues[binding.queue] = node.queues.get(binding.queue, 0) + 1
        self._cache.clear()

    def _remove(self, binding: Binding) -> None:
        path: list[tuple[_TrieNode, str]] = []
        node = self._root
        for word in _normalize_pattern(topic_words(binding.key)):
            path.append((node, word))
            nxt = (
                node.star if word == "*" else node.hash if word == "#" else node.children.get(word)
            )
            assert nxt is not None, "binding index out of step"
            node = nxt
        n = node.queues[binding.queue] - 1
        if n:
            node.queues[binding.queue] = n
        else:
            del node.queues[binding.queue]
        # prune empty nodes bottom-up
        while path and node.empty():
            parent, word = path.pop()
            if word == "*":
                parent.star = None
            elif word == "#":
                parent.hash = None
            else:
                del parent.children[word]
            node = parent
        self._cache.clear()

    def route(self, message: Message, routing_key: str) -> list[str]:
        """The queues bound with a pattern that matches ``routing_key``."""
        cached = self._cache.get(routing_key)
        if cached is None:
            out: dict[str, None] = {}
            words = topic_words(routing_key)
            self._match(self._root, words, 0, out, set())
            cached = tuple(out)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[routing_key] = cached
        return list(cached)

    def _match(
        self,
        node: _TrieNode,
        words: list[str],
        i: int,
        out: dict[str, None],
        seen: set[tuple[int, int]],
    ) -> None:
        # each (node, word index) is visited once, which bounds the work of several '#'
        mark = (id(node), i)
        if mark in seen:
            return
        seen.add(mark)
        hash_node = node.hash
        if hash_node is not None:
            # '#' swallows zero or more words
            for j in range(i, len(words) + 1):
                self._match(hash_node, words, j, out, seen)
        if i == len(words):
            for queue in node.queues:
                out[queue] = None
            return
        word = words[i]
        child = node.children.get(word)
        if child is not None:
            self._match(child, words, i + 1, out, seen)
        if node.star is not None:
            self._match(node.star, words, i + 1, out, seen)


_MATCH_MODES: Final = ("all", "any")


class HeadersExchange(Exchange):
    """Routes by matching binding arguments against the message's application properties.

    ``x-match`` is ``all`` (every argument must match; the default) or ``any`` (at least
    one). Keys starting with ``x-`` are not matched. An argument whose value is ``None``
    matches when the property is present with any value. A binding with no arguments to
    match routes every message under ``all`` and none under ``any``.
    """

    type: ClassVar[str] = "headers"

    def _init_index(self) -> None:
        # binding -> (match all?, [(key, value)])
        self._rules: dict[tuple[str, str], tuple[bool, list[tuple[str, Any]]]] = {}

    def _check(self, binding: Binding) -> None:
        mode = binding.arguments.get("x-match", "all")
        if mode not in _MATCH_MODES:
            raise InvalidArgument(
                f"x-match must be 'all' or 'any', not {mode!r} (binding of {binding.queue!r}"
                f" to headers exchange {self.name!r})"
            )

    def _add(self, binding: Binding) -> None:
        args = binding.arguments
        pairs = [(k, v) for k, v in args.items() if not k.startswith("x-")]
        self._rules[(binding.queue, binding.key)] = (args.get("x-match", "all") == "all", pairs)

    def _remove(self, binding: Binding) -> None:
        del self._rules[(binding.queue, binding.key)]

    def route(self, message: Message, routing_key: str) -> list[str]:
        """The queues whose binding arguments match the message's application properties."""
        try:
            props = message.application_properties or {}
        except Exception:  # malformed application properties match nothing
            props = {}
        out: dict[str, None] = {}
        missing = object()
        for (queue, _key), (match_all, pairs) in self._rules.items():
            if queue in out:
                continue
            if match_all:
                ok = all(
                    (got := props.get(k, missing)) is not missing and (v is None or got == v)
                    for k, v in pairs
                )
            else:
                ok = any(
                    (got := props.get(k, missing)) is not missing and (v is None or got == v)
                    for k, v in pairs
                )
            if ok:
                out[queue] = None
        return list(out)


#: exchange type name -> class
EXCHANGE_TYPES: Final[dict[str, type[Exchange]]] = {
    "direct": DirectExchange,
    "topic": TopicExchange,
    "fanout": FanoutExchange,
    "headers": HeadersExchange,
}
