"""The ``$management`` node: broker management over AMQP, independent of any connection.

Requests and responses follow the AMQP Management draft as Qpid Dispatch implements it
(``research/amqp10-broker-requirements.md`` section 9.2). A request is a message sent to
``$management``::

    properties:              reply-to, correlation-id and/or message-id
    application-properties:  operation, type, name (or identity), entityType, offset, count
    body (amqp-value):       a map: CREATE attributes, QUERY {"attributeNames": [...]},
                             the arguments of a custom operation

and the response goes to the request's ``reply-to``::

    properties:              to = the request's reply-to,
                             correlation-id = the request's correlation-id, else its message-id
    application-properties:  statusCode (int), statusDescription (string)
    body (amqp-value):       READ, CREATE, UPDATE: the attribute map; DELETE: {};
                             QUERY: {"attributeNames": [...], "results": [[...], ...]};
                             GET-TYPES, GET-ATTRIBUTES, GET-OPERATIONS: {type: [...]};
                             GET-MGMT-NODES: []

:class:`ManagementNode` turns one request :class:`~qpid_ha.amqp.message.Message` into the
reply-to address and the encoded response; the protocol adapter moves the bytes. A request
without a ``reply-to`` gets no response, as in Dispatch. No exception escapes
:meth:`ManagementNode.handle`: every failure becomes a status code.

Entity types, named after the qpidd QMF classes so that ``qpid-config``, ``qpid-stat`` and
``qpid-ha`` can show the same fields (the short names ``queue``, ``exchange``, ``binding`` and
``connection`` are accepted too; generally, a type name without a ``:`` matches the one
registered type whose name ends with ``:`` and that name):

``org.apache.qpid.broker:queue``
    READ, QUERY, CREATE, DELETE and the custom operation ``purge``.
``org.apache.qpid.broker:exchange``
    READ, QUERY, CREATE, DELETE.
``org.apache.qpid.broker:binding``
    READ, QUERY, CREATE, DELETE. A binding's name is ``exchange/queue/key``.
``org.apache.qpid.broker:connection``
    READ, QUERY, from the attribute maps the adapter supplies.

More types plug in through :class:`EntityHandler` (the HA layer adds
``org.apache.qpid.ha:habroker`` with ``promote`` and ``replicate``).

Status codes: 200 OK, 201 Created (CREATE), 204 No Content (DELETE), 400 Bad Request
(a malformed request, an invalid attribute, CREATE of an object that already exists, a
failed precondition such as DELETE ``ifEmpty`` of a non-empty queue, a resource limit),
403 Forbidden (``amqp:not-allowed``, ``amqp:unauthorized-access``, ``amqp:resource-locked``:
deleting ``amq.direct``, say), 404 Not Found, 500 Internal Server Error (an unexpected
exception, or a response that cannot be encoded), 501 Not Implemented (an unknown entity
type, or an operation the type does not support, UPDATE included).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol

from ..amqp.message import BodyKind, Message, encode_message
from ..amqp.types import int32
from ..errors import AmqpError, NotFound, QpidHaError

if TYPE_CHECKING:
    from .exchange import Binding, Exchange
    from .queue import Queue
    from .registry import Registry

__all__ = [
    "BINDING_TYPE",
    "CONNECTION_TYPE",
    "EXCHANGE_TYPE",
    "MANAGEMENT_ADDRESS",
    "NODE_TYPE",
    "QUEUE_TYPE",
    "EntityHandler",
    "ManagementError",
    "ManagementNode",
    "Status",
    "binding_name",
]

_log = logging.getLogger(__name__)

#: the address of the management node
MANAGEMENT_ADDRESS: Final = "$management"
#: the type of the management node itself (GET-TYPES, GET-ATTRIBUTES... and QUERY)
NODE_TYPE: Final = "org.amqp.management"
#: entity type of queues
QUEUE_TYPE: Final = "org.apache.qpid.broker:queue"
#: entity type of exchanges
EXCHANGE_TYPE: Final = "org.apache.qpid.broker:exchange"
#: entity type of bindings
BINDING_TYPE: Final = "org.apache.qpid.broker:binding"
#: entity type of connections
CONNECTION_TYPE: Final = "org.apache.qpid.broker:connection"

_NODE_OPERATIONS: Final = (
    "QUERY",
    "GET-TYPES",
    "GET-ATTRIBUTES",
    "GET-OPERATIONS",
    "GET-MGMT-NODES",
)


class Status(enum.IntEnum):
    """The status codes of management responses (the HTTP codes Dispatch uses)."""

    OK = 200
    CREATED = 201
    NO_CONTENT = 204
    BAD_REQUEST = 400
    FORBIDDEN = 403
    NOT_FOUND = 404
    INTERNAL_SERVER_ERROR = 500
    NOT_IMPLEMENTED = 501


_DESCRIPTIONS: Final = {
    Status.OK: "OK",
    Status.CREATED: "Created",
    Status.NO_CONTENT: "No Content",
    Status.BAD_REQUEST: "Bad Request",
    Status.FORBIDDEN: "Forbidden",
    Status.NOT_FOUND: "Not Found",
    Status.INTERNAL_SERVER_ERROR: "Internal Server Error",
    Status.NOT_IMPLEMENTED: "Not Implemented",
}


class ManagementError(QpidHaError):
    """A management request failed with a given status code.

    Entity handlers raise it (or one of the :class:`~qpid_ha.errors.AmqpError` classes,
    which map to status codes by themselves); :meth:`ManagementNode.handle` turns it into
    the response's ``statusCode`` and ``statusDescription``.

    Attributes:
        status: the status code of the response.
        description: the status description of the response.
    """

    def __init__(self, status: int, description: str) -> None:
        self.status = int(status)
        self.description = description
        super().__init__(f"{self.status}: {description}")


def _bad_request(description: str) -> ManagementError:
    return ManagementError(Status.BAD_REQUEST, description)


class EntityHandler(Protocol):
    """One entity type of the management node, for :class:`ManagementNode`'s ``entities``.

    The node parses and validates the request, then calls :meth:`read` for READ,
    :meth:`query` for QUERY, and :meth:`invoke` for every other operation the handler lists
    in :attr:`operations` (CREATE, UPDATE, DELETE and custom operations such as
    ``promote``). Operations not listed get 501 without a call. Operation names are
    matched case-insensitively against :attr:`operations` and passed in the spelling listed
    there.

    Methods report failures by raising :class:`ManagementError`, or an
    :class:`~qpid_ha.errors.AmqpError`: :class:`~qpid_ha.errors.NotFound` gives 404,
    :class:`~qpid_ha.errors.NotAllowed` 403, the other AMQP errors 400. Any other
    exception gives 500.
    """

    @property
    def attribute_names(self) -> Sequence[str]:
        """The attribute names of the type: GET-ATTRIBUTES, and QUERY's default columns."""
        ...

    @property
    def operations(self) -> Sequence[str]:
        """The operations the type supports: GET-OPERATIONS, and which requests reach it."""
        ...

    def read(self, name: str) -> Mapping[str, Any]:
        """Return the attribute map of the entity ``name``.

        Args:
            name: the request's ``name`` (or ``identity``).

        Raises:
            NotFound: there is no entity of that name.
        """
        ...

    def query(self) -> Iterable[Mapping[str, Any]]:
        """Return the attribute map of every entity of the type, in a stable order."""
        ...

    def invoke(self, operation: str, name: str | None, arguments: Mapping[str, Any]) -> Any:
        """Perform ``operation`` (CREATE, UPDATE, DELETE or a custom one).

        Args:
            operation: the operation, spelled as in :attr:`operations`.
            name: the request's ``name`` (or ``identity``), ``None`` when absent.
            arguments: the request body: attributes for CREATE and UPDATE, arguments for a
                custom operation; empty when the request has no body.

        Returns:
            The response body (an AMQP-encodable value); ``None`` gives an empty map.
            CREATE answers 201, DELETE 204, every other operation 200.
        """
        ...


# -- value parsing -------------------------------------------------------------------------

_TRUE: Final = frozenset(("true", "yes", "1", "on"))
_FALSE: Final = frozenset(("false", "no", "0", "off"))


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise _bad_request(f"attribute {key!r} must be a boolean, not {value!r}")


def _as_str(key: str, value: Any) -> str:
    if isinstance(value, str):
        return str(value)
    raise _bad_request(f"attribute {key!r} must be a string, not {value!r}")


def _as_map(key: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {str(k): v for k, v in value.items()}
    raise _bad_request(f"attribute {key!r} must be a map with string keys, not {value!r}")


def _first(attributes: Mapping[str, Any], *keys: str) -> tuple[str, Any] | None:
    """The first of ``keys`` present in ``attributes``, with its value."""
    for key in keys:
        if key in attributes:
            return key, attributes[key]
    return None


def _is_argument_key(key: str) -> bool:
    """Whether a flat CREATE attribute is a queue or exchange argument (``qpid.*``, ``x-*``)."""
    return key.startswith(("qpid.", "x-"))


# Attributes a CREATE body may name the entity or its type with; they are not arguments.
_IDENTIFYING: Final = frozenset(("name", "identity"))


class _Declaration:
    """The common CREATE attributes of queues and exchanges, parsed from a request body."""

    def __init__(self, attributes: Mapping[str, Any], known: frozenset[str]) -> None:
        self.durable = False
        self.auto_delete = False
        self.alternate_exchange: str | None = None
        self.arguments: dict[str, Any] = {}
        flat: dict[str, Any] = {}
        for key, value in attributes.items():
            if key in _IDENTIFYING or key in known:
                continue
            if key == "durable":
                self.durable = _as_bool(key, value)
            elif key in ("autoDelete", "auto-delete", "auto_delete"):
                self.auto_delete = _as_bool(key, value)
            elif key in ("alternateExchange", "alternate-exchange", "alternate_exchange"):
                if value is not None and value != "":
                    self.alternate_exchange = _as_str(key, value)
            elif key == "arguments":
                self.arguments.update(_as_map(key, value))
            elif _is_argument_key(key):
                flat[key] = value
            else:
                raise _bad_request(f"unknown attribute {key!r}")
        # Flat qpid.* keys win over the same key inside "arguments": they are more specific.
        self.arguments.update(flat)


# -- built-in entity types -----------------------------------------------------------------


def _find_queue(registry: Registry, name: str) -> Queue:
    queue = registry.queues.get(name)
    if queue is None:
        raise NotFound(f"queue {name!r} not found")
    return queue


def _find_exchange(registry: Registry, name: str) -> Exchange:
    exchange = registry.exchanges.get(name)
    if exchange is None:
        raise NotFound(f"exchange {name!r} not found")
    return exchange


def _require_name(name: str | None, what: str) -> str:
    if not name:
        raise _bad_request(f"the request names no {what} (application property 'name')")
    return name


def _check_body_name(name: str, attributes: Mapping[str, Any]) -> None:
    body_name = attributes.get("name")
    if body_name is not None and body_name != name:
        raise _bad_request(
            f"the body names {body_name!r} but the application properties name {name!r}"
        )


class _QueueHandler:
    """``org.apache.qpid.broker:queue``."""

    attribute_names: Sequence[str] = (
        "name",
        "identity",
        "durable",
        "autoDelete",
        "exclusive",
        "arguments",
        "alternateExchange",
        "msgDepth",
        "byteDepth",
        "consumerCount",
        "msgTotalEnqueues",
        "msgTotalDequeues",
        "acquires",
        "releases",
        "rejects",
        "discardsTtl",
        "discardsRing",
        "discardsPurge",
    )
    operations: Sequence[str] = ("CREATE", "READ", "DELETE", "QUERY", "purge")

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    @staticmethod
    def attributes(queue: Queue) -> dict[str, Any]:
        stats = queue.stats
        return {
            "name": queue.name,
            "identity": queue.name,
            "durable": queue.durable,
            "autoDelete": queue.auto_delete,
            "exclusive": queue.exclusive,
            "arguments": dict(queue.arguments),
            "alternateExchange": queue.alternate_exchange,
            "msgDepth": queue.depth,
            "byteDepth": queue.byte_depth,
            "consumerCount": queue.consumer_count,
            "msgTotalEnqueues": stats.enqueues,
            "msgTotalDequeues": stats.dequeues,
            "acquires": stats.acquires,
            "releases": stats.releases,
            "rejects": stats.rejects,
            "discardsTtl": stats.expired,
            "discardsRing": stats.ring_drops,
            "discardsPurge": stats.purged,
        }

    def read(self, name: str) -> Mapping[str, Any]:
        return self.attributes(_find_queue(self._registry, name))

    def query(self) -> Iterable[Mapping[str, Any]]:
        return [self.attributes(q) for q in list(self._registry.queues.values())]

    def invoke(self, operation: str, name: str | None, arguments: Mapping[str, Any]) -> Any:
        name = _require_name(name, "queue")
        if operation == "CREATE":
            return self._create(name, arguments)
        if operation == "DELETE":
            _find_queue(self._registry, name)
            self._registry.delete_queue(
                name,
                if_empty=_flag(arguments, "ifEmpty", "if-empty", "if_empty"),
                if_unused=_flag(arguments, "ifUnused", "if-unused", "if_unused"),
            )
            return None
        # purge
        queue = _find_queue(self._registry, name)
        purged = queue.purge()
        return {"purged": purged if isinstance(purged, int) else 0}

    def _create(self, name: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
        _check_body_name(name, attributes)
        exclusive = _flag(attributes, "exclusive")
        decl = _Declaration(attributes, frozenset(("exclusive",)))
        if name in self._registry.queues:
            raise _bad_request(f"object already exists: queue {name!r}")
        arguments = dict(decl.arguments)
        if decl.alternate_exchange is not None:
            arguments["alternate-exchange"] = decl.alternate_exchange
        queue, created = self._registry.declare_queue(
            name,
            durable=decl.durable,
            auto_delete=decl.auto_delete,
            exclusive=exclusive,
            arguments=arguments,
        )
        if not created:  # pragma: no cover - checked above; a registry hook may race it
            raise _bad_request(f"object already exists: queue {name!r}")
        return self.attributes(queue)


def _flag(arguments: Mapping[str, Any], *keys: str) -> bool:
    found = _first(arguments, *keys)
    return False if found is None else _as_bool(*found)


class _ExchangeHandler:
    """``org.apache.qpid.broker:exchange``."""

    attribute_names: Sequence[str] = (
        "name",
        "identity",
        "type",
        "exchangeType",
        "durable",
        "autoDelete",
        "arguments",
        "alternateExchange",
        "bindingCount",
    )
    operations: Sequence[str] = ("CREATE", "READ", "DELETE", "QUERY")

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    @staticmethod
    def attributes(exchange: Exchange) -> dict[str, Any]:
        return {
            "name": exchange.name,
            "identity": exchange.name,
            "type": exchange.type,
            "exchangeType": exchange.type,
            "durable": exchange.durable,
            "autoDelete": exchange.auto_delete,
            "arguments": dict(exchange.arguments),
            "alternateExchange": exchange.alternate_exchange,
            "bindingCount": len(exchange.bindings),
        }

    def read(self, name: str) -> Mapping[str, Any]:
        return self.attributes(_find_exchange(self._registry, name))

    def query(self) -> Iterable[Mapping[str, Any]]:
        return [self.attributes(e) for e in list(self._registry.exchanges.values())]

    def invoke(self, operation: str, name: str | None, arguments: Mapping[str, Any]) -> Any:
        name = _require_name(name, "exchange")
        if operation == "CREATE":
            return self._create(name, arguments)
        # DELETE
        _find_exchange(self._registry, name)
        self._registry.delete_exchange(
            name, if_unused=_flag(arguments, "ifUnused", "if-unused", "if_unused")
        )
        return None

    def _create(self, name: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
        _check_body_name(name, attributes)
        type_keys = ("exchange-type", "exchangeType", "exchange_type", "type")
        exchange_type = "direct"
        found = _first(attributes, *type_keys)
        if found is not None:
            exchange_type = _as_str(*found)
        decl = _Declaration(attributes, frozenset(type_keys))
        if name in self._registry.exchanges:
            raise _bad_request(f"object already exists: exchange {name!r}")
        arguments = dict(decl.arguments)
        if decl.alternate_exchange is not None:
            arguments["alternate-exchange"] = decl.alternate_exchange
        exchange, created = self._registry.declare_exchange(
            name,
            exchange_type,
            durable=decl.durable,
            auto_delete=decl.auto_delete,
            arguments=arguments,
        )
        if not created:  # pragma: no cover - checked above; a registry hook may race it
            raise _bad_request(f"object already exists: exchange {name!r}")
        return self.attributes(exchange)


def binding_name(exchange: str, queue: str, key: str) -> str:
    """The management name of a binding: ``exchange/queue/key``.

    Args:
        exchange: the exchange name.
        queue: the queue name.
        key: the binding key.

    Returns:
        The name that READ and DELETE of ``org.apache.qpid.broker:binding`` take.
    """
    return f"{exchange}/{queue}/{key}"


class _BindingHandler:
    """``org.apache.qpid.broker:binding``: named ``exchange/queue/key``."""

    attribute_names: Sequence[str] = (
        "name",
        "identity",
        "exchange",
        "queue",
        "bindingKey",
        "key",
        "arguments",
    )
    operations: Sequence[str] = ("CREATE", "READ", "DELETE", "QUERY")

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    @staticmethod
    def attributes(binding: Binding) -> dict[str, Any]:
        name = binding_name(binding.exchange, binding.queue, binding.key)
        return {
            "name": name,
            "identity": name,
            "exchange": binding.exchange,
            "queue": binding.queue,
            "bindingKey": binding.key,
            "key": binding.key,
            "arguments": dict(binding.arguments or {}),
        }

    def _find(self, name: str) -> Binding:
        for binding in self._registry.bindings():
            if binding_name(binding.exchange, binding.queue, binding.key) == name:
                return binding
        raise NotFound(f"binding {name!r} not found")

    def read(self, name: str) -> Mapping[str, Any]:
        return self.attributes(self._find(name))

    def query(self) -> Iterable[Mapping[str, Any]]:
        return [self.attributes(b) for b in self._registry.bindings()]

    def invoke(self, operation: str, name: str | None, arguments: Mapping[str, Any]) -> Any:
        if operation == "CREATE":
            return self._create(name, arguments)
        # DELETE
        binding = self._find(_require_name(name, "binding"))
        self._registry.unbind(
            binding.exchange, binding.queue, binding.key, binding.arguments or None
        )
        return None

    def _create(self, name: str | None, attributes: Mapping[str, Any]) -> dict[str, Any]:
        parts: list[str] = []
        if name:
            parts = name.split("/", 2)
        values: dict[str, str] = {}
        for index, (field, keys) in enumerate(
            (
                ("exchange", ("exchange",)),
                ("queue", ("queue",)),
                ("key", ("bindingKey", "key", "binding-key", "binding_key")),
            )
        ):
            found = _first(attributes, *keys)
            if found is not None:
                values[field] = _as_str(*found)
            elif index < len(parts):
                values[field] = parts[index]
        if "exchange" not in values or "queue" not in values:
            raise _bad_request(
                "a binding needs an exchange and a queue: in the body, or named"
                " 'exchange/queue/key'"
            )
        values.setdefault("key", "")
        known = frozenset(
            ("exchange", "queue", "bindingKey", "key", "binding-key", "binding_key", "arguments")
        )
        arguments = _as_map("arguments", attributes.get("arguments"))
        for key, value in attributes.items():
            if key in _IDENTIFYING or key in known:
                continue
            if not _is_argument_key(key):
                raise _bad_request(f"unknown attribute {key!r}")
            arguments[key] = value
        formed = binding_name(values["exchange"], values["queue"], values["key"])
        if name and name != formed and len(parts) == 3:
            raise _bad_request(f"the name {name!r} does not match the binding {formed!r}")
        _find_exchange(self._registry, values["exchange"])
        _find_queue(self._registry, values["queue"])
        for existing in self._registry.bindings():
            if binding_name(existing.exchange, existing.queue, existing.key) == formed:
                raise _bad_request(f"object already exists: binding {formed!r}")
        binding = self._registry.bind(
            values["exchange"], values["queue"], values["key"], arguments or None
        )
        return self.attributes(binding)


#: the keys that name a connection when its attribute map has no ``name``, in order
_CONNECTION_NAME_KEYS: Final = ("name", "address", "containerId")


class _ConnectionHandler:
    """``org.apache.qpid.broker:connection``: read-only, from the adapter's provider."""

    attribute_names: Sequence[str] = (
        "name",
        "identity",
        "address",
        "containerId",
        "authIdentity",
        "saslMechanism",
        "sessionCount",
        "linkCount",
        "properties",
        "createdAt",
    )
    operations: Sequence[str] = ("READ", "QUERY")

    def __init__(self, connections: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        self._connections = connections

    def query(self) -> Iterable[Mapping[str, Any]]:
        rows = []
        for attributes in self._connections():
            row = dict(attributes)
            found = _first(row, *_CONNECTION_NAME_KEYS)
            name = "" if found is None else str(found[1])
            row.setdefault("name", name)
            row.setdefault("identity", row["name"])
            rows.append(row)
        return rows

    def read(self, name: str) -> Mapping[str, Any]:
        for row in self.query():
            if row["name"] == name or row["identity"] == name:
                return row
        raise NotFound(f"connection {name!r} not found")

    def invoke(
        self, operation: str, name: str | None, arguments: Mapping[str, Any]
    ) -> Any:  # pragma: no cover - READ and QUERY only: the node never calls this
        raise ManagementError(Status.NOT_IMPLEMENTED, f"{operation} of a connection")


# -- the node ------------------------------------------------------------------------------


class _Request:
    """The parsed application properties of a request."""

    def __init__(self, message: Message) -> None:
        try:
            props = message.application_properties
        except QpidHaError as e:
            raise _bad_request(f"malformed application-properties: {e}") from None
        if props is None:
            raise _bad_request("the request has no application-properties")
        self.message = message
        self.props = props
        operation = self._string("operation")
        if not operation:
            raise _bad_request("the request has no 'operation' application property")
        self.operation: str = operation
        self.type = self._string("type")
        self.entity_type = self._string("entityType")
        self.name = self._string("name") or self._string("identity")
        self.offset = self._count("offset") or 0
        self.count = self._count("count")

    def _string(self, key: str) -> str | None:
        value = self.props.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise _bad_request(f"application property {key!r} must be a string, not {value!r}")
        return str(value)

    def _count(self, key: str) -> int | None:
        value = self.props.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _bad_request(
                f"application property {key!r} must be a non-negative integer, not {value!r}"
            )
        return int(value)

    def body_map(self) -> dict[str, Any]:
        """The body as the map of attributes or arguments; absent or null gives ``{}``."""
        message = self.message
        try:
            kind = message.body_kind
            body = message.body
        except QpidHaError as e:
            raise _bad_request(f"malformed body: {e}") from None
        if kind is BodyKind.NONE or (kind is BodyKind.VALUE and body is None):
            return {}
        if kind is not BodyKind.VALUE or not isinstance(body, Mapping):
            raise _bad_request("the request body must be an amqp-value map")
        if not all(isinstance(k, str) for k in body):
            raise _bad_request("the request body map must have string keys")
        return {str(k): v for k, v in body.items()}


#: AMQP error conditions that answer 403 Forbidden (every other condition but not-found: 400)
_FORBIDDEN_CONDITIONS: Final = frozenset(
    ("amqp:not-allowed", "amqp:unauthorized-access", "amqp:resource-locked")
)


def _error_status(error: AmqpError) -> Status:
    """The status code of an AMQP error raised while performing a request.

    By condition, so that :class:`~qpid_ha.errors.NotAllowed` with
    ``amqp:precondition-failed`` (delete ``if_empty`` of a non-empty queue) is a 400 like
    :class:`~qpid_ha.errors.AlreadyExists`, while a refusal (``amqp:not-allowed``: deleting a
    built-in exchange) is a 403.
    """
    if error.condition == "amqp:not-found":
        return Status.NOT_FOUND
    if error.condition in _FORBIDDEN_CONDITIONS:
        return Status.FORBIDDEN
    return Status.BAD_REQUEST


class ManagementNode:
    """The ``$management`` node of a broker.

    Args:
        registry: the broker's queues, exchanges and bindings.
        connections: returns one attribute map per live connection, for the
            ``org.apache.qpid.broker:connection`` type. The adapter decides the keys; the
            expected ones (qpidd's) are ``name`` (unique; without it ``address`` or
            ``containerId`` names the connection), ``address``, ``containerId``,
            ``authIdentity``, ``saslMechanism``, ``sessionCount``, ``linkCount``,
            ``properties`` and ``createdAt``. Values must be AMQP-encodable.
        entities: more entity types, by full type name (``org.apache.qpid.ha:habroker``);
            a name already used by a built-in type replaces it.

    Attributes:
        registry: the registry the built-in entity types manage.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        connections: Callable[[], Iterable[Mapping[str, Any]]] = lambda: (),
        entities: Mapping[str, EntityHandler] | None = None,
    ) -> None:
        self.registry = registry
        handlers: dict[str, EntityHandler] = {
            QUEUE_TYPE: _QueueHandler(registry),
            EXCHANGE_TYPE: _ExchangeHandler(registry),
            BINDING_TYPE: _BindingHandler(registry),
            CONNECTION_TYPE: _ConnectionHandler(connections),
        }
        handlers.update(entities or {})
        self._handlers = handlers

    @property
    def entity_types(self) -> list[str]:
        """The full names of the entity types the node manages."""
        return list(self._handlers)

    # -- entry point -----------------------------------------------------------------------

    def handle(self, request: Message) -> tuple[str, bytes] | None:
        """Perform one management request.

        Args:
            request: the message received on ``$management``.

        Returns:
            ``(reply-to address, encoded response)``, or ``None`` when the request has no
            usable ``reply-to`` (it is dropped unanswered, as Dispatch does). Never raises.
        """
        try:
            reply_to = request.reply_to
            correlation_id = request.correlation_id
            if correlation_id is None:
                correlation_id = request.message_id
        except Exception as e:
            _log.warning("management request with malformed properties dropped: %s", e)
            return None
        if not isinstance(reply_to, str) or not reply_to:
            _log.debug("management request without reply-to dropped")
            return None
        reply_to = str(reply_to)
        status: int
        try:
            status, body = self._perform(request)
            description = _DESCRIPTIONS[status]
        except ManagementError as e:
            status, description, body = e.status, e.description, {}
        except AmqpError as e:
            status, description, body = _error_status(e), str(e), {}
        except Exception as e:
            _log.exception("management request failed")
            status = Status.INTERNAL_SERVER_ERROR
            description, body = f"internal error: {type(e).__name__}: {e}", {}
        try:
            return reply_to, self._response(reply_to, correlation_id, status, description, body)
        except Exception as e:
            _log.exception("management response cannot be encoded")
            description = f"internal error: the response cannot be encoded: {e}"
        try:
            return reply_to, self._response(
                reply_to, correlation_id, Status.INTERNAL_SERVER_ERROR, description, {}
            )
        except Exception:
            # Only a correlation-id of a type message ids may not have (a negative long...)
            _log.exception("management error response cannot be encoded; request dropped")
            return None

    @staticmethod
    def _response(
        reply_to: str, correlation_id: Any, status: int, description: str, body: Any
    ) -> bytes:
        return encode_message(
            body,
            to=reply_to,
            correlation_id=correlation_id,
            application_properties={
                "statusCode": int32(status),
                "statusDescription": description,
            },
        )

    # -- dispatch --------------------------------------------------------------------------

    def _resolve(self, type_name: str) -> tuple[str, EntityHandler]:
        handler = self._handlers.get(type_name)
        if handler is not None:
            return type_name, handler
        if ":" not in type_name:
            matches = [t for t in self._handlers if t.rsplit(":", 1)[-1] == type_name]
            if len(matches) == 1:
                return matches[0], self._handlers[matches[0]]
        raise ManagementError(Status.NOT_IMPLEMENTED, f"unknown entity type {type_name!r}")

    @staticmethod
    def _operation(handler: EntityHandler, operation: str) -> str | None:
        if operation in handler.operations:
            return operation
        folded = operation.casefold()
        for known in handler.operations:
            if known.casefold() == folded:
                return known
        return None

    def _target_types(self, req: _Request) -> list[tuple[str, EntityHandler]]:
        """The entity types a node-level operation covers: ``entityType``, else ``type``."""
        type_name = req.entity_type
        if type_name is None and req.type is not None and req.type != NODE_TYPE:
            type_name = req.type
        if type_name is None:
            return list(self._handlers.items())
        return [self._resolve(type_name)]

    def _perform(self, message: Message) -> tuple[Status, Any]:
        req = _Request(message)
        operation = req.operation.upper()
        if operation == "QUERY":
            return Status.OK, self._query(req)
        if operation in _NODE_OPERATIONS:
            return Status.OK, self._node_operation(operation, req)
        if req.type is None:
            raise _bad_request("the request has no 'type' application property")
        if req.type == NODE_TYPE:
            raise ManagementError(
                Status.NOT_IMPLEMENTED, f"operation {req.operation!r} of the management node"
            )
        type_name, handler = self._resolve(req.type)
        op = self._operation(handler, req.operation)
        if op is None:
            raise ManagementError(
                Status.NOT_IMPLEMENTED,
                f"operation {req.operation!r} is not supported by type {type_name!r}",
            )
        if op == "READ":
            if not req.name:
                raise _bad_request("READ needs a 'name' or 'identity' application property")
            return Status.OK, dict(handler.read(req.name))
        arguments = req.body_map()
        if arguments.get("type") in (req.type, type_name):
            # A draft-style body may repeat the entity type; an exchange's own "type"
            # attribute (its kind: "direct"...) never equals an entity type name.
            del arguments["type"]
        result = handler.invoke(op, req.name, arguments)
        if op == "CREATE":
            status = Status.CREATED
        elif op == "DELETE":
            status = Status.NO_CONTENT
        else:
            status = Status.OK
        return status, {} if result is None else result

    def _node_operation(self, operation: str, req: _Request) -> Any:
        if operation == "GET-MGMT-NODES":
            return []  # no other management nodes: a broker is not a router network
        types = self._target_types(req)
        whole_node = len(types) > 1 or req.entity_type == NODE_TYPE
        result: dict[str, list[str]]
        if operation == "GET-TYPES":
            result = {t: [] for t, _ in types}
        elif operation == "GET-ATTRIBUTES":
            result = {t: list(h.attribute_names) for t, h in types}
        else:  # GET-OPERATIONS
            result = {t: list(h.operations) for t, h in types}
        if whole_node:
            result[NODE_TYPE] = list(_NODE_OPERATIONS) if operation == "GET-OPERATIONS" else []
        return result

    def _query(self, req: _Request) -> dict[str, Any]:
        if req.entity_type == NODE_TYPE or (req.entity_type is None and req.type == NODE_TYPE):
            types = list(self._handlers.items())
        else:
            types = self._target_types(req)
        if len(types) == 1 and self._operation(types[0][1], "QUERY") is None:
            raise ManagementError(
                Status.NOT_IMPLEMENTED,
                f"operation 'QUERY' is not supported by type {types[0][0]!r}",
            )
        types = [(t, h) for t, h in types if self._operation(h, "QUERY") is not None]
        body = req.body_map()
        names = body.get("attributeNames")
        if names is None:
            names = []
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
            raise _bad_request("'attributeNames' must be a list of strings")
        rows: list[Mapping[str, Any]] = []
        for _, handler in types:
            rows.extend(handler.query())
        columns = [str(n) for n in names]
        if not columns:
            seen: dict[str, None] = {}
            for _, handler in types:
                seen.update(dict.fromkeys(handler.attribute_names))
            for row in rows:
                seen.update(dict.fromkeys(k for k in row if k not in seen))
            columns = list(seen)
        start = req.offset
        stop = None if req.count is None else start + req.count
        results = [[row.get(c) for c in columns] for row in rows[start:stop]]
        return {"attributeNames": columns, "results": results}
