"""qpid.messaging address strings, option maps and connection options, and how addresses map
onto AMQP 1.0 sources and targets (checked against our broker over memory streams)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qpid_ha.amqp import (
    Connection,
    ConnectionOpened,
    DeliveryReceived,
    DeliveryUpdated,
    Event,
    Link,
    LinkAttached,
    LinkDetached,
    Session,
    encode_message,
)
from qpid_ha.amqp.message import Message as AmqpMessage
from qpid_ha.amqp.performatives import ReceiverSettleMode, SenderSettleMode
from qpid_ha.amqp.terminus import DeleteOnClose, DeleteOnNoLinks, Source, Target
from qpid_ha.amqp.types import Described, symbol, ulong
from qpid_ha.broker.broker import Broker
from qpid_ha.client.address import (
    DIRECT_BINDING_FILTER,
    SELECTOR_FILTER,
    TOPIC_BINDING_FILTER,
    Address,
    format_map,
    format_value,
    link_name,
    parse_address,
    parse_connection_options,
    parse_map,
    reliability,
    source_for,
    target_for,
)
from qpid_ha.errors import InvalidArgument
from qpid_ha.testing import MemoryByteStream, memory_stream_pair

# ---------------------------------------------------------------------------------------------
# The map syntax
# ---------------------------------------------------------------------------------------------


def test_the_user_guide_connection_options_parse() -> None:
    text = (
        "{reconnect:true, heartbeat:10, reconnect_urls:['a:1','b:2'],"
        " x-declare:{arguments:{'qpid.replicate':all}}}"
    )
    assert parse_map(text) == {
        "reconnect": True,
        "heartbeat": 10,
        "reconnect_urls": ["a:1", "b:2"],
        "x-declare": {"arguments": {"qpid.replicate": "all"}},
    }


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("true", True),
        ("True", True),
        ("false", False),
        ("False", False),
        ("10", 10),
        ("-3", -3),
        ("+7", 7),
        ("2.5", 2.5),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("-1.5e-2", -0.015),
        ("all", "all"),
        ("always", "always"),
        ("amq.topic", "amq.topic"),
        ("news.#", "news.#"),
        ("a/b$c*d", "a/b$c*d"),
        ("1.2.3", "1.2.3"),
        ("TRUE", "TRUE"),
        ("inf", "inf"),
        ("nan", "nan"),
    ],
)
def test_bare_words_are_bools_numbers_or_strings(word: str, value: Any) -> None:
    parsed = parse_map(f"{{k:{word}}}")["k"]
    assert parsed == value
    assert type(parsed) is type(value)


def test_keys_are_words_or_quoted_strings_and_always_strings() -> None:
    assert parse_map("{qpid.replicate:all, 'a key':1, \"b\":2, 10:x, x-y_z/$:3}") == {
        "qpid.replicate": "all",
        "a key": 1,
        "b": 2,
        "10": "x",
        "x-y_z/$": 3,
    }


def test_equals_works_as_the_key_value_separator() -> None:
    assert parse_map("{a=1, b:2}") == {"a": 1, "b": 2}


def test_whitespace_between_tokens_is_ignored() -> None:
    assert parse_map(" \n{ a :\t[ 1 , { b : c } ] ,\r\n d : '' } ") == {
        "a": [1, {"b": "c"}],
        "d": "",
    }


def test_empty_maps_and_lists() -> None:
    assert parse_map("{}") == {}
    assert parse_map("{a:[], b:{}}") == {"a": [], "b": {}}


def test_quoted_strings_take_either_quote_and_python_escapes() -> None:
    text = r"""{a:'it\'s', b:"say \"hi\"", c:'\n\t\\', d:'\x41\u00e9\U0001F600', e:"'"}"""
    assert parse_map(text) == {
        "a": "it's",
        "b": 'say "hi"',
        "c": "\n\t\\",
        "d": "Aé\U0001f600",
        "e": "'",
    }


def test_quoted_numbers_and_bools_stay_strings() -> None:
    assert parse_map("{a:'10', b:'true'}") == {"a": "10", "b": "true"}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "expected '{', found the end (at position 0)"),
        ("[1]", "expected '{', found '[' (at position 0)"),
        ("{a:1", "expected ',' or '}' after the value of 'a', found the end (at position 4)"),
        ("{a 1}", "expected ':' or '=' after key 'a', found '1' (at position 3)"),
        ("{a:}", "expected a value, found '}' (at position 3)"),
        ("{a:1,}", "expected a key, found '}' (at position 5)"),
        ("{,}", "expected a key, found ',' (at position 1)"),
        ("{a:[1 2]}", "expected ',' or ']' in a list, found '2' (at position 6)"),
        ("{a:'x}", "unterminated quoted string (at position 3)"),
        ("{a:'x\\", "unterminated quoted string (at position 3)"),
        ("{a:'\\q'}", "unknown escape \\q (at position 4)"),
        ("{a:'\\x4'}", "\\x needs 2 hex digits (at position 4)"),
        ("{a:'\\U00110000'}", "\\U00110000 is not a Unicode code point (at position 4)"),
        ("{a:1,a:2}", "key 'a' given twice (at position 5)"),
        ("{a:1} x", "unexpected 'x' after the map (at position 6)"),
        ("{url:a:1}", "found ':' (quote strings that hold other characters) (at position 6)"),
    ],
)
def test_malformed_maps_are_refused_with_the_position(text: str, error: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid map") as info:
        parse_map(text)
    assert info.value.description.endswith(error)


def test_absurdly_deep_nesting_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(InvalidArgument, match="nested deeper than 64"):
        parse_map("{a:" + "[" * 1000 + "]" * 1000 + "}")


def test_a_map_must_be_given_as_text() -> None:
    with pytest.raises(InvalidArgument, match="not bytes"):
        parse_map(b"{}")  # type: ignore[arg-type]


def test_format_map_writes_bare_words_where_they_read_back_the_same() -> None:
    assert (
        format_map({"a": "all", "b": "10", "c": True, "qpid.replicate": "x y", "n": [1, 2.5]})
        == "{a:all, b:'10', c:true, qpid.replicate:'x y', n:[1, 2.5]}"
    )
    assert format_value("it's\n") == r"'it\'s\n'"


@pytest.mark.parametrize("value", [None, b"x", math.nan, math.inf, {1: 2}, object()])
def test_format_value_refuses_what_the_syntax_cannot_express(value: Any) -> None:
    with pytest.raises(InvalidArgument):
        format_value(value)


_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.sampled_from(["all", "true", "False", "10", "-1.5", "1e3", "a.b/c", "#", "", " "]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_maps = st.dictionaries(st.text(max_size=8), _values, max_size=6)


@given(_maps)
def test_any_map_written_by_format_map_parses_back_equal(value: dict[str, Any]) -> None:
    parsed = parse_map(format_map(value))
    assert parsed == value
    assert repr(parsed) == repr(value)  # same types: 1 stays int, 1.0 float, '1' str


@given(st.text(max_size=30))
def test_arbitrary_text_parses_or_is_refused_with_invalid_argument(text: str) -> None:
    try:
        parse_map(text)
    except InvalidArgument as e:
        assert "(at position" in e.description


# ---------------------------------------------------------------------------------------------
# Address strings
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "subject"),
    [
        ("myqueue", "myqueue", None),
        ("amq.topic/news.#", "amq.topic", "news.#"),
        ("ex/a/b", "ex", "a/b"),
        ("  spaced  /  subj  ", "spaced", "subj"),
        ("my queue", "my queue", None),
        ("'my/queue;1'/subject", "my/queue;1", "subject"),
        ("q/'a;b'", "q", "a;b"),
        ("pre'fix/'post", "prefix/post", None),
        ("#", "#", None),
        ("q/", "q", None),
    ],
)
def test_names_and_subjects(text: str, name: str, subject: str | None) -> None:
    address = parse_address(text)
    assert (address.name, address.subject, address.options) == (name, subject, {})


def test_options_follow_a_semicolon() -> None:
    address = parse_address(
        "myqueue; {create: always, node: {x-declare: {arguments: {'qpid.replicate': all}}}}"
    )
    assert address == Address(
        "myqueue",
        None,
        {"create": "always", "node": {"x-declare": {"arguments": {"qpid.replicate": "all"}}}},
    )


def test_a_hash_name_is_a_temporary_node() -> None:
    assert parse_address("#").is_temporary
    assert not parse_address("q#").is_temporary


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "an address needs a name (at position 0)"),
        ("  /subject", "an address needs a name (at position 0)"),
        ("q;", "expected '{' after ';', found the end (at position 2)"),
        ("q;create:always", "expected '{' after ';', found 'c' (at position 2)"),
        ("q;{create:always} x", "unexpected 'x' after the address (at position 18)"),
        ("q {create:always}", "unexpected '{' (options follow a ';'"),
        ("'q", "unterminated quoted string (at position 0)"),
        ("q;{create:always", "found the end (at position 16)"),
    ],
)
def test_malformed_addresses_are_refused_with_the_position(text: str, error: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid address") as info:
        parse_address(text)
    assert error in info.value.description


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ("{colour:red}", "unknown address option colour (expected one of create, assert"),
        ("{create:sometimes}", "address option create must be one of always, sender, receiver"),
        ("{assert:yes}", "address option assert must be one of"),
        ("{delete:1}", "address option delete must be one of"),
        ("{mode:peek}", "address option mode must be one of browse, consume, not 'peek'"),
        ("{node:1}", "address option node must be a map"),
        ("{node:{type:exchange}}", "address option node.type must be one of queue, topic"),
        ("{node:{durable:yes}}", "address option node.durable must be true or false"),
        ("{node:{colour:red}}", "unknown address option node.colour"),
        ("{node:{x-declare:{arguments:1}}}", "node.x-declare.arguments must be a map"),
        ("{node:{x-declare:{passive:true}}}", "unknown address option node.x-declare.passive"),
        ("{node:{x-declare:{auto-delete:1}}}", "node.x-declare.auto-delete must be true or"),
        ("{node:{capabilities:[1]}}", "node.capabilities must be a list of strings"),
        ("{node:{properties:{lifetime-policy:x}}}", "lifetime-policy must be one of"),
        ("{node:{x-bindings:{}}}", "node.x-bindings must be a list"),
        ("{link:{reliability:sometimes}}", "link.reliability must be one of unreliable"),
        ("{link:{durable:1}}", "link.durable must be true or false"),
        ("{link:{name:[]}}", "link.name must be a string"),
        ("{link:{timeout:-1}}", "link.timeout must be a whole number of seconds"),
        ("{link:{colour:red}}", "unknown address option link.colour"),
        ("{selector:1}", "address option selector must be a string"),
        ("{filter:1}", "address option filter must be a selector string, a map"),
        ("{filter:{name:f, value:1}}", "address option filter needs a descriptor"),
        ("{filter:{name:f, descriptor:1, value:1, x:2}}", "unknown address option filter.x"),
        ("{filter:{name:f, descriptor:-1, value:1}}", "filter.descriptor must be a symbol"),
        ("{link:{filter:[1]}}", "address option link.filter[0] must be a map"),
        ("{selector:'a=1', link:{selector:'b=1'}}", "selector given both at the top and in"),
    ],
)
def test_bad_options_are_refused_naming_the_option(options: str, error: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid address") as info:
        parse_address("q;" + options)
    assert error in info.value.description


def test_an_address_built_by_hand_is_checked_too() -> None:
    with pytest.raises(InvalidArgument, match="unknown address option colour"):
        Address("q", None, {"colour": "red"})
    with pytest.raises(InvalidArgument, match="needs a name"):
        Address("")


def test_every_option_the_spec_defines_is_accepted() -> None:
    address = parse_address(
        "q/s; {create: receiver, assert: never, delete: sender, mode: consume,"
        " node: {type: queue, durable: true, x-bindings: [{exchange: amq.topic, key: k}],"
        "        x-declare: {arguments: {x: 1}, auto-delete: true, exclusive: false,"
        "                    durable: true, type: direct, alternate-exchange: ae},"
        "        properties: {lifetime-policy: delete-if-unused}, capabilities: [shared]},"
        " link: {name: l, durable: false, reliability: at-least-once, timeout: 5,"
        "        x-declare: {arguments: {}}, x-subscribe: {exclusive: true}, x-bindings: [],"
        "        selector: 'a = 1', filter: [{name: f, descriptor: 1, value: x}]},"
        " filter: 'b = 2'}"
    )
    assert address.node_type == "queue"


_names = st.text(min_size=1, max_size=12) | st.sampled_from(["#", "a}", " x ", "a/b", "'"])
_option_sets = st.sampled_from(
    [
        {},
        {"create": "always"},
        {"mode": "browse", "link": {"name": "it's", "durable": True}},
        {"node": {"type": "topic", "x-declare": {"arguments": {"qpid.replicate": "all"}}}},
    ]
)


@given(_names, st.none() | _names, _option_sets)
def test_str_of_an_address_parses_back_equal(
    name: str, subject: str | None, options: dict[str, Any]
) -> None:
    address = Address(name, subject, options)
    assert parse_address(str(address)) == address


def test_str_of_an_address_with_options_the_syntax_cannot_write_falls_back_to_repr() -> None:
    address = Address("q", None, {"node": {"properties": {"x": None}}})
    assert str(address) == "q;{'node': {'properties': {'x': None}}}"


def test_str_of_an_address_is_the_familiar_form() -> None:
    assert str(parse_address("amq.topic/news.#;{mode:browse}")) == "amq.topic/news.#;{mode:browse}"
    assert str(Address("a/b", "c;d")) == "'a/b'/'c;d'"


# ---------------------------------------------------------------------------------------------
# Mapping onto sources and targets
# ---------------------------------------------------------------------------------------------

REPLICATED = "myqueue;{create:always,node:{x-declare:{arguments:{'qpid.replicate':all}}}}"


def test_create_always_with_x_declare_arguments_gives_the_target_qpid_sends() -> None:
    assert target_for(parse_address(REPLICATED)) == Target(
        address="myqueue",
        capabilities=("create-on-demand",),
        dynamic_node_properties={"qpid.replicate": "all"},
    )


def test_a_plain_name_is_a_plain_terminus() -> None:
    address = parse_address("q")
    assert target_for(address) == Target(address="q")
    assert source_for(address) == Source(address="q")


def test_node_type_and_durable_become_capabilities_and_node_properties() -> None:
    address = parse_address("q;{create:always, node:{type:queue, durable:true}}")
    assert target_for(address) == Target(
        address="q",
        capabilities=("create-on-demand", "queue", "durable"),
        dynamic_node_properties={"supported-dist-modes": "move", "durable": True},
    )
    topic = target_for(parse_address("t;{create:always, node:{type:topic}}"))
    assert topic.capabilities == ("create-on-demand", "topic")
    assert topic.dynamic_node_properties == {"supported-dist-modes": "copy"}


def test_x_declare_is_flattened_into_node_properties() -> None:
    address = parse_address(
        "x;{create:always, node:{type:topic, x-declare:{type:fanout, auto-delete:true,"
        " exclusive:true, alternate-exchange:ae, arguments:{'qpid.replicate':all, n:5}}}}"
    )
    assert target_for(address).dynamic_node_properties == {
        "supported-dist-modes": "copy",
        "exchange-type": "fanout",
        "auto-delete": True,
        "exclusive": True,
        "alternate-exchange": "ae",
        "qpid.replicate": "all",
        "n": 5,
    }


def test_node_property_keys_are_sent_as_symbols() -> None:
    props = target_for(parse_address(REPLICATED)).dynamic_node_properties
    assert props is not None
    assert all(type(key) is symbol for key in props)


def test_create_applies_to_the_role_it_names() -> None:
    for_receivers = parse_address("q;{create:receiver, node:{type:queue}}")
    assert source_for(for_receivers).capabilities == ("create-on-demand", "queue")
    assert source_for(for_receivers).dynamic_node_properties == {"supported-dist-modes": "move"}
    # For a sender, only the node type is asked for: no creation, no properties.
    assert target_for(for_receivers) == Target(address="q", capabilities=("queue",))
    for_senders = parse_address("q;{create:sender}")
    assert target_for(for_senders).capabilities == ("create-on-demand",)
    assert source_for(for_senders).capabilities is None
    never = parse_address("q;{create:never, node:{x-declare:{arguments:{a:1}}}}")
    assert target_for(never) == Target(address="q")


def test_assert_sends_the_node_properties_without_creating() -> None:
    address = parse_address("q;{assert:always, node:{type:queue, x-declare:{arguments:{a:1}}}}")
    assert target_for(address) == Target(
        address="q",
        capabilities=("queue",),
        dynamic_node_properties={"supported-dist-modes": "move", "a": 1},
    )


def test_node_capabilities_and_properties_are_passed_through() -> None:
    address = parse_address(
        "q;{create:always, node:{capabilities:[shared, create-on-demand],"
        " properties:{lifetime-policy:delete-if-unused, x:1}}}"
    )
    target = target_for(address)
    assert target.capabilities == ("shared", "create-on-demand")
    assert target.dynamic_node_properties == {"lifetime-policy": DeleteOnNoLinks(), "x": 1}


def test_a_temporary_address_is_a_dynamic_terminus_deleted_on_close() -> None:
    source = source_for(parse_address("#"))
    assert (source.address, source.dynamic) == (None, True)
    assert source.dynamic_node_properties == {"lifetime-policy": DeleteOnClose()}
    target = target_for(parse_address("#;{node:{x-declare:{auto-delete:true}}}"))
    assert (target.address, target.dynamic) == (None, True)
    assert target.dynamic_node_properties == {"auto-delete": True}


def test_a_durable_link_keeps_its_state_and_never_expires() -> None:
    source = source_for(parse_address("amq.topic;{link:{durable:true, timeout:30}}"))
    assert (source.durable, source.expiry_policy, source.timeout) == (2, "never", 30)
    target = target_for(parse_address("q;{link:{durable:true}}"))
    assert (target.durable, target.expiry_policy) == (2, "never")


def test_browse_mode_copies_instead_of_consuming() -> None:
    assert source_for(parse_address("q;{mode:browse}")).distribution_mode == "copy"
    assert source_for(parse_address("q;{mode:consume}")).distribution_mode is None


def _subject_filter(text: str) -> Any:
    filters = source_for(parse_address(text)).filter
    return None if filters is None else filters.get("subject-filter")


def test_a_subject_binds_a_receiver_on_an_exchange() -> None:
    assert _subject_filter("amq.topic/news;{node:{type:topic}}") == Described(
        symbol(TOPIC_BINDING_FILTER), "news"
    )
    # Without a node type the node may be an exchange: qpid's client picks the descriptor
    # from the key, a topic pattern when it has wildcards.
    assert _subject_filter("amq.topic/news.#") == Described(symbol(TOPIC_BINDING_FILTER), "news.#")
    assert _subject_filter("amq.direct/key") == Described(symbol(DIRECT_BINDING_FILTER), "key")


def test_a_subject_on_a_queue_adds_no_filter() -> None:
    assert source_for(parse_address("q/s;{node:{type:queue}}")).filter is None


def test_a_subject_is_not_a_filter_for_senders() -> None:
    assert target_for(parse_address("amq.topic/news")) == Target(address="amq.topic")


def test_selectors_and_filters_become_source_filters() -> None:
    selector = Described(symbol(SELECTOR_FILTER), "colour = 'red'")
    for text in (
        "q;{selector:\"colour = 'red'\"}",
        "q;{link:{selector:\"colour = 'red'\"}}",
        "q;{filter:\"colour = 'red'\"}",
        "q;{link:{filter:\"colour = 'red'\"}}",
    ):
        assert source_for(parse_address(text)).filter == {"selector": selector}, text
    custom = source_for(
        parse_address(
            "q;{filter:{name:f, descriptor:'x:y', value:1},"
            " link:{filter:[{name:g, descriptor:1234, value:[a]}]}}"
        )
    ).filter
    assert custom == {"f": Described(symbol("x:y"), 1), "g": Described(ulong(1234), ["a"])}
    assert custom is not None
    assert type(custom["g"].descriptor) is ulong


def test_link_name_is_the_option_else_the_default_else_unique() -> None:
    assert link_name(parse_address("q;{link:{name:sub}}"), "other") == "sub"
    assert link_name(parse_address("q"), "other") == "other"
    first, second = link_name(parse_address("q")), link_name(parse_address("q"))
    assert first.startswith("q_") and second.startswith("q_") and first != second


@pytest.mark.parametrize(
    ("text", "snd"),
    [
        ("q", SenderSettleMode.UNSETTLED),
        ("q;{link:{reliability:unreliable}}", SenderSettleMode.SETTLED),
        ("q;{link:{reliability:at-most-once}}", SenderSettleMode.SETTLED),
        ("q;{link:{reliability:at-least-once}}", SenderSettleMode.UNSETTLED),
        ("q;{link:{reliability:exactly-once}}", SenderSettleMode.UNSETTLED),
        ("q;{mode:browse}", SenderSettleMode.SETTLED),
        ("q;{mode:browse, link:{reliability:at-least-once}}", SenderSettleMode.UNSETTLED),
    ],
)
def test_reliability_chooses_the_settle_modes(text: str, snd: int) -> None:
    assert reliability(parse_address(text)) == (snd, ReceiverSettleMode.FIRST)


# ---------------------------------------------------------------------------------------------
# The termini against our broker
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Client:
    """Our engine over a memory stream to the broker, attaching links by address string."""

    def __init__(self, stream: MemoryByteStream) -> None:
        self.stream = stream
        self.engine = Connection(container_id="address-test")
        self.events: list[Event] = []
        self.session: Session | None = None

    async def until(self, done: Callable[[], bool]) -> None:
        with anyio.fail_after(5):
            while True:
                data = self.engine.data_to_send()
                if data:
                    await self.stream.send(data)
                if done():
                    return
                with anyio.move_on_after(0.01):
                    self.engine.receive_data(await self.stream.receive())
                    self.events.extend(self.engine.events())

    def count(self, kind: type[Event]) -> int:
        return sum(isinstance(e, kind) for e in self.events)

    async def begin(self) -> Session:
        self.engine.open()
        self.session = self.engine.begin()
        await self.until(lambda: self.count(ConnectionOpened) > 0)
        return self.session

    async def attach(self, text: str, *, sender: bool) -> Link:
        assert self.session is not None
        address = parse_address(text)
        before = self.count(LinkAttached) + self.count(LinkDetached)
        if sender:
            link = self.session.attach_sender(link_name(address), target=target_for(address))
        else:
            link = self.session.attach_receiver(link_name(address), source=source_for(address))
        await self.until(lambda: self.count(LinkAttached) + self.count(LinkDetached) > before)
        return link


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    async with Broker(port=0) as b:
        yield b


@pytest.fixture
async def client(broker: Broker) -> AsyncIterator[Client]:
    ours, theirs = memory_stream_pair()
    async with anyio.create_task_group() as tg:
        tg.start_soon(broker.serve_stream, theirs)
        client = Client(ours)
        await client.begin()
        yield client
        await ours.aclose()


@pytest.mark.anyio
async def test_the_replicate_address_creates_a_replicated_queue_on_our_broker(
    broker: Broker, client: Client
) -> None:
    link = await client.attach(REPLICATED, sender=True)
    assert link.remote_detach is None
    assert broker.registry.queues["myqueue"].arguments["qpid.replicate"] == "all"


@pytest.mark.anyio
async def test_node_settings_reach_our_broker(broker: Broker, client: Client) -> None:
    await client.attach(
        "dq;{create:always, node:{type:queue, durable:true, x-declare:{auto-delete:true}}}",
        sender=True,
    )
    queue = broker.registry.queues["dq"]
    assert (queue.durable, queue.auto_delete) == (True, True)
    await client.attach(
        "fan;{create:always, node:{type:topic, x-declare:{type:fanout}}}", sender=True
    )
    assert broker.registry.exchanges["fan"].type == "fanout"


@pytest.mark.anyio
async def test_without_create_a_missing_node_is_not_found(client: Client) -> None:
    link = await client.attach("missing;{node:{type:queue}}", sender=True)
    assert link.remote_detach is not None
    assert link.remote_detach.error is not None
    assert link.remote_detach.error.condition == "amqp:not-found"


@pytest.mark.anyio
async def test_a_subject_receiver_on_amq_topic_gets_only_matching_messages(
    client: Client,
) -> None:
    receiver = await client.attach("amq.topic/news.#", sender=False)
    receiver.flow(10)
    sender = await client.attach("amq.topic", sender=True)
    sender.send(encode_message("sport", subject="sport.football"))
    sender.send(encode_message("news", subject="news.world"))
    await client.until(lambda: client.count(DeliveryUpdated) >= 2)
    await client.until(lambda: client.count(DeliveryReceived) >= 1)
    received = [e for e in client.events if isinstance(e, DeliveryReceived)]
    assert [AmqpMessage(e.payload).body for e in received] == ["news"]


@pytest.mark.anyio
async def test_a_temporary_address_gets_a_queue_named_by_the_broker(
    broker: Broker, client: Client
) -> None:
    link = await client.attach("#", sender=False)
    assert link.remote_source is not None
    name = link.remote_source.address
    assert name in broker.registry.queues


# ---------------------------------------------------------------------------------------------
# Connection options
# ---------------------------------------------------------------------------------------------


def test_connection_options_are_read_from_the_string_form() -> None:
    assert parse_connection_options("{reconnect:true, heartbeat:10}") == {
        "reconnect": True,
        "heartbeat": 10,
    }


def test_connection_options_are_read_from_a_map_with_either_spelling() -> None:
    given_options = {
        "reconnect": True,
        "reconnect-timeout": 30,
        "reconnect_limit": 5,
        "reconnect-interval-min": 0.05,
        "reconnect_interval_max": 2,
        "heartbeat": 2.5,
        "username": "guest",
        "password": "secret",
        "container-id": "app",
        "properties": {"qpid.ha-admin": 1},
        "tcp-nodelay": True,
        "protocol": "amqp1.0",
    }
    assert parse_connection_options(given_options) == {
        "reconnect": True,
        "reconnect_timeout": 30,
        "reconnect_limit": 5,
        "reconnect_interval_min": 0.05,
        "reconnect_interval_max": 2,
        "heartbeat": 2.5,
        "username": "guest",
        "password": "secret",
        "container_id": "app",
        "properties": {"qpid.ha-admin": 1},
        "tcp_nodelay": True,
        "protocol": "amqp1.0",
    }


def test_no_options_are_no_options() -> None:
    assert parse_connection_options(None) == {}
    assert parse_connection_options({}) == {}
    assert parse_connection_options("{}") == {}


@pytest.mark.parametrize(
    "urls",
    [["a:1", "b:2"], "a:1,b:2", "a:1, b:2", ("a:1", "tcp:b:2"), ["amqp:a:1,b:2"]],
)
def test_reconnect_urls_become_one_url_per_broker(urls: Any) -> None:
    assert parse_connection_options({"reconnect_urls": urls}) == {
        "reconnect_urls": ["amqp:tcp:a:1", "amqp:tcp:b:2"]
    }


def test_reconnect_urls_keep_their_credentials() -> None:
    options = parse_connection_options({"reconnect_urls": "amqp:bob/p,w@a,b"})
    assert options["reconnect_urls"] == ["amqp:bob/p,w@tcp:a:5672", "amqp:bob/p,w@tcp:b:5672"]


@pytest.mark.parametrize("value", ["PLAIN ANONYMOUS", "PLAIN,ANONYMOUS", " PLAIN , ANONYMOUS "])
def test_sasl_mechanisms_are_split_on_spaces_or_commas(value: str) -> None:
    assert parse_connection_options({"sasl_mechanisms": value}) == {
        "sasl_mechanisms": ["PLAIN", "ANONYMOUS"]
    }
    assert parse_connection_options({"sasl-mechanisms": ["PLAIN"]}) == {
        "sasl_mechanisms": ["PLAIN"]
    }


def test_reconnect_interval_sets_the_minimum_and_the_maximum() -> None:
    assert parse_connection_options("{reconnect_interval:3}") == {
        "reconnect_interval_min": 3,
        "reconnect_interval_max": 3,
    }


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"reconnect_tries": 1}, "unknown connection option 'reconnect_tries'"),
        ("{transport:ssl}", "unknown connection option 'transport'"),
        ({"reconnect": "yes"}, "reconnect must be true or false"),
        ({"heartbeat": -1}, "heartbeat must be a number of seconds >= 0"),
        ({"heartbeat": True}, "heartbeat must be a number of seconds"),
        ({"heartbeat": math.inf}, "heartbeat must be a number of seconds"),
        ({"reconnect_limit": 1.5}, "reconnect_limit must be a whole number >= 0"),
        ({"username": 1}, "username must be a string"),
        ({"properties": [1]}, "properties must be a map with string keys"),
        ({"sasl_mechanisms": " , "}, "sasl_mechanisms names no mechanism"),
        ({"sasl_mechanisms": 1}, "sasl_mechanisms must be a string or a list"),
        ({"reconnect_urls": 1}, "reconnect_urls must be a list of URLs"),
        ({"reconnect_urls": [1]}, "reconnect_urls: a URL is a string"),
        ({"reconnect_urls": "a:0"}, "reconnect_urls: invalid URL 'a:0': bad port 0"),
        ({"protocol": "amqp0-10"}, "protocol must be amqp1.0"),
        ({"reconnect_interval": 1, "reconnect_interval_min": 1}, "give it alone"),
        ({"reconnect_interval_min": 5, "reconnect-interval-max": 1}, "(5) is above"),
        ({"heartbeat": 1, "heartbeat ": 1}, "unknown connection option 'heartbeat '"),
        ({"tcp_nodelay": True, "tcp-nodelay": False}, "tcp_nodelay given twice"),
        ("{heartbeat:10", "invalid map"),
        ({1: 2}, "connection option names are strings"),
    ],
)
def test_bad_connection_options_are_refused_naming_the_option(options: Any, error: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_connection_options(options)
    assert error in info.value.description
