"""JMS message selectors (``apache.org:selector-filter:string``): syntax, semantics, robustness."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qpid_ha.amqp.codec import encode_value
from qpid_ha.amqp.message import Header, Message, Properties, encode_message
from qpid_ha.amqp.types import byte, char, float32, symbol, timestamp, ulong
from qpid_ha.broker.selector import Selector, compile_selector
from qpid_ha.errors import InvalidArgument

PROPS: dict[str, Any] = {
    "colour": "red",
    "size": 10,
    "weight": 2.5,
    "neg": -3,
    "flag": True,
    "off": False,
    "name": "O'Brien",
    "path": "a%b_c",
    "other": "axbyc",
    "dots": "abc",
    "lines": "a\nb",
    "my prop": 1,
    "big": ulong(2**64 - 1),
    "small": byte(-2),
    "sym": symbol("s"),
    "ch": char("c"),
    "f32": float32(1.5),
    "blob": b"x",
    "ids": [1, 2],
    "nothing": None,
}
MSG = Message(encode_message("body", application_properties=PROPS))


def _check(selector: str, message: Message, expected: bool | None) -> None:
    sel = compile_selector(selector)
    assert sel.evaluate(message) is expected
    assert sel(message) is (expected is True)


# -- comparisons and types --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("colour = 'red'", True),
        ("colour = 'blue'", False),
        ("colour <> 'blue'", True),
        ("'red' = colour", True),
        ("size = 10", True),
        ("size <> 10", False),
        ("size > 9 AND size >= 10 AND size < 11 AND size <= 10", True),
        ("10 >= size AND 9 < size", True),
        ("size > 10", False),
        ("size = 10.0", True),
        ("weight > 2", True),
        ("size < 10.5", True),
        ("weight = 25E-1", True),
        ("big > 9223372036854775807", True),
        ("small = -2", True),
        ("sym = 's'", True),
        ("ch = 'c'", True),
        ("f32 = 1.5", True),
        ("name = 'O''Brien'", True),
        ("colour = name", False),
        ("colour <> name", True),
        ("size <> size", False),
        ("size = neg", False),
        ("size > neg", True),
        ("flag = TRUE", True),
        ("flag <> FALSE", True),
        ("flag = off", False),
        ("flag", True),
        ("off", False),
        ("NOT off", True),
        ("TRUE", True),
        ("FALSE", False),
        ("\"colour\" = 'red'", True),
        ('"my prop" = 1', True),
        ("Colour = 'red'", None),
    ],
)
def test_comparisons_of_properties_and_literals(selector: str, expected: bool | None) -> None:
    _check(selector, MSG, expected)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("size = '10'", None),
        ("'10' <> size", None),
        ("colour = 1", None),
        ("colour > 'a'", None),
        ("colour <= name", None),
        ("flag > FALSE", None),
        ("flag = 1", None),
        ("size = TRUE", None),
        ("colour", None),
        ("size", None),
        ("NOT colour", None),
        ("blob = 'x'", None),
        ("ids = 1", None),
        ("blob IS NULL", True),
        ("ids IS NULL", True),
        ("nothing IS NULL", True),
    ],
)
def test_values_of_mismatched_or_unsupported_types_compare_as_unknown(
    selector: str, expected: bool | None
) -> None:
    _check(selector, MSG, expected)


# -- three-valued logic -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("missing = 1", None),
        ("missing <> 1", None),
        ("missing > 1", None),
        ("NOT missing = 1", None),
        ("missing = missing", None),
        ("missing = colour", None),
        ("colour = missing", None),
        ("missing <> size + 1", None),
        ("missing", None),
        ("missing IS NULL", True),
        ("missing IS NOT NULL", False),
        ("colour IS NULL", False),
        ("colour IS NOT NULL", True),
        ("missing = 1 AND FALSE", False),
        ("FALSE AND missing = 1", False),
        ("missing = 1 AND TRUE", None),
        ("missing = 1 AND missing = 2", None),
        ("missing = 1 OR TRUE", True),
        ("TRUE OR missing = 1", True),
        ("missing = 1 OR FALSE", None),
        ("NOT (missing = 1 OR FALSE)", None),
        ("NOT (missing = 1 AND FALSE)", True),
        ("(missing = 1) IS NULL", True),
        ("missing + 1 = 1", None),
        ("-missing = 1", None),
        ("size + missing > 0", None),
    ],
)
def test_null_propagates_as_unknown_and_only_true_matches(
    selector: str, expected: bool | None
) -> None:
    _check(selector, MSG, expected)


# -- BETWEEN, IN, LIKE --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("size BETWEEN 10 AND 20", True),
        ("size BETWEEN 1 AND 10", True),
        ("size BETWEEN 11 AND 20", False),
        ("size BETWEEN 20 AND 1", False),
        ("size NOT BETWEEN 11 AND 20", True),
        ("size NOT BETWEEN 1 AND 20", False),
        ("weight BETWEEN 2 AND 3", True),
        ("size BETWEEN 9.5 AND 10.5", True),
        ("size BETWEEN neg AND size + 1", True),
        ("missing BETWEEN 1 AND 2", None),
        ("missing NOT BETWEEN 1 AND 2", None),
        ("size BETWEEN missing AND 5", False),
        ("size BETWEEN missing AND 20", None),
        ("colour BETWEEN 'a' AND 'z'", None),
    ],
)
def test_between_is_an_inclusive_numeric_range(selector: str, expected: bool | None) -> None:
    _check(selector, MSG, expected)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("colour IN ('red', 'green')", True),
        ("colour IN ('blue')", False),
        ("colour NOT IN ('blue', 'green')", True),
        ("colour NOT IN ('red')", False),
        ("missing IN ('a')", None),
        ("missing NOT IN ('a')", None),
        ("size IN (1, 10)", True),
        ("size IN (10.0)", True),
        ("size IN ('10')", None),
        ("colour IN ('x', 10)", None),
        ("colour IN ('red', 10)", True),
        ("flag IN (TRUE)", True),
        ("flag IN (1)", None),
        ("sym IN ('s')", True),
        ("size IN (5 + 5, missing)", True),
        ("size IN (missing, 3)", None),
        ("size NOT IN (missing, 3)", None),
        ("colour IN (name, 'red')", True),
        ("colour IN (name, 'blue')", False),
    ],
)
def test_in_is_true_on_any_equal_value(selector: str, expected: bool | None) -> None:
    _check(selector, MSG, expected)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("colour LIKE 'red'", True),
        ("colour LIKE 'RED'", False),
        ("colour LIKE 'r%'", True),
        ("colour LIKE '%e%'", True),
        ("colour LIKE '%'", True),
        ("colour LIKE 'r_d'", True),
        ("colour LIKE 'r_'", False),
        ("colour LIKE '_'", False),
        ("colour NOT LIKE 'b%'", True),
        ("colour NOT LIKE 'r%'", False),
        ("name LIKE 'O''%'", True),
        ("dots LIKE 'a.c'", False),
        ("dots LIKE '[a]bc'", False),
        ("dots LIKE 'a!.c' ESCAPE '!'", False),
        ("dots LIKE 'a!bc' ESCAPE '!'", True),
        ("lines LIKE 'a%'", True),
        ("lines LIKE 'a_b'", True),
        ("other LIKE 'a%b_c'", True),
        ("path LIKE 'a%b_c'", True),
        ("other LIKE 'a\\%b\\_c' ESCAPE '\\'", False),
        ("path LIKE 'a\\%b\\_c' ESCAPE '\\'", True),
        ("path LIKE 'a!%b%' ESCAPE '!'", True),
        ("path LIKE 'a!!%' ESCAPE '!'", False),
        ("size LIKE '10'", None),
        ("missing LIKE 'x'", None),
        ("missing NOT LIKE 'x'", None),
    ],
)
def test_like_matches_wildcards_and_escaped_literals(selector: str, expected: bool | None) -> None:
    _check(selector, MSG, expected)


def _reference_like(pattern: str, value: str) -> bool | None:
    """LIKE as a backtracking regular expression, with ``!`` as the escape character."""
    out = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "!":
            nxt = next(chars, None)
            if nxt is None:
                return None
            out.append(re.escape(nxt))
        else:
            out.append({"%": ".*", "_": "."}.get(ch, re.escape(ch)))
    return re.fullmatch("".join(out), value, re.DOTALL) is not None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab%_!", max_size=8), st.text(alphabet="ab%_!\n", max_size=8))
def test_like_agrees_with_its_definition_as_a_regular_expression(pattern: str, value: str) -> None:
    selector = f"v LIKE '{pattern}' ESCAPE '!'"
    expected = _reference_like(pattern, value)
    if expected is None:
        with pytest.raises(InvalidArgument, match="ends with its escape character"):
            compile_selector(selector)
        return
    msg = Message(encode_message(None, application_properties={"v": value}))
    _check(selector, msg, expected)


def test_like_stays_fast_on_patterns_that_make_regular_expressions_backtrack() -> None:
    # as a regular expression, .*a.*a.*a.*a.*a.*a.*b would take about n**6 steps here
    msg = Message(encode_message(None, application_properties={"v": "a" * 20000}))
    started = time.monotonic()
    _check("v LIKE '%a%a%a%a%a%a%b'", msg, False)
    _check("v LIKE '%a%a_a%a%a%a%'", msg, True)
    assert time.monotonic() - started < 5


# -- arithmetic and precedence ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("size + 2 * 3 = 16", True),
        ("(size + 2) * 3 = 36", True),
        ("size - 4 - 3 = 3", True),
        ("size / 5 * 2 = 4", True),
        ("-size * 2 = -20", True),
        ("size - -2 = 12", True),
        ("+size = 10", True),
        ("- -size = 10", True),
        ("size / 4 = 2", True),
        ("neg / 2 = -1", True),
        ("size / 4.0 = 2.5", True),
        ("weight * 2 = 5", True),
        ("size / 0 = 1", None),
        ("size / 0.0 IS NULL", True),
        ("colour + 1 = 1", None),
        ("flag + 1 = 1", None),
        ("-colour = 1", None),
        ("big * 1.0 > 0", True),
        ("colour = 'blue' AND size = 10 OR flag", True),
        ("flag OR colour = 'blue' AND size = 99", True),
        ("NOT flag OR flag", True),
        ("NOT off AND off", False),
        ("NOT size = 11", True),
        ("NOT NOT flag", True),
        ("size = 5 + 5", True),
    ],
)
def test_arithmetic_and_operator_precedence(selector: str, expected: bool | None) -> None:
    _check(selector, MSG, expected)


@pytest.mark.parametrize(
    "selector",
    [
        "colour = 'red' and size > 5",
        "colour = 'red' AnD NoT size < 5",
        "off or flag",
        "size between 1 and 10",
        "size Not Between 11 And 20",
        "missing is null",
        "colour is not NULL",
        "colour in ('red')",
        "colour not in ('blue')",
        "colour like 'r%'",
        "path like 'a!%%' escape '!'",
        "flag = true",
        "off = False",
    ],
)
def test_keywords_are_case_insensitive(selector: str) -> None:
    _check(selector, MSG, True)


@pytest.mark.parametrize(
    "selector",
    [
        "size = 0xA",
        "size = 0XA",
        "size = 012",
        "size = 0b1010",
        "size = 10L",
        "size = 10.",
        "size = 10.0D",
        "weight = .25e1",
        "weight = 2.5F",
        "weight = 0.25E+1",
        "-9223372036854775808 < 0",
        "9223372036854775807 > 0",
        "0xFFFFFFFFFFFFFFFF = -1",
        "0 = 0",
    ],
)
def test_numeric_literals(selector: str) -> None:
    _check(selector, MSG, True)


def test_long_chains_of_conditions_evaluate() -> None:
    sel = compile_selector(" OR ".join(f"size = {i}" for i in range(100, 3000)) + " OR size = 10")
    assert sel(MSG) is True
    sel = compile_selector(" + ".join(["size"] * 3000) + " = 30000")
    assert sel(MSG) is True


# -- message fields -----------------------------------------------------------------------------

MESSAGE_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")
FULL = Message(
    encode_message(
        "body",
        header=Header(durable=True, priority=7, ttl=5000, delivery_count=2),
        properties=Properties(
            message_id=MESSAGE_ID,
            user_id=b"alice",
            to="queue-a",
            subject="news",
            reply_to="replies",
            correlation_id=ulong(42),
            content_type="text/plain",
            content_encoding="gzip",
            absolute_expiry_time=2000,
            creation_time=1000,
            group_id="g1",
            group_sequence=3,
            reply_to_group_id="g2",
        ),
        message_annotations={"x-opt-jms-type": "order"},
        application_properties={"JMSPriority": 1, "priority": 2},
    )
)
BARE = Message(encode_message("body"))


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("amqp.durable", True),
        ("amqp.priority = 7", True),
        ("amqp.ttl = 5000", True),
        ("amqp.first_acquirer", False),
        ("amqp.delivery_count = 2", True),
        ("amqp.delivery_mode = 'PERSISTENT'", True),
        ("amqp.redelivered", True),
        ("amqp.message_id = '12345678-1234-5678-1234-567812345678'", True),
        ("amqp.user_id = 'alice'", True),
        ("amqp.to = 'queue-a'", True),
        ("amqp.subject = 'news'", True),
        ("amqp.reply_to = 'replies'", True),
        ("amqp.correlation_id = '42'", True),
        ("amqp.content_type = 'text/plain'", True),
        ("amqp.content_encoding = 'gzip'", True),
        ("amqp.absolute_expiry_time = 2000", True),
        ("amqp.creation_time = 1000", True),
        ("amqp.group_id = 'g1'", True),
        ("amqp.group_sequence = 3", True),
        ("amqp.reply_to_group_id = 'g2'", True),
        ("amqp.jms_type = 'order'", True),
        ("JMSDeliveryMode = 'PERSISTENT'", True),
        ("JMSPriority = 7", True),
        ("priority = 2", True),
        ("JMSMessageID LIKE '12345678-%'", True),
        ("JMSCorrelationID = '42'", True),
        ("JMSTimestamp = 1000", True),
        ("JMSExpiration = 2000", True),
        ("JMSRedelivered", True),
        ("JMSDestination = 'queue-a'", True),
        ("JMSReplyTo = 'replies'", True),
        ("JMSType = 'order'", True),
        ("JMSXDeliveryCount = 3", True),
        ("JMSXGroupID = 'g1'", True),
        ("JMSXGroupSeq = 3", True),
        ("JMSXUserID = 'alice'", True),
    ],
)
def test_special_identifiers_read_the_message_fields(selector: str, expected: bool | None) -> None:
    _check(selector, FULL, expected)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("amqp.durable", False),
        ("amqp.priority = 4", True),
        ("JMSPriority = 4", True),
        ("JMSDeliveryMode = 'NON_PERSISTENT'", True),
        ("JMSRedelivered", False),
        ("JMSXDeliveryCount = 1", True),
        ("JMSTimestamp = 0", True),
        ("JMSExpiration = 0", True),
        ("amqp.ttl IS NULL", True),
        ("amqp.subject IS NULL", True),
        ("amqp.creation_time IS NULL", True),
        ("JMSMessageID IS NULL", True),
        ("JMSType IS NULL", True),
        ("amqp.nonsense IS NULL", True),
    ],
)
def test_special_identifiers_of_a_message_without_header_or_properties(
    selector: str, expected: bool | None
) -> None:
    _check(selector, BARE, expected)


@pytest.mark.parametrize(
    ("message_id", "text"),
    [("ID:abc", "ID:abc"), (7, "7"), (b"raw", "raw"), (MESSAGE_ID, str(MESSAGE_ID))],
)
def test_message_and_correlation_ids_compare_as_strings(message_id: Any, text: str) -> None:
    msg = Message(encode_message("x", message_id=message_id, correlation_id=message_id))
    _check(f"JMSMessageID = '{text}' AND JMSCorrelationID = '{text}'", msg, True)


def test_jms_type_falls_back_to_the_subject() -> None:
    _check("JMSType = 'news'", Message(encode_message("x", subject="news")), True)


def test_malformed_application_properties_read_as_null() -> None:
    # an application-properties map with an integer key cannot be decoded
    msg = Message(b"\x00\x53\x74" + bytes(encode_value({1: "x"})))
    _check("a = 1", msg, None)
    _check("a IS NULL", msg, True)
    _check("a = 1 OR TRUE", msg, True)


# -- empty selectors and syntax errors --------------------------------------------------------


@pytest.mark.parametrize("selector", ["", "   ", "\n\t "])
def test_an_empty_selector_matches_every_message(selector: str) -> None:
    _check(selector, BARE, True)
    _check(selector, MSG, True)


@pytest.mark.parametrize(
    ("selector", "reason"),
    [
        ("(size = 10", "expected ')'"),
        ("size = 10)", "expected an operator or the end"),
        ("((size = 10)", "expected ')'"),
        ("size =", "expected an identifier, a literal or '('"),
        ("size = 10 AND", "expected an identifier, a literal or '('"),
        ("OR size = 10", "expected an identifier, a literal or '('"),
        ("size + = 1", "expected an identifier, a literal or '('"),
        ("NOT", "expected an identifier, a literal or '('"),
        ("colour = 'red", "unterminated string literal"),
        ("'", "unterminated string literal"),
        ('"colour = 1', "unterminated quoted identifier"),
        ("size == 10", "expected an identifier, a literal or '('"),
        ("size != 10", "unexpected character '!'"),
        ("size = 10 ; drop", "unexpected character ';'"),
        ("colour = #red", "unexpected character '#'"),
        ("size 10", "expected an operator or the end"),
        ("size = 10 colour", "expected an operator or the end"),
        ("size = 1 = 1", "expected an operator or the end"),
        ("size IS 10", "expected NULL or NOT NULL after IS"),
        ("size IS NOT 10", "expected NULL or NOT NULL after IS"),
        ("size NOT = 10", "expected BETWEEN, IN or LIKE after NOT"),
        ("size BETWEEN 1", "expected AND after BETWEEN"),
        ("size BETWEEN 1 OR 2", "expected AND after BETWEEN"),
        ("colour IN 'red'", "expected '(' after IN"),
        ("colour IN ()", "expected an identifier, a literal or '('"),
        ("colour IN ('a' 'b')", "expected ',' or ')' in the IN list"),
        ("colour LIKE colour", "expected a string literal after LIKE"),
        ("colour LIKE 'a' ESCAPE 1", "expected a string literal after ESCAPE"),
        ("colour LIKE 'a' ESCAPE '!!'", "the ESCAPE string must be one character"),
        ("colour LIKE 'a' ESCAPE ''", "the ESCAPE string must be one character"),
        ("colour LIKE 'a!' ESCAPE '!'", "the LIKE pattern ends with its escape character"),
        ("size", ""),  # valid: a bare identifier
        ("10", "expected a condition, found a number expression"),
        ("'red'", "expected a condition, found a string expression"),
        ("size + 1", "expected a condition, found a number expression"),
        ("size = 1 AND 2", "expected a condition, found a number expression"),
        ("NOT 'x'", "expected a condition, found a string expression"),
        ("'a' + 1 = 2", "arithmetic needs numbers, found a string expression"),
        ("TRUE * 2 = 2", "arithmetic needs numbers, found a boolean expression"),
        ("-(size = 1) = 1", "arithmetic needs numbers, found a boolean expression"),
        ("size = 9223372036854775808", "number 9223372036854775808 is out of range"),
        ("size = -9223372036854775809", "number -9223372036854775809 is out of range"),
        ("size = 0x10000000000000000", "out of range"),
        ("size = 1e999", "number 1e999 is out of range"),
        ("size = 09", "malformed number '09'"),
        ("size = 0x", "malformed number '0x'"),
        ("size = 1.2.3", "malformed number '1.2.'"),
        ("size = 10abc", "malformed number '10a'"),
        ("(" * 60 + "size = 1" + ")" * 60, "nested too deeply"),
        ("NOT " * 60 + "flag", "nested too deeply"),
    ],
)
def test_malformed_selectors_are_rejected_with_a_reason(selector: str, reason: str) -> None:
    if not reason:
        assert isinstance(compile_selector(selector), Selector)
        return
    with pytest.raises(InvalidArgument) as info:
        compile_selector(selector)
    assert info.value.condition == "amqp:invalid-field"
    assert reason in info.value.description
    assert repr(selector) in info.value.description


def test_error_names_the_position_of_the_offending_token() -> None:
    with pytest.raises(InvalidArgument) as info:
        compile_selector("size = 10 AND AND")
    assert "found AND (at position 14)" in info.value.description


def test_a_selector_that_is_not_a_string_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="a selector is a string"):
        compile_selector(b"size = 1")  # type: ignore[arg-type]


def test_a_compiled_selector_shows_its_text() -> None:
    sel = compile_selector("colour = 'red'")
    assert sel.text == "colour = 'red'"
    assert repr(sel) == "Selector(\"colour = 'red'\")"


# -- robustness ---------------------------------------------------------------------------------

NAMES = ["a", "b", "c", "JMSPriority", "JMSDeliveryMode", "JMSType", "amqp.subject", "amqp.ttl"]

prop_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(0, 2**64 - 1).map(ulong),
    st.floats(),
    st.text(max_size=4),
    st.binary(max_size=3),
    st.uuids(),
    st.lists(st.integers(-3, 3), max_size=2),
    st.sampled_from([symbol("s"), char("c"), float32(1.5), timestamp(5), byte(-1)]),
)
messages = st.builds(
    lambda props, subject, priority, durable: Message(
        encode_message(
            None, application_properties=props, subject=subject, priority=priority, durable=durable
        )
    ),
    st.dictionaries(st.sampled_from(NAMES[:3]), prop_values, max_size=3),
    st.none() | st.text(max_size=3),
    st.none() | st.integers(0, 255),
    st.none() | st.booleans(),
)

identifiers = st.sampled_from([*NAMES, '"a"'])
numbers = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["0x1F", "017", "0b11", "5L", "2.5F", ".5", "7."]),
)
strings = st.text(max_size=4).map(lambda s: "'" + s.replace("'", "''") + "'")
values = st.recursive(
    identifiers | numbers,
    lambda v: st.one_of(
        st.tuples(v, st.sampled_from("+-*/"), v).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        v.map(lambda x: f"-{x}"),
    ),
    max_leaves=5,
)
comparands = values | strings | st.sampled_from(["TRUE", "FALSE"])
maybe_not = st.sampled_from(["", "NOT "])
like_patterns = st.text(alphabet="ab%_!'", max_size=5)


def _like(left: str, negation: str, pattern: str, escape: bool) -> str:
    # the trailing 'a' keeps an escape character from ending the pattern
    quoted = pattern.replace("'", "''") + "a"
    return f"{left} {negation}LIKE '{quoted}'" + (" ESCAPE '!'" if escape else "")


atoms = st.one_of(
    st.tuples(comparands, st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), comparands).map(
        " ".join
    ),
    identifiers,
    st.sampled_from(["TRUE", "FALSE"]),
    st.tuples(comparands, st.sampled_from(["IS NULL", "IS NOT NULL"])).map(" ".join),
    st.tuples(values, maybe_not, values, values).map(
        lambda t: f"{t[0]} {t[1]}BETWEEN {t[2]} AND {t[3]}"
    ),
    st.tuples(comparands, maybe_not, st.lists(comparands, min_size=1, max_size=3)).map(
        lambda t: f"{t[0]} {t[1]}IN ({', '.join(t[2])})"
    ),
    st.builds(_like, comparands, maybe_not, like_patterns, st.booleans()),
)
conditions = st.recursive(
    atoms,
    lambda c: st.one_of(
        c.map(lambda x: f"NOT ({x})"),
        st.tuples(c, st.sampled_from(["AND", "OR"]), c).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
    ),
    max_leaves=6,
)


def _not3(v: bool | None) -> bool | None:
    return None if v is None else not v


@settings(max_examples=300, deadline=None)
@given(conditions, messages)
def test_evaluating_any_selector_on_any_properties_never_raises(
    selector: str, message: Message
) -> None:
    sel = compile_selector(selector)
    result = sel.evaluate(message)  # raises, unlike __call__, on an evaluation bug
    assert result is True or result is False or result is None
    assert sel(message) is (result is True)


@settings(max_examples=200, deadline=None)
@given(conditions, messages)
def test_not_swaps_true_and_false_and_keeps_unknown(selector: str, message: Message) -> None:
    result = compile_selector(selector).evaluate(message)
    assert compile_selector(f"NOT ({selector})").evaluate(message) is _not3(result)
    either = compile_selector(f"({selector}) OR NOT ({selector})")
    assert either(message) is (result is not None)
