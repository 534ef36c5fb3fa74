"""The ``$management`` node: AMQP Management requests in, status-coded responses out.

Requests are built as the clients build them (application properties ``operation``, ``type``,
``name``...; an amqp-value map body; ``reply-to`` and ``correlation-id`` in the properties)
and the responses are decoded from the bytes :meth:`ManagementNode.handle` returns, so these
tests see exactly what a management client would see. The node runs over the real
:class:`~qpid_ha.broker.registry.Registry`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import proton
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qpid_ha.amqp.codec import encode_value
from qpid_ha.amqp.message import BodyKind, Message, Properties, encode_message
from qpid_ha.amqp.types import ulong
from qpid_ha.broker.management import (
    BINDING_TYPE,
    CONNECTION_TYPE,
    EXCHANGE_TYPE,
    NODE_TYPE,
    QUEUE_TYPE,
    EntityHandler,
    ManagementError,
    ManagementNode,
    binding_name,
)
from qpid_ha.broker.registry import Registry
from qpid_ha.errors import NotFound

REPLY_TO = "reply-queue"
HA_TYPE = "org.apache.qpid.ha:habroker"


@dataclass
class Response:
    """A decoded management response."""

    to: Any
    correlation_id: Any
    status: int
    description: str
    body: Any


def request(
    operation: str | None,
    type: Any = None,
    name: str | None = None,
    body: Any = None,
    *,
    body_kind: BodyKind | None = None,
    reply_to: str | None = REPLY_TO,
    correlation_id: Any = 1,
    message_id: Any = None,
    **props: Any,
) -> Message:
    """A management request message, as a client sends it."""
    app = {"operation": operation, "type": type, "name": name, **props}
    return Message(
        encode_message(
            body,
            body_kind=body_kind,
            properties=Properties(
                reply_to=reply_to,
                correlation_id=correlation_id,
                message_id=message_id,
            ),
            application_properties={k: v for k, v in app.items() if v is not None},
        )
    )


def decode(data: bytes) -> Response:
    message = Message(data)
    app = message.application_properties
    assert app is not None
    assert isinstance(app["statusCode"], int)
    assert isinstance(app["statusDescription"], str)
    return Response(
        message.to,
        message.correlation_id,
        app["statusCode"],
        app["statusDescription"],
        message.body,
    )


def send(node: ManagementNode, message: Message) -> Response:
    answer = node.handle(message)
    assert answer is not None
    reply_to, data = answer
    response = decode(data)
    assert reply_to == response.to == message.reply_to
    return response


def call(node: ManagementNode, operation: str | None, *args: Any, **kwargs: Any) -> Response:
    return send(node, request(operation, *args, **kwargs))


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
def node(registry: Registry) -> ManagementNode:
    return ManagementNode(registry)


# -- queues ---------------------------------------------------------------------------------


def test_create_queue_answers_created_with_its_attributes(
    node: ManagementNode, registry: Registry
) -> None:
    r = call(node, "CREATE", QUEUE_TYPE, "q1", {"durable": True, "autoDelete": False})
    assert (r.status, r.description) == (201, "Created")
    assert r.body["name"] == "q1"
    assert r.body["durable"] is True
    assert r.body["autoDelete"] is False
    assert r.body["msgDepth"] == 0
    queue = registry.queues["q1"]
    assert queue.durable
    assert not queue.auto_delete


def test_create_queue_accepts_dashed_attribute_names_and_the_short_type_name(
    node: ManagementNode, registry: Registry
) -> None:
    r = call(node, "CREATE", "queue", "q1", {"auto-delete": True, "exclusive": False})
    assert r.status == 201
    assert registry.queues["q1"].auto_delete


def test_read_queue_gives_every_attribute(node: ManagementNode, registry: Registry) -> None:
    call(node, "CREATE", QUEUE_TYPE, "q1")
    r = call(node, "READ", QUEUE_TYPE, "q1")
    assert (r.status, r.description) == (200, "OK")
    queue = registry.queues["q1"]
    assert r.body == {
        "name": "q1",
        "identity": "q1",
        "durable": False,
        "autoDelete": False,
        "exclusive": False,
        "arguments": dict(queue.arguments),
        "alternateExchange": None,
        "msgDepth": 0,
        "byteDepth": 0,
        "consumerCount": 0,
        "msgTotalEnqueues": 0,
        "msgTotalDequeues": 0,
        "acquires": 0,
        "releases": 0,
        "rejects": 0,
        "discardsTtl": 0,
        "discardsRing": 0,
        "discardsPurge": 0,
    }


def test_read_by_identity_works_like_read_by_name(node: ManagementNode) -> None:
    call(node, "CREATE", QUEUE_TYPE, "q1")
    r = call(node, "READ", QUEUE_TYPE, identity="q1")
    assert r.status == 200
    assert r.body["name"] == "q1"


def test_create_then_read_shows_qpid_replicate_in_the_arguments(node: ManagementNode) -> None:
    call(node, "CREATE", QUEUE_TYPE, "flat", {"qpid.replicate": "all"})
    call(node, "CREATE", QUEUE_TYPE, "nested", {"arguments": {"qpid.replicate": "none"}})
    assert call(node, "READ", QUEUE_TYPE, "flat").body["arguments"]["qpid.replicate"] == "all"
    assert call(node, "READ", QUEUE_TYPE, "nested").body["arguments"]["qpid.replicate"] == "none"


def test_create_of_an_existing_queue_is_a_bad_request(
    node: ManagementNode, registry: Registry
) -> None:
    call(node, "CREATE", QUEUE_TYPE, "q1", {"durable": True})
    for body in ({"durable": True}, {"durable": False}):
        r = call(node, "CREATE", QUEUE_TYPE, "q1", body)
        assert r.status == 400
        assert "already exists" in r.description
    assert registry.queues["q1"].durable


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"durabel": True}, "unknown attribute 'durabel'"),
        ({"durable": "maybe"}, "'durable' must be a boolean"),
        ({"arguments": ["qpid.replicate"]}, "'arguments' must be a map"),
        ({"name": "other"}, "names 'other'"),
    ],
)
def test_create_queue_with_a_bad_attribute_is_a_bad_request(
    node: ManagementNode, registry: Registry, body: dict[str, Any], complaint: str
) -> None:
    r = call(node, "CREATE", QUEUE_TYPE, "q1", body)
    assert r.status == 400
    assert complaint in r.description
    assert "q1" not in registry.queues


def test_delete_queue_answers_no_content_and_removes_it(
    node: ManagementNode, registry: Registry
) -> None:
    call(node, "CREATE", QUEUE_TYPE, "q1")
    r = call(node, "DELETE", QUEUE_TYPE, "q1")
    assert (r.status, r.description, r.body) == (204, "No Content", {})
    assert "q1" not in registry.queues
    assert call(node, "READ", QUEUE_TYPE, "q1").status == 404


@pytest.mark.parametrize("operation", ["READ", "DELETE", "purge"])
def test_operations_on_a_missing_queue_are_not_found(node: ManagementNode, operation: str) -> None:
    r = call(node, operation, QUEUE_TYPE, "nope")
    assert r.status == 404
    assert "nope" in r.description


def enqueue(registry: Registry, queue: str, *bodies: str) -> int:
    """Put messages on a queue; return their total encoded size."""
    size = 0
    for body in bodies:
        message = Message(encode_message(body))
        size += len(message.data)
        registry.enqueue([registry.queues[queue]], message, lambda: None)
    return size


def test_read_queue_shows_depth_and_totals(node: ManagementNode, registry: Registry) -> None:
    call(node, "CREATE", QUEUE_TYPE, "q1")
    size = enqueue(registry, "q1", "a", "bb", "ccc")
    r = call(node, "READ", QUEUE_TYPE, "q1")
    assert (r.body["msgDepth"], r.body["byteDepth"]) == (3, size)
    assert (r.body["msgTotalEnqueues"], r.body["msgTotalDequeues"]) == (3, 0)


def test_purge_empties_the_queue_and_answers_the_count(
    node: ManagementNode, registry: Registry
) -> None:
    call(node, "CREATE", QUEUE_TYPE, "q1")
    enqueue(registry, "q1", "a", "b", "c")
    r = call(node, "purge", QUEUE_TYPE, "q1")
    assert (r.status, r.body) == (200, {"purged": 3})
    after = call(node, "READ", QUEUE_TYPE, "q1").body
    assert (after["msgDepth"], after["msgTotalDequeues"], after["discardsPurge"]) == (0, 3, 3)


def test_delete_if_empty_refuses_a_queue_with_messages(
    node: ManagementNode, registry: Registry
) -> None:
    call(node, "CREATE", QUEUE_TYPE, "q1")
    enqueue(registry, "q1", "a")
    r = call(node, "DELETE", QUEUE_TYPE, "q1", {"ifEmpty": True})
    assert r.status == 400
    assert "precondition-failed" in r.description
    assert "q1" in registry.queues
    assert call(node, "DELETE", QUEUE_TYPE, "q1").status == 204


def test_create_queue_with_an_invalid_argument_value_is_a_bad_request(
    node: ManagementNode, registry: Registry
) -> None:
    r = call(node, "CREATE", QUEUE_TYPE, "q1", {"qpid.replicate": "sometimes"})
    assert r.status == 400
    assert "qpid.replicate" in r.description
    assert "q1" not in registry.queues


def test_create_queue_with_a_missing_alternate_exchange_is_not_found(
    node: ManagementNode,
) -> None:
    r = call(node, "CREATE", QUEUE_TYPE, "q1", {"alternateExchange": "nope"})
    assert r.status == 404


def test_create_queue_with_an_alternate_exchange(node: ManagementNode) -> None:
    r = call(node, "CREATE", QUEUE_TYPE, "q1", {"alternate-exchange": "amq.fanout"})
    assert (r.status, r.body["alternateExchange"]) == (201, "amq.fanout")


# -- exchanges ------------------------------------------------------------------------------


def test_create_exchange_takes_the_qpid_config_exchange_type(
    node: ManagementNode, registry: Registry
) -> None:
    r = call(node, "CREATE", EXCHANGE_TYPE, "ex1", {"exchange-type": "topic", "durable": True})
    assert r.status == 201
    assert (r.body["type"], r.body["durable"], r.body["bindingCount"]) == ("topic", True, 0)
    assert registry.exchanges["ex1"].type == "topic"


def test_create_exchange_takes_its_kind_from_type_in_the_body(node: ManagementNode) -> None:
    r = call(node, "CREATE", "exchange", "f", {"type": "fanout"})
    assert (r.status, r.body["type"], r.body["exchangeType"]) == (201, "fanout", "fanout")


@pytest.mark.parametrize(
    ("entity_type", "body", "kind"),
    [
        (EXCHANGE_TYPE, {"type": EXCHANGE_TYPE}, "direct"),
        (EXCHANGE_TYPE, {"type": EXCHANGE_TYPE, "exchange-type": "topic"}, "topic"),
        ("exchange", {"type": "exchange", "exchange-type": "headers"}, "headers"),
    ],
)
def test_create_body_may_repeat_the_entity_type(
    node: ManagementNode, entity_type: str, body: dict[str, Any], kind: str
) -> None:
    r = call(node, "CREATE", entity_type, "ex1", body)
    assert (r.status, r.body["type"]) == (201, kind)
    r = call(node, "CREATE", QUEUE_TYPE, "q1", {"type": QUEUE_TYPE, "name": "q1"})
    assert r.status == 201


def test_create_exchange_of_an_unknown_kind_is_a_bad_request(node: ManagementNode) -> None:
    r = call(node, "CREATE", EXCHANGE_TYPE, "ex1", {"exchange-type": "no-such-kind"})
    assert r.status == 400


def test_read_exchange_counts_its_bindings(node: ManagementNode) -> None:
    call(node, "CREATE", EXCHANGE_TYPE, "ex1", {"exchange-type": "direct"})
    call(node, "CREATE", QUEUE_TYPE, "q1")
    call(node, "CREATE", BINDING_TYPE, body={"exchange": "ex1", "queue": "q1", "key": "a"})
    call(node, "CREATE", BINDING_TYPE, body={"exchange": "ex1", "queue": "q1", "key": "b"})
    r = call(node, "READ", EXCHANGE_TYPE, "ex1")
    assert (r.status, r.body["bindingCount"]) == (200, 2)


def test_delete_exchange_answers_no_content(node: ManagementNode, registry: Registry) -> None:
    call(node, "CREATE", EXCHANGE_TYPE, "ex1")
    assert call(node, "DELETE", EXCHANGE_TYPE, "ex1").status == 204
    assert "ex1" not in registry.exchanges


def test_deleting_a_standard_exchange_is_forbidden(
    node: ManagementNode, registry: Registry
) -> None:
    r = call(node, "DELETE", EXCHANGE_TYPE, "amq.direct")
    assert r.status == 403
    assert "amq.direct" in registry.exchanges


# -- bindings -------------------------------------------------------------------------------


def test_bindings_round_trip(node: ManagementNode, registry: Registry) -> None:
    call(node, "CREATE", EXCHANGE_TYPE, "ex1", {"exchange-type": "topic"})
    call(node, "CREATE", QUEUE_TYPE, "q1")
    r = call(
        node,
        "CREATE",
        BINDING_TYPE,
        body={"exchange": "ex1", "queue": "q1", "bindingKey": "a.#"},
    )
    assert r.status == 201
    name = binding_name("ex1", "q1", "a.#")
    assert name == "ex1/q1/a.#"
    assert (r.body["name"], r.body["key"], r.body["bindingKey"]) == (name, "a.#", "a.#")
    read = call(node, "READ", BINDING_TYPE, name)
    assert (read.status, read.body) == (200, r.body)
    query = call(node, "QUERY", entityType=BINDING_TYPE, body={"attributeNames": ["name"]})
    assert [name] in query.body["results"]
    assert call(node, "DELETE", BINDING_TYPE, name).status == 204
    assert not [b for b in registry.bindings() if b.exchange == "ex1"]
    assert call(node, "READ", BINDING_TYPE, name).status == 404


def test_binding_created_from_its_name_alone(node: ManagementNode, registry: Registry) -> None:
    call(node, "CREATE", EXCHANGE_TYPE, "ex1")
    call(node, "CREATE", QUEUE_TYPE, "q1")
    r = call(node, "CREATE", "binding", "ex1/q1/k/with/slashes")
    assert r.status == 201
    assert (r.body["exchange"], r.body["queue"], r.body["key"]) == ("ex1", "q1", "k/with/slashes")
    assert [(b.queue, b.key) for b in registry.bindings() if b.exchange == "ex1"] == [
        ("q1", "k/with/slashes")
    ]


def test_binding_to_a_missing_queue_is_not_found(node: ManagementNode) -> None:
    call(node, "CREATE", EXCHANGE_TYPE, "ex1")
    r = call(node, "CREATE", BINDING_TYPE, body={"exchange": "ex1", "queue": "nope"})
    assert r.status == 404


def test_binding_without_exchange_or_queue_is_a_bad_request(node: ManagementNode) -> None:
    r = call(node, "CREATE", BINDING_TYPE, body={"queue": "q1"})
    assert r.status == 400


def test_creating_an_existing_binding_is_a_bad_request(node: ManagementNode) -> None:
    call(node, "CREATE", EXCHANGE_TYPE, "ex1")
    call(node, "CREATE", QUEUE_TYPE, "q1")
    body = {"exchange": "ex1", "queue": "q1", "key": "k"}
    assert call(node, "CREATE", BINDING_TYPE, body=body).status == 201
    r = call(node, "CREATE", BINDING_TYPE, body=body)
    assert r.status == 400
    assert "already exists" in r.description


# -- QUERY ----------------------------------------------------------------------------------


def make_queues(node: ManagementNode, count: int) -> list[str]:
    names = [f"q{i:02}" for i in range(count)]
    for name in names:
        assert call(node, "CREATE", QUEUE_TYPE, name).status == 201
    return names


def test_query_returns_the_asked_attributes_of_every_queue(node: ManagementNode) -> None:
    names = make_queues(node, 3)
    r = call(
        node,
        "QUERY",
        NODE_TYPE,
        entityType=QUEUE_TYPE,
        body={"attributeNames": ["name", "msgDepth", "noSuchAttribute"]},
    )
    assert r.status == 200
    assert r.body == {
        "attributeNames": ["name", "msgDepth", "noSuchAttribute"],
        "results": [[name, 0, None] for name in names],
    }


def test_query_without_attribute_names_gives_every_attribute(node: ManagementNode) -> None:
    make_queues(node, 1)
    r = call(node, "QUERY", QUEUE_TYPE)
    assert r.status == 200
    columns = r.body["attributeNames"]
    assert {"name", "durable", "arguments", "msgDepth", "msgTotalEnqueues"} <= set(columns)
    assert len(r.body["results"]) == 1
    assert r.body["results"][0][columns.index("name")] == "q00"


@pytest.mark.parametrize(
    ("offset", "count", "expected"),
    [
        (None, None, range(0, 7)),
        (2, None, range(2, 7)),
        (None, 3, range(0, 3)),
        (3, 3, range(3, 6)),
        (6, 3, range(6, 7)),
        (9, 3, range(0)),
        (0, 0, range(0)),
    ],
)
def test_query_pages_by_offset_and_count(
    node: ManagementNode, offset: int | None, count: int | None, expected: range
) -> None:
    names = make_queues(node, 7)
    r = call(
        node,
        "QUERY",
        entityType="queue",
        offset=offset,
        count=count,
        body={"attributeNames": ["name"]},
    )
    assert r.status == 200
    assert r.body["results"] == [[names[i]] for i in expected]


def test_query_pages_fit_together(node: ManagementNode) -> None:
    names = make_queues(node, 10)
    seen: list[str] = []
    for offset in range(0, 12, 4):
        r = call(
            node,
            "QUERY",
            entityType=QUEUE_TYPE,
            offset=offset,
            count=4,
            body={"attributeNames": ["name"]},
        )
        seen += [row[0] for row in r.body["results"]]
    assert seen == names


def test_query_without_entity_type_covers_every_type(
    node: ManagementNode, registry: Registry
) -> None:
    make_queues(node, 2)
    r = call(node, "QUERY", NODE_TYPE, body={"attributeNames": ["name"]})
    assert r.status == 200
    names = [row[0] for row in r.body["results"]]
    assert {"q00", "q01"} <= set(names)
    assert set(registry.exchanges) <= set(names)


# -- connections ----------------------------------------------------------------------------

CONNECTIONS = [
    {
        "name": "127.0.0.1:5001",
        "address": "127.0.0.1:5001",
        "containerId": "client-a",
        "authIdentity": "anonymous",
        "sessionCount": 1,
        "linkCount": 2,
        "properties": {"qpid.ha-admin": 1},
    },
    {"address": "127.0.0.1:5002", "containerId": "client-b", "sessionCount": 0},
]


def test_connections_query_shows_what_the_provider_gives(registry: Registry) -> None:
    live = list(CONNECTIONS)
    node = ManagementNode(registry, connections=lambda: live)
    body = {"attributeNames": ["name", "containerId", "sessionCount", "properties"]}
    r = call(node, "QUERY", entityType=CONNECTION_TYPE, body=body)
    assert r.status == 200
    assert r.body["results"] == [
        ["127.0.0.1:5001", "client-a", 1, {"qpid.ha-admin": 1}],
        ["127.0.0.1:5002", "client-b", 0, None],
    ]
    live.pop()
    r = call(node, "QUERY", entityType="connection", body=body)
    assert len(r.body["results"]) == 1


def test_connection_read_by_name(registry: Registry) -> None:
    node = ManagementNode(registry, connections=lambda: CONNECTIONS)
    r = call(node, "READ", CONNECTION_TYPE, "127.0.0.1:5002")
    assert r.status == 200
    assert r.body["containerId"] == "client-b"
    assert call(node, "READ", CONNECTION_TYPE, "10.0.0.1:1").status == 404


@pytest.mark.parametrize("operation", ["CREATE", "DELETE", "UPDATE"])
def test_connections_cannot_be_changed(registry: Registry, operation: str) -> None:
    node = ManagementNode(registry, connections=lambda: CONNECTIONS)
    assert call(node, operation, CONNECTION_TYPE, "127.0.0.1:5001").status == 501


# -- node-level operations ------------------------------------------------------------------

STANDARD_TYPES = {QUEUE_TYPE, EXCHANGE_TYPE, BINDING_TYPE, CONNECTION_TYPE}


def test_get_types_lists_every_entity_type(node: ManagementNode) -> None:
    r = call(node, "GET-TYPES", NODE_TYPE, "self")
    assert r.status == 200
    assert set(r.body) == STANDARD_TYPES | {NODE_TYPE}


def test_get_attributes_of_one_type(node: ManagementNode) -> None:
    r = call(node, "GET-ATTRIBUTES", NODE_TYPE, entityType="queue")
    assert r.status == 200
    assert set(r.body) == {QUEUE_TYPE}
    assert {"name", "durable", "msgDepth", "consumerCount"} <= set(r.body[QUEUE_TYPE])


def test_get_operations_lists_the_operations_of_each_type(node: ManagementNode) -> None:
    r = call(node, "GET-OPERATIONS", NODE_TYPE)
    assert r.status == 200
    assert set(r.body[QUEUE_TYPE]) == {"CREATE", "READ", "DELETE", "QUERY", "purge"}
    assert set(r.body[CONNECTION_TYPE]) == {"READ", "QUERY"}
    assert "GET-TYPES" in r.body[NODE_TYPE]


def test_get_mgmt_nodes_names_no_other_node(node: ManagementNode) -> None:
    r = call(node, "GET-MGMT-NODES", NODE_TYPE)
    assert (r.status, r.body) == (200, [])


# -- status codes for requests the node cannot perform ---------------------------------------


def test_unknown_entity_type_is_not_implemented(node: ManagementNode) -> None:
    r = call(node, "READ", "org.example:widget", "w")
    assert r.status == 501
    assert "org.example:widget" in r.description
    assert call(node, "QUERY", entityType="widget").status == 501


@pytest.mark.parametrize("operation", ["UPDATE", "frobnicate"])
def test_operation_the_type_lacks_is_not_implemented(node: ManagementNode, operation: str) -> None:
    call(node, "CREATE", QUEUE_TYPE, "q1")
    r = call(node, operation, QUEUE_TYPE, "q1", {"durable": True})
    assert r.status == 501
    assert operation in r.description


def test_entity_operation_on_the_node_type_is_not_implemented(node: ManagementNode) -> None:
    assert call(node, "CREATE", NODE_TYPE, "self").status == 501


@pytest.mark.parametrize(
    ("message", "complaint"),
    [
        (request(None, QUEUE_TYPE, "q1"), "operation"),
        (request("READ", None, "q1"), "'type'"),
        (request("READ", QUEUE_TYPE, None), "'name'"),
        (request("DELETE", QUEUE_TYPE, None), "'name'"),
        (request("CREATE", QUEUE_TYPE, "q1", ["durable"]), "amqp-value map"),
        (request("CREATE", QUEUE_TYPE, "q1", "durable"), "amqp-value map"),
        (request("CREATE", QUEUE_TYPE, "q1", b"{}"), "amqp-value map"),
        (request("CREATE", QUEUE_TYPE, "q1", {1: True}), "string keys"),
        (request("QUERY", QUEUE_TYPE, body={"attributeNames": "name"}), "attributeNames"),
        (request("QUERY", QUEUE_TYPE, offset=-1), "'offset'"),
        (request("QUERY", QUEUE_TYPE, count="10"), "'count'"),
        (request("READ", 7, "q1"), "'type'"),
    ],
    ids=[
        "no-operation",
        "no-type",
        "read-no-name",
        "delete-no-name",
        "list-body",
        "string-body",
        "data-body",
        "non-string-keys",
        "attribute-names-not-a-list",
        "negative-offset",
        "string-count",
        "numeric-type",
    ],
)
def test_malformed_requests_are_bad_requests(
    node: ManagementNode, message: Message, complaint: str
) -> None:
    r = send(node, message)
    assert r.status == 400
    assert complaint in r.description
    assert r.body == {}


def test_request_without_application_properties_is_a_bad_request(node: ManagementNode) -> None:
    message = Message(encode_message({}, reply_to=REPLY_TO, correlation_id=5))
    r = send(node, message)
    assert (r.status, r.correlation_id) == (400, 5)
    assert "application-properties" in r.description


def test_request_with_undecodable_application_properties_is_a_bad_request(
    node: ManagementNode,
) -> None:
    properties = encode_message(None, body_kind=BodyKind.NONE, reply_to=REPLY_TO)
    bad_app_properties = b"\x00\x53\x74" + bytes(encode_value({1: "READ"}))
    r = send(node, Message(properties + bad_app_properties))
    assert r.status == 400
    assert "application-properties" in r.description


def test_request_with_an_unanswerable_correlation_id_is_dropped(node: ManagementNode) -> None:
    # correlation-id -1 as an AMQP long: message ids are ulong, uuid, binary or string
    properties = bytearray()
    Properties(reply_to=REPLY_TO, correlation_id=-1).encode_amqp(properties)
    rest = encode_message({}, application_properties={"operation": "GET-TYPES"})
    message = Message(bytes(properties) + rest)
    assert message.correlation_id == -1
    assert node.handle(message) is None


def test_request_without_reply_to_is_dropped(node: ManagementNode, registry: Registry) -> None:
    assert node.handle(request("CREATE", QUEUE_TYPE, "q1", reply_to=None)) is None
    assert "q1" not in registry.queues  # not even performed, as in Dispatch
    assert node.handle(Message(encode_message({}))) is None


# -- correlation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "correlation_id", [ulong(7), "req-1", uuid.UUID(int=3), b"\x01\x02"], ids=repr
)
def test_response_carries_the_request_correlation_id(
    node: ManagementNode, correlation_id: Any
) -> None:
    r = call(node, "GET-TYPES", correlation_id=correlation_id, message_id="mid")
    assert r.correlation_id == correlation_id
    assert type(r.correlation_id) is type(correlation_id)


def test_response_correlates_by_message_id_when_there_is_no_correlation_id(
    node: ManagementNode,
) -> None:
    r = call(node, "GET-TYPES", correlation_id=None, message_id="mid-9")
    assert r.correlation_id == "mid-9"


def test_error_responses_are_correlated_too(node: ManagementNode) -> None:
    r = call(node, "READ", QUEUE_TYPE, "nope", correlation_id="c-404")
    assert (r.status, r.correlation_id, r.to) == (404, "c-404", REPLY_TO)


# -- plugged-in entity types ----------------------------------------------------------------


class HaBroker:
    """A stand-in for the HA layer's ``org.apache.qpid.ha:habroker`` handler."""

    attribute_names: Sequence[str] = ("name", "status", "brokersUrl")
    operations: Sequence[str] = ("READ", "QUERY", "promote", "replicate")

    def __init__(self) -> None:
        self.status = "joining"
        self.calls: list[tuple[str, str | None, dict[str, Any]]] = []

    def _attributes(self) -> dict[str, Any]:
        return {"name": "ha-broker", "status": self.status, "brokersUrl": "amqp://a,amqp://b"}

    def read(self, name: str) -> Mapping[str, Any]:
        if name != "ha-broker":
            raise NotFound(f"no habroker {name!r}")
        return self._attributes()

    def query(self) -> Iterable[Mapping[str, Any]]:
        return [self._attributes()]

    def invoke(self, operation: str, name: str | None, arguments: Mapping[str, Any]) -> Any:
        self.calls.append((operation, name, dict(arguments)))
        if operation == "promote":
            if self.status == "active":
                raise ManagementError(400, "already active")
            self.status = "active"
            return {"status": self.status}
        return None


@pytest.fixture
def ha() -> HaBroker:
    return HaBroker()


@pytest.fixture
def ha_node(registry: Registry, ha: HaBroker) -> ManagementNode:
    entities: dict[str, EntityHandler] = {HA_TYPE: ha}
    return ManagementNode(registry, entities=entities)


def test_plugged_in_type_answers_its_custom_operation(
    ha_node: ManagementNode, ha: HaBroker
) -> None:
    r = call(ha_node, "promote", HA_TYPE, "ha-broker", {})
    assert (r.status, r.body) == (200, {"status": "active"})
    assert ha.calls == [("promote", "ha-broker", {})]
    assert call(ha_node, "READ", "habroker", "ha-broker").body["status"] == "active"


def test_plugged_in_operation_names_match_case_insensitively(
    ha_node: ManagementNode, ha: HaBroker
) -> None:
    r = call(ha_node, "REPLICATE", HA_TYPE, "ha-broker", {"queue": "q1", "level": "all"})
    assert (r.status, r.body) == (200, {})
    assert ha.calls == [("replicate", "ha-broker", {"queue": "q1", "level": "all"})]


def test_plugged_in_type_errors_become_status_codes(ha_node: ManagementNode) -> None:
    call(ha_node, "promote", HA_TYPE, "ha-broker")
    r = call(ha_node, "promote", HA_TYPE, "ha-broker")
    assert (r.status, r.description) == (400, "already active")
    assert call(ha_node, "READ", HA_TYPE, "other").status == 404
    assert call(ha_node, "DELETE", HA_TYPE, "ha-broker").status == 501


def test_plugged_in_type_is_listed_and_queried(ha_node: ManagementNode) -> None:
    assert HA_TYPE in call(ha_node, "GET-TYPES").body
    ops = call(ha_node, "GET-OPERATIONS", entityType=HA_TYPE).body
    assert ops == {HA_TYPE: ["READ", "QUERY", "promote", "replicate"]}
    r = call(ha_node, "QUERY", entityType=HA_TYPE, body={"attributeNames": ["status"]})
    assert r.body["results"] == [["joining"]]


class Broken:
    """A handler that fails in every way a buggy plug-in can."""

    attribute_names: Sequence[str] = ("name",)
    operations: Sequence[str] = ("READ", "QUERY", "explode", "unencodable")

    def read(self, name: str) -> Mapping[str, Any]:
        raise KeyError(name)

    def query(self) -> Iterable[Mapping[str, Any]]:
        raise RuntimeError("query broke")

    def invoke(self, operation: str, name: str | None, arguments: Mapping[str, Any]) -> Any:
        if operation == "explode":
            raise ZeroDivisionError("boom")
        return {"value": object()}


@pytest.mark.parametrize("operation", ["READ", "QUERY", "explode", "unencodable"])
def test_unexpected_failures_are_internal_server_errors(registry: Registry, operation: str) -> None:
    node = ManagementNode(registry, entities={"org.example:broken": Broken()})
    r = call(node, operation, "org.example:broken", "x", correlation_id="c")
    assert (r.status, r.correlation_id, r.body) == (500, "c", {})
    assert r.description.startswith("internal error")


# -- robustness -----------------------------------------------------------------------------

_SIMPLE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=8),
    st.sampled_from(["CREATE", "READ", "DELETE", "QUERY", "UPDATE", "GET-TYPES", "purge"]),
    st.sampled_from([QUEUE_TYPE, EXCHANGE_TYPE, BINDING_TYPE, "queue", "binding", NODE_TYPE]),
)
_KEYS = st.sampled_from(
    ["operation", "type", "name", "identity", "entityType", "offset", "count", "other"]
)
_BODIES = st.recursive(
    _SIMPLE,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.one_of(
                st.sampled_from(
                    ["durable", "arguments", "exchange", "queue", "key", "attributeNames", "x"]
                ),
                st.text(max_size=4),
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=8,
)


@given(props=st.dictionaries(_KEYS, _SIMPLE, max_size=7), body=_BODIES)
def test_every_request_gets_a_status_coded_response(props: dict[str, Any], body: Any) -> None:
    node = ManagementNode(Registry())
    message = Message(
        encode_message(body, application_properties=props, reply_to=REPLY_TO, correlation_id="c")
    )
    r = send(node, message)
    assert r.status in {200, 201, 204, 400, 403, 404, 501}
    assert r.correlation_id == "c"


# -- a real client's encoding ---------------------------------------------------------------


def test_proton_request_and_response_round_trip(node: ManagementNode) -> None:
    """A request encoded by python-qpid-proton, as ``SyncRequestResponse`` sends it."""
    create = proton.Message(
        body={"durable": True, "qpid.replicate": "all"},
        properties={"operation": "CREATE", "type": QUEUE_TYPE, "name": "pq"},
        reply_to="amqp:/_dynamic/reply-1",
        correlation_id=1,
        address="$management",
    )
    answer = node.handle(Message(create.encode()))
    assert answer is not None
    reply_to, data = answer
    assert reply_to == "amqp:/_dynamic/reply-1"
    response = proton.Message()
    response.decode(data)
    assert response.properties == {"statusCode": 201, "statusDescription": "Created"}
    assert response.correlation_id == 1
    assert response.address == "amqp:/_dynamic/reply-1"
    assert response.body["arguments"]["qpid.replicate"] == "all"

    query = proton.Message(
        body={"attributeNames": ["name", "durable"]},
        properties={"operation": "QUERY", "entityType": "queue", "offset": 0, "count": 10},
        reply_to="amqp:/_dynamic/reply-1",
        id="m-2",
    )
    answer = node.handle(Message(query.encode()))
    assert answer is not None
    response.decode(answer[1])
    assert response.properties["statusCode"] == 200
    assert response.correlation_id == "m-2"
    assert response.body == {"attributeNames": ["name", "durable"], "results": [["pq", True]]}
