"""Qpid URLs: the grammar of ha-brokers-url, ha-public-url and the tools' -b option."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qpid_ha.errors import InvalidArgument
from qpid_ha.url import DEFAULT_PORT, Address, Url, parse_url


def test_a_bare_host_is_tcp_on_the_default_port() -> None:
    assert parse_url("broker1") == Url((Address("broker1", 5672, "tcp"),))
    assert DEFAULT_PORT == 5672


def test_the_user_guide_examples_parse() -> None:
    assert parse_url("20.0.20.200").addresses == (Address("20.0.20.200"),)
    url = parse_url("amqp:guest/secret@tcp:node1:5672,ssl:node2:5673,node3")
    assert (url.user, url.password) == ("guest", "secret")
    assert url.addresses == (
        Address("node1", 5672, "tcp"),
        Address("node2", 5673, "ssl"),
        Address("node3", 5672, "tcp"),
    )


def test_a_user_without_password_has_none_and_an_empty_password_is_kept() -> None:
    assert parse_url("bob@host").password is None
    assert parse_url("bob/@host").password == ""


def test_a_password_may_contain_at_signs_slashes_and_commas() -> None:
    url = parse_url("amqp:bob/p@s/s,w@host1,host2")
    assert (url.user, url.password) == ("bob", "p@s/s,w")
    assert [a.host for a in url.addresses] == ["host1", "host2"]


def test_ipv6_hosts_are_given_in_brackets_and_kept_without() -> None:
    url = parse_url("tcp:[::1]:5673,[fe80::1%eth0]")
    assert url.addresses == (Address("::1", 5673), Address("fe80::1%eth0"))
    assert str(url) == "amqp:tcp:[::1]:5673,tcp:[fe80::1%eth0]:5672"


def test_spaces_around_addresses_are_ignored() -> None:
    assert parse_url(" a , b:1 ").addresses == (Address("a"), Address("b", 1))


def test_proton_style_urls_are_accepted_alone_and_in_lists() -> None:
    assert parse_url("amqp://host:5673").addresses == (Address("host", 5673),)
    assert parse_url("amqp://host/").addresses == (Address("host"),)
    assert parse_url("amqps://host").addresses == (Address("host", 5671, "ssl"),)
    url = parse_url("amqp://u:p%40ss@a:1,amqp://b:2,c")
    assert (url.user, url.password) == ("u", "p@ss")
    assert url.addresses == (Address("a", 1), Address("b", 2), Address("c"))
    assert parse_url("AMQPS://[::1]:99").addresses == (Address("::1", 99, "ssl"),)


def test_str_is_the_canonical_qpid_form() -> None:
    assert str(parse_url("bob/pw@h1,ssl:h2:9")) == "amqp:bob/pw@tcp:h1:5672,ssl:h2:9"
    assert str(Address("::1", 5672, "ssl")) == "ssl:[::1]:5672"


def test_addresses_convert_to_proton_urls() -> None:
    assert Address("h", 1).proton_url == "amqp://h:1"
    assert Address("::1", 2, "ssl").proton_url == "amqps://[::1]:2"
    assert Address("::1", 2).hostport == "[::1]:2"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty URL"),
        ("   ", "empty URL"),
        ("rdma:host", "unknown address scheme 'rdma'"),
        ("amqp:http://host", "unknown address scheme 'http'"),
        ("foo:host:5672", "unknown address scheme 'foo'"),
        ("host:abc", "bad port 'abc'"),
        ("host:", "bad port ''"),
        ("host:0", "must be 1..65535"),
        ("host:65536", "must be 1..65535"),
        ("host:-1", "bad port '-1'"),
        ("a,,b", "empty address"),
        ("a,", "empty address"),
        ("::1", "IPv6 addresses must be in brackets"),
        ("[::1", "missing ']'"),
        ("[nope]:1", "bad IPv6 address"),
        ("[::1]x", "unexpected 'x'"),
        ("@host", "empty user name"),
        ("bob@", "empty address"),
        ("ho st", "bad host"),
        ("amqp://", "empty host"),
        ("amqp://host/queue", "no path"),
        ("amqp://u:p@a,amqp://v:q@b", "different credentials"),
    ],
)
def test_malformed_urls_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_url(text)
    assert reason in info.value.description
    assert info.value.condition == "amqp:invalid-field"


def test_hand_built_urls_are_checked_like_parsed_ones() -> None:
    with pytest.raises(InvalidArgument, match=r"1\.\.65535"):
        Address("h", 0)
    with pytest.raises(InvalidArgument, match="unknown address scheme"):
        Address("h", 1, "rdma")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="at least one address"):
        Url(())
    with pytest.raises(InvalidArgument, match="contains '/'"):
        Url((Address("h"),), user="a/b")
    with pytest.raises(InvalidArgument, match="needs a user"):
        Url((Address("h"),), password="pw")


_hosts = st.one_of(
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z0-9]{1,6}){0,3}", fullmatch=True),
    st.ip_addresses().map(str),
)
_addresses = st.builds(Address, _hosts, st.integers(1, 65535), st.sampled_from(["tcp", "ssl"]))
_users = st.text(min_size=1).filter(lambda s: "/" not in s)


@st.composite
def _urls(draw: st.DrawFn) -> Url:
    user = draw(st.none() | _users)
    password = None if user is None else draw(st.none() | st.text())
    return Url(tuple(draw(st.lists(_addresses, min_size=1, max_size=4))), user, password)


@given(_urls())
def test_str_round_trips_through_parse(url: Url) -> None:
    assert parse_url(str(url)) == url


@given(st.text())
def test_any_text_either_parses_or_raises_invalid_argument(text: str) -> None:
    try:
        url = parse_url(text)
    except InvalidArgument:
        return
    assert url.addresses
    assert parse_url(str(url)) == url
