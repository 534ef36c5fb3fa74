"""Exchange routing: direct, topic patterns, fanout and headers matching."""

from __future__ import annotations

from typing import Any

import pytest

from qpid_ha.amqp.message import Message, encode_message
from qpid_ha.broker.exchange import (
    EXCHANGE_TYPES,
    Binding,
    DirectExchange,
    FanoutExchange,
    HeadersExchange,
    TopicExchange,
    topic_words,
)
from qpid_ha.errors import InvalidArgument

M = Message(encode_message("x"))


def props(**kw: Any) -> Message:
    return Message(encode_message("x", application_properties=kw))


def topic(*patterns: str) -> TopicExchange:
    x = TopicExchange("t")
    for i, pattern in enumerate(patterns):
        x.bind(Binding("t", f"q{i}", pattern))
    return x


def test_exchange_types_are_registered_by_name() -> None:
    assert {name: cls.type for name, cls in EXCHANGE_TYPES.items()} == {
        "direct": "direct",
        "topic": "topic",
        "fanout": "fanout",
        "headers": "headers",
    }


def test_direct_exchange_routes_on_an_exact_key() -> None:
    x = DirectExchange("d")
    x.bind(Binding("d", "q1", "a"))
    x.bind(Binding("d", "q2", "a"))
    x.bind(Binding("d", "q3", "b"))
    assert x.route(M, "a") == ["q1", "q2"]
    assert x.route(M, "b") == ["q3"]
    assert x.route(M, "c") == []


def test_binding_twice_is_a_no_op_and_unbind_removes() -> None:
    x = DirectExchange("d")
    assert x.bind(Binding("d", "q", "k"))
    assert not x.bind(Binding("d", "q", "k"))
    assert x.route(M, "k") == ["q"]
    assert x.unbind("q", "k")
    assert not x.unbind("q", "k")
    assert x.route(M, "k") == [] and x.bindings == []


def test_rebinding_with_other_arguments_replaces_the_arguments() -> None:
    x = DirectExchange("d")
    x.bind(Binding("d", "q", "k", {"qpid.replicate": "none"}))
    assert x.bind(Binding("d", "q", "k", {"qpid.replicate": "all"}))
    assert x.bindings == [Binding("d", "q", "k", {"qpid.replicate": "all"})]
    assert x.route(M, "k") == ["q"]


def test_fanout_routes_to_every_queue_once() -> None:
    x = FanoutExchange("f")
    x.bind(Binding("f", "q1", "a"))
    x.bind(Binding("f", "q1", "b"))
    x.bind(Binding("f", "q2"))
    assert x.route(M, "anything") == ["q1", "q2"]
    x.unbind("q1", "a")
    assert x.route(M, "") == ["q1", "q2"]
    x.unbind("q1", "b")
    assert x.route(M, "") == ["q2"]


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("a.b.c", "a.b.c", True),
        ("a.b.c", "a.b", False),
        ("a.*.c", "a.b.c", True),
        ("a.*.c", "a.c", False),
        ("a.*", "a.b.c", False),
        ("*", "a", True),
        ("*", "", False),
        ("#", "", True),
        ("#", "a", True),
        ("#", "a.b.c", True),
        ("a.#", "a", True),
        ("a.#", "a.b.c", True),
        ("a.#", "b.a", False),
        ("#.c", "a.b.c", True),
        ("#.c", "c", True),
        ("#.c", "c.d", False),
        ("a.#.b", "a.b", True),
        ("a.#.b", "a.x.b", True),
        ("a.#.b", "a.x.y.b", True),
        ("a.#.b", "a.x.y", False),
        ("a.#.#.b", "a.b", True),
        ("#.#", "", True),
        ("*.#", "", False),
        ("*.#", "a", True),
        ("#.*", "a.b", True),
        ("a.*.#", "a", False),
        ("a.*.#", "a.b", True),
        ("a..b", "a..b", True),
        ("a.*.b", "a..b", True),
        ("a..b", "a.b", False),
        ("a.*", "a.", True),
        ("", "", True),
        ("", "a", False),
        ("a.b#", "a.b#", True),
        ("a.b*", "a.bx", False),
    ],
)
def test_topic_patterns_follow_amqp_0_10(pattern: str, key: str, matches: bool) -> None:
    assert topic(pattern).route(M, key) == (["q0"] if matches else [])


def test_topic_routes_each_queue_once_even_when_several_patterns_match() -> None:
    x = TopicExchange("t")
    for pattern in ("a.*", "a.#", "#"):
        x.bind(Binding("t", "q", pattern))
    x.bind(Binding("t", "other", "b.*"))
    assert x.route(M, "a.b") == ["q"]


def test_topic_unbind_stops_matching_and_keeps_other_patterns() -> None:
    x = topic("a.*", "a.#")
    assert sorted(x.route(M, "a.b")) == ["q0", "q1"]
    x.unbind("q1", "a.#")
    assert x.route(M, "a.b") == ["q0"]  # the cached result was dropped
    x.unbind("q0", "a.*")
    assert x.route(M, "a.b") == []


def test_many_hashes_do_not_blow_up() -> None:
    x = topic("#.a.#.a.#.a.#.a.#.b")
    key = ".".join(["a"] * 40)
    assert x.route(M, key) == []
    assert x.route(M, key + ".b") == ["q0"]


def test_topic_words_keep_empty_words() -> None:
    assert topic_words("") == []
    assert topic_words("a..b") == ["a", "", "b"]


def test_headers_all_needs_every_argument_to_match() -> None:
    x = HeadersExchange("h")
    x.bind(Binding("h", "q", "", {"x-match": "all", "a": 1, "b": "two"}))
    assert x.route(props(a=1, b="two", c=3), "") == ["q"]
    assert x.route(props(a=1), "") == []
    assert x.route(props(a=1, b="three"), "") == []


def test_headers_any_needs_one_argument_to_match() -> None:
    x = HeadersExchange("h")
    x.bind(Binding("h", "q", "", {"x-match": "any", "a": 1, "b": 2}))
    assert x.route(props(b=2), "") == ["q"]
    assert x.route(props(c=2), "") == []
    assert x.route(M, "") == []


def test_headers_match_defaults_to_all_and_ignores_x_keys() -> None:
    x = HeadersExchange("h")
    x.bind(Binding("h", "q", "", {"a": 1, "x-other": "ignored"}))
    assert x.route(props(a=1), "") == ["q"]
    assert x.route(props(a=2), "") == []


def test_headers_none_value_matches_any_present_value() -> None:
    x = HeadersExchange("h")
    x.bind(Binding("h", "q", "", {"x-match": "all", "a": None}))
    assert x.route(props(a="whatever"), "") == ["q"]
    assert x.route(props(b=1), "") == []


def test_headers_binding_with_nothing_to_match() -> None:
    x = HeadersExchange("h")
    x.bind(Binding("h", "all", "", {"x-match": "all"}))
    x.bind(Binding("h", "any", "", {"x-match": "any"}))
    assert x.route(M, "") == ["all"]


def test_headers_rejects_an_unknown_match_mode() -> None:
    x = HeadersExchange("h")
    with pytest.raises(InvalidArgument, match="x-match"):
        x.bind(Binding("h", "q", "", {"x-match": "some"}))
    assert x.bindings == []


def test_headers_unbind_stops_matching() -> None:
    x = HeadersExchange("h")
    x.bind(Binding("h", "q", "k", {"a": 1}))
    x.unbind("q", "k")
    assert x.route(props(a=1), "") == []


def test_exchange_reads_its_alternate_from_the_arguments() -> None:
    x = DirectExchange("d", arguments={"alternate-exchange": "dlx", "qpid.replicate": "all"})
    assert x.alternate_exchange == "dlx"
    with pytest.raises(InvalidArgument, match=r"qpid\.replicate"):
        DirectExchange("d", arguments={"qpid.replicate": "some"})
