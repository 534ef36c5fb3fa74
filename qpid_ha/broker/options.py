"""The broker's settings: :class:`BrokerOptions`, qpidd's command line and config file.

Every setting of the ``qpidd`` daemon (design.md section 3.1) is a field of
:class:`BrokerOptions`, so a broker embedded in a program takes exactly what the daemon takes.
:func:`parse_args` reads qpidd's command line; ``--config FILE`` adds a file of
``name=value`` lines whose names are the long options without ``--``:

.. code-block:: text

    # a qpidd config file
    port=0
    ha-cluster=yes
    ha-brokers-url=node1,node2,node3
    log-enable=info+
    log-enable=debug+:amqp.frames

Lines whose first non-blank character is ``#`` are comments (a ``#`` later in a line is part
of the value, so passwords may hold one). Repeatable options (``log-enable``) may appear on
several lines. The command line wins over the file: an option given on both takes the command
line's value, and for ``log-enable`` the command line's rules replace the file's.

Every error is an :class:`~qpid_ha.errors.InvalidArgument` whose description names the option
(``--port: must be 0..65535, not 70000``) or the file, line and key
(``/etc/qpidd.conf:3: port: invalid value 'x': expected an integer``).

Logging rules follow qpidd's ``--log-enable LEVEL[+|-][:PATTERN]``: ``info+`` enables info and
above, ``debug-`` debug and below, ``warning`` that level alone; PATTERN names a logger, with
or without the ``qpid_ha.`` prefix (``debug+:amqp.frames`` is ``qpid_ha.amqp.frames``), and
covers the loggers below it. Only the daemon applies them, with :func:`configure_logging`;
library code never configures logging.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import math
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, NoReturn, TextIO

import msgspec

from .. import __version__
from ..errors import InvalidArgument
from ..url import parse_url

__all__ = [
    "LOGGERS",
    "SUPPORTED_MECHANISMS",
    "TRACE",
    "BrokerOptions",
    "LogRule",
    "ReplicateLevel",
    "configure_logging",
    "parse_args",
    "parse_log_rule",
    "read_config_file",
]

ReplicateLevel = Literal["none", "configuration", "all"]
"""The values of ``ha-replicate`` (and of a queue's ``qpid.replicate`` argument)."""

SUPPORTED_MECHANISMS: tuple[str, ...] = ("ANONYMOUS", "PLAIN")
"""The SASL mechanisms the broker can offer and the HA client can use."""

TRACE = 5
"""The Python logging level of qpidd's ``trace`` (below DEBUG)."""

LOGGERS: tuple[str, ...] = (
    "qpid_ha",
    "qpid_ha.amqp",
    "qpid_ha.amqp.frames",
    "qpid_ha.broker",
    "qpid_ha.io",
    "qpid_ha.ha",
)
"""The logger of each layer; ``qpid_ha.amqp.frames`` at DEBUG traces every frame."""

_REPLICATE_LEVELS: tuple[str, ...] = ("none", "configuration", "all")


class BrokerOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every setting of a broker: the qpidd daemon's options, as typed fields.

    Field names are the long options with ``-`` replaced by ``_``. Construction validates all
    fields (types, ranges, URLs, logging rules) and raises
    :class:`~qpid_ha.errors.InvalidArgument` naming the option, so a broker built in a program
    fails the same way as the daemon given the same values.

    Attributes:
        port: the TCP port to listen on; 0 picks a free port (read it back from the broker).
        interface: the address to listen on; 127.0.0.1 by default for safety, ``0.0.0.0`` (or
            ``::``) for all interfaces.
        auth: require authentication. With ``auth`` off (the default) anyone may connect:
            with ANONYMOUS, with the bare AMQP header, or with PLAIN whose credentials are not
            checked. With ``auth`` on, ANONYMOUS and the bare header are refused and PLAIN
            credentials are checked against ``users``.
        data_dir: where durable state lives; None keeps everything in memory.
        log_enable: qpidd logging rules, ``LEVEL[+|-][:PATTERN]`` (see :func:`parse_log_rule`).
        log_to_stderr: write the log to stderr.
        log_to_file: also append the log to this file.
        ha_cluster: join an HA cluster.
        ha_queue_replication: allow replicating single queues without a cluster
            (``qpid-ha replicate``).
        ha_brokers_url: the URL brokers of the cluster use to reach each other.
        ha_public_url: the URL advertised to clients for failover; ``ha_brokers_url`` when None.
        ha_replicate: the default replication level of new queues and exchanges.
        ha_username: the user a backup authenticates as to the primary.
        ha_password: that user's password.
        ha_mechanism: the SASL mechanism of replication connections; None negotiates.
        ha_backup_timeout: seconds a recovering primary waits for its expected backups.
        link_maintenance_interval: seconds between checks (and reconnections) of broker links.
        link_heartbeat_interval: heartbeat interval of replication links in seconds; a link
            silent for twice this long is broken. 5 by default: Qpid's 120 lets a hung backup
            stall producers for minutes.
        max_connections: the most client connections at once; more are refused.
        handshake_timeout: seconds a new connection has to complete the protocol header,
            SASL and the AMQP open; then it is dropped.
        max_preauth_bytes: the most bytes a connection may send before it is authenticated.
        max_frame_size: the largest AMQP frame the broker accepts (advertised in its open).
        idle_timeout: seconds of silence after which the broker drops a connection; half of
            it is advertised as the open's idle-time-out, so compliant clients (proton, rhea,
            JMS) send heartbeats. 60 by default, which reaps dead peers within a minute; 0
            disables it.
        sasl_mechanisms: the mechanisms offered, in order of preference (see
            :attr:`offered_mechanisms` for what ``auth`` leaves of them).
        users: user name to password, for PLAIN when ``auth`` is on (``ha_username`` with
            ``ha_password`` is let in too, so backups can reach a primary).
        max_message_size: the largest message the broker accepts, in bytes (0: no limit);
            advertised on every producer link, so a larger message detaches the link with
            ``amqp:link:message-size-exceeded``.
        auto_create: create a queue for any address a client attaches to that names no
            node (as ActiveMQ Artemis does); off by default, as in qpidd, where a client asks
            for creation with the ``create-on-demand`` capability.
    """

    port: int = 5672
    interface: str = "127.0.0.1"
    auth: bool = False
    data_dir: str | None = None
    log_enable: tuple[str, ...] = ("notice+",)
    log_to_stderr: bool = True
    log_to_file: str | None = None
    ha_cluster: bool = False
    ha_queue_replication: bool = False
    ha_brokers_url: str | None = None
    ha_public_url: str | None = None
    ha_replicate: ReplicateLevel = "none"
    ha_username: str | None = None
    ha_password: str | None = None
    ha_mechanism: str | None = None
    ha_backup_timeout: float = 10.0
    link_maintenance_interval: float = 2.0
    link_heartbeat_interval: float = 5.0
    max_connections: int = 10000
    handshake_timeout: float = 10.0
    max_preauth_bytes: int = 65536
    max_frame_size: int = 65536
    idle_timeout: float = 60.0
    sasl_mechanisms: tuple[str, ...] = SUPPORTED_MECHANISMS
    users: dict[str, str] = {}
    max_message_size: int = 0
    auto_create: bool = False

    def __post_init__(self) -> None:
        """Validate every field, then the rules that tie fields together."""
        for name, check in _CHECKS.items():
            try:
                check(getattr(self, name))
            except ValueError as e:
                raise InvalidArgument(f"{_option_name(name)}: {e}") from None
        if self.auth and "PLAIN" not in self.sasl_mechanisms:
            raise InvalidArgument("--auth: yes needs PLAIN in --sasl-mechanisms")
        if self.auth and not self.users and not (self.ha_username and self.ha_password):
            # PLAIN is the only way in, and nobody could pass it.
            raise InvalidArgument("--auth: yes needs --users (or --ha-username and --ha-password)")
        if self.ha_password is not None and self.ha_username is None:
            raise InvalidArgument("--ha-password: needs --ha-username")
        if self.ha_mechanism == "PLAIN" and self.ha_username is None:
            raise InvalidArgument("--ha-mechanism: PLAIN needs --ha-username")

    @property
    def allow_anonymous(self) -> bool:
        """Whether unauthenticated clients (ANONYMOUS, bare AMQP header) are let in."""
        return not self.auth

    @property
    def offered_mechanisms(self) -> tuple[str, ...]:
        """The SASL mechanisms to offer: ``sasl_mechanisms`` less ANONYMOUS when ``auth``."""
        if self.auth:
            return tuple(m for m in self.sasl_mechanisms if m != "ANONYMOUS")
        return self.sasl_mechanisms

    @property
    def log_rules(self) -> tuple[LogRule, ...]:
        """``log_enable`` parsed."""
        return tuple(parse_log_rule(rule) for rule in self.log_enable)


# ---------------------------------------------------------------------------------------------
# Field checks: each takes a typed value and raises ValueError with the reason. They serve
# both BrokerOptions.__post_init__ and the parsers below, so the rules live in one place.


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_range(low: int, high: int | None = None) -> Callable[[object], None]:
    def check(value: object) -> None:
        if not _is_int(value):
            raise ValueError(f"expected an integer, not {value!r}")
        assert isinstance(value, int)
        if value < low or (high is not None and value > high):
            bound = f"{low}..{high}" if high is not None else f"at least {low}"
            raise ValueError(f"must be {bound}, not {value}")

    return check


def _seconds(*, allow_zero: bool) -> Callable[[object], None]:
    def check(value: object) -> None:
        if not (_is_int(value) or isinstance(value, float)):
            raise ValueError(f"expected a number of seconds, not {value!r}")
        assert isinstance(value, int | float)
        if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
            raise ValueError(f"must be {'0 or more' if allow_zero else 'more than 0'}, not {value}")

    return check


def _check_bool(value: object) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"expected yes or no, not {value!r}")


def _optional_text(value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"expected a non-empty string, not {value!r}")


def _check_interface(value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected an address or host name, not {value!r}")
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not re.fullmatch(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?", value):
            raise ValueError(f"not an address or host name: {value!r}") from None


def _check_url(value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise ValueError(f"expected a URL, not {value!r}")
    try:
        parse_url(value)
    except InvalidArgument as e:
        raise ValueError(e.description) from None


def _check_log_rules(value: object) -> None:
    if not isinstance(value, tuple | list):
        raise ValueError(f"expected a sequence of rules, not {value!r}")
    for rule in value:
        _check_log_rule(rule)


def _check_log_rule(value: object) -> None:
    if not isinstance(value, str):
        raise ValueError(f"expected a rule, not {value!r}")
    try:
        parse_log_rule(value)
    except InvalidArgument as e:
        raise ValueError(e.description) from None


def _check_replicate(value: object) -> None:
    if value not in _REPLICATE_LEVELS:
        raise ValueError(f"expected none, configuration or all, not {value!r}")


def _check_mechanism(value: object) -> None:
    if value is not None and value not in SUPPORTED_MECHANISMS:
        raise ValueError(f"expected {' or '.join(SUPPORTED_MECHANISMS)}, not {value!r}")


def _check_mechanisms(value: object) -> None:
    if not isinstance(value, tuple | list) or not value:
        raise ValueError(f"expected one or more of {' '.join(SUPPORTED_MECHANISMS)}")
    for mechanism in value:
        _check_mechanism(mechanism)
    if len(set(value)) != len(value):
        raise ValueError("a mechanism is named twice")


def _check_users(value: object) -> None:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a mapping of user to password, not {value!r}")
    for user, password in value.items():
        if not isinstance(user, str) or not user or not isinstance(password, str):
            raise ValueError(f"bad user entry {user!r}")


_CHECKS: dict[str, Callable[[Any], None]] = {
    "port": _int_range(0, 65535),
    "interface": _check_interface,
    "auth": _check_bool,
    "data_dir": _optional_text,
    "log_enable": _check_log_rules,
    "log_to_stderr": _check_bool,
    "log_to_file": _optional_text,
    "ha_cluster": _check_bool,
    "ha_queue_replication": _check_bool,
    "ha_brokers_url": _check_url,
    "ha_public_url": _check_url,
    "ha_replicate": _check_replicate,
    "ha_username": _optional_text,
    "ha_password": lambda value: _optional_text(value or None),  # an empty password is fine
    "ha_mechanism": _check_mechanism,
    "ha_backup_timeout": _seconds(allow_zero=True),
    "link_maintenance_interval": _seconds(allow_zero=False),
    "link_heartbeat_interval": _seconds(allow_zero=False),
    "max_connections": _int_range(1),
    "handshake_timeout": _seconds(allow_zero=False),
    "max_preauth_bytes": _int_range(512),
    "max_frame_size": _int_range(512, 2**32 - 1),
    "idle_timeout": _seconds(allow_zero=True),
    "sasl_mechanisms": _check_mechanisms,
    "users": _check_users,
    "max_message_size": _int_range(0),
    "auto_create": _check_bool,
}


def _option_name(field: str) -> str:
    return "--" + field.replace("_", "-")


# ---------------------------------------------------------------------------------------------
# Logging rules.


class LogRule(NamedTuple):
    """One parsed ``--log-enable`` rule.

    Attributes:
        level: the Python logging level of the rule's qpidd level.
        direction: ``"+"`` (this level and above), ``"-"`` (and below) or ``""`` (exactly).
        logger: the logger the rule covers, with every logger below it.
    """

    level: int
    direction: str
    logger: str

    def matches(self, name: str, levelno: int) -> bool:
        """Whether a record of logger ``name`` at ``levelno`` is enabled by this rule.

        Args:
            name: the record's logger name.
            levelno: the record's level.

        Returns:
            True when the logger is covered and the level is in the rule's range.
        """
        if name != self.logger and not name.startswith(self.logger + "."):
            return False
        if self.direction == "+":
            return levelno >= self.level
        if self.direction == "-":
            return levelno < _next_level(self.level)
        return self.level <= levelno < _next_level(self.level)

    @property
    def lowest(self) -> int:
        """The lowest level the rule enables (1 for a ``-`` rule: every level)."""
        return 1 if self.direction == "-" else self.level


# Python has no notice level: qpidd's notice (its default threshold, for lifecycle events)
# maps onto INFO, so "notice+" and "info+" enable the same records.
_LEVELS: dict[str, int] = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
_LEVEL_STEPS = sorted(set(_LEVELS.values()))
_RULE = re.compile(r"(?i)([a-z]+)([+-]?)(?::(.*))?")
_LOGGER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def _next_level(level: int) -> int:
    return next((step for step in _LEVEL_STEPS if step > level), logging.CRITICAL + 10)


def parse_log_rule(text: str) -> LogRule:
    """Parse a qpidd logging rule, ``LEVEL[+|-][:PATTERN]``.

    Args:
        text: for example ``"info+"``, ``"debug+:amqp.frames"``, ``"trace+:qpid_ha.io"``.
            LEVEL is one of trace, debug, info, notice (the same as info), warning, error,
            critical. PATTERN names a logger, ``qpid_ha`` being implied when it does not start
            with it; without a pattern the rule covers every ``qpid_ha`` logger.

    Returns:
        The rule.

    Raises:
        InvalidArgument: an unknown level or a pattern that is not a logger name.
    """
    match = _RULE.fullmatch(text.strip())
    if match is None or match[1].lower() not in _LEVELS:
        raise InvalidArgument(
            f"bad log rule {text!r}: expected LEVEL[+|-][:PATTERN] with LEVEL one of "
            + ", ".join(_LEVELS)
        )
    pattern = (match[3] or "").strip()
    if match[3] is not None and not _LOGGER_NAME.fullmatch(pattern):
        raise InvalidArgument(f"bad log rule {text!r}: the pattern must be a logger name")
    if not pattern or pattern == "qpid_ha":
        logger = "qpid_ha"
    elif pattern.startswith("qpid_ha."):
        logger = pattern
    else:
        logger = "qpid_ha." + pattern
    return LogRule(_LEVELS[match[1].lower()], match[2], logger)


class _RuleFilter(logging.Filter):
    """Passes a record when any rule enables it (qpidd's rules are additive)."""

    def __init__(self, rules: Sequence[LogRule]) -> None:
        super().__init__()
        self.rules = tuple(rules)

    def filter(self, record: logging.LogRecord) -> bool:
        return any(rule.matches(record.name, record.levelno) for rule in self.rules)


_installed_handlers: list[logging.Handler] = []
_configured_loggers: set[str] = set()


def configure_logging(options: BrokerOptions, stream: TextIO | None = None) -> None:
    """Apply ``options``' logging settings to Python logging; for the daemon only.

    Sets the level of each logger the rules name (and of ``qpid_ha``) to the lowest level a
    rule enables there, so disabled records cost one level check, and installs on ``qpid_ha``
    a handler per destination (stderr, file) that passes exactly what the rules enable. The
    ``qpid_ha`` logger stops propagating to the root logger. Calling it again replaces what
    an earlier call set up.

    Args:
        options: the settings (``log_enable``, ``log_to_stderr``, ``log_to_file``).
        stream: where "stderr" output goes (``sys.stderr`` when None; tests pass a buffer).

    Raises:
        OSError: the log file cannot be opened.
    """
    logging.addLevelName(TRACE, "TRACE")
    root = logging.getLogger("qpid_ha")
    for handler in _installed_handlers:
        root.removeHandler(handler)
        handler.close()
    _installed_handlers.clear()
    for name in _configured_loggers:
        logging.getLogger(name).setLevel(logging.NOTSET)
    _configured_loggers.clear()

    rules = options.log_rules
    for name in {"qpid_ha", *(rule.logger for rule in rules)}:
        covering = [
            rule.lowest
            for rule in rules
            if name == rule.logger or name.startswith(rule.logger + ".")
        ]
        logging.getLogger(name).setLevel(min(covering, default=logging.CRITICAL + 10))
        _configured_loggers.add(name)

    formatter = logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s")
    handlers: list[logging.Handler] = []
    if options.log_to_stderr:
        handlers.append(logging.StreamHandler(stream if stream is not None else sys.stderr))
    if options.log_to_file is not None:
        handlers.append(logging.FileHandler(options.log_to_file, encoding="utf-8"))
    if not handlers:
        handlers.append(logging.NullHandler())
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(_RuleFilter(rules))
        root.addHandler(handler)
        _installed_handlers.append(handler)
    root.propagate = False


# ---------------------------------------------------------------------------------------------
# Command line and config file.


def _text(text: str) -> str:
    if not text:
        raise ValueError("expected a non-empty value")
    return text


def _integer(text: str) -> int:
    try:
        return int(text.strip(), 10)
    except ValueError:
        raise ValueError(f"invalid value {text!r}: expected an integer") from None


def _number(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ValueError(f"invalid value {text!r}: expected a number of seconds") from None


_YES = frozenset({"yes", "true", "on", "1"})
_NO = frozenset({"no", "false", "off", "0"})


def _yes_no(text: str) -> bool:
    word = text.strip().lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise ValueError(f"invalid value {text!r}: expected yes or no")


def _lower(text: str) -> str:
    return text.strip().lower()


def _upper(text: str) -> str:
    return text.strip().upper()


def _mechanism_list(text: str) -> tuple[str, ...]:
    return tuple(m.upper() for m in re.split(r"[\s,]+", text.strip()) if m)


def _users_file(text: str) -> dict[str, str]:
    """Read a file of ``user=password`` lines (``#`` comments, blank lines)."""
    try:
        with open(text, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise ValueError(f"cannot read {text!r}: {e.strerror or e}") from None
    users: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        user, equals, password = line.partition("=")
        user = user.strip()
        if not equals or not user:
            raise ValueError(f"{text}:{number}: expected user=password")
        if user in users:
            raise ValueError(f"{text}:{number}: user {user!r} is listed twice")
        users[user] = password.strip()
    return users


@dataclass(frozen=True)
class _Option:
    """One qpidd option: how the command line and the config file spell and read it."""

    name: str  # the long option without "--", also the config file key
    parse: Callable[[str], Any]  # text -> typed value; ValueError with the reason
    metavar: str
    help: str
    kind: Literal["value", "flag", "append"] = "value"

    @property
    def field(self) -> str:
        return self.name.replace("-", "_")


_OPTIONS: tuple[_Option, ...] = (
    _Option("port", _integer, "N", "TCP port to listen on; 0 picks one and prints it"),
    _Option("interface", _text, "ADDR", "address to listen on (0.0.0.0 for all)"),
    _Option("auth", _yes_no, "yes|no", "require authentication", "flag"),
    _Option("data-dir", _text, "DIR", "directory for durable state"),
    _Option("log-enable", _text, "RULE", "logging rule LEVEL[+|-][:PATTERN]", "append"),
    _Option("log-to-stderr", _yes_no, "yes|no", "log to stderr", "flag"),
    _Option("log-to-file", _text, "FILE", "also log to FILE"),
    _Option("ha-cluster", _yes_no, "yes|no", "join an HA cluster", "flag"),
    _Option("ha-queue-replication", _yes_no, "yes|no", "allow replicating single queues", "flag"),
    _Option("ha-brokers-url", _text, "URL", "URL brokers of the cluster use to reach each other"),
    _Option("ha-public-url", _text, "URL", "URL advertised to clients for failover"),
    _Option("ha-replicate", _lower, "LEVEL", "default replication: none|configuration|all"),
    _Option("ha-username", _text, "USER", "user for replication connections"),
    _Option("ha-password", str, "PASS", "password for replication connections"),
    _Option("ha-mechanism", _upper, "MECH", "SASL mechanism for replication connections"),
    _Option("ha-backup-timeout", _number, "SECONDS", "time a recovering primary waits"),
    _Option("link-maintenance-interval", _number, "SECONDS", "interval of link health checks"),
    _Option("link-heartbeat-interval", _number, "SECONDS", "heartbeat of replication links"),
    _Option("max-connections", _integer, "N", "most client connections at once"),
    _Option("handshake-timeout", _number, "SECONDS", "time to complete header, SASL and open"),
    _Option("max-preauth-bytes", _integer, "N", "most bytes accepted before authentication"),
    _Option("max-frame-size", _integer, "N", "largest AMQP frame accepted"),
    _Option("idle-timeout", _number, "SECONDS", "drop connections silent this long; 0: never"),
    _Option("sasl-mechanisms", _mechanism_list, "MECHS", "SASL mechanisms to offer"),
    _Option("users", _users_file, "FILE", "file of user=password lines for PLAIN"),
    _Option("max-message-size", _integer, "N", "largest message accepted; 0: no limit"),
    _Option("auto-create", _yes_no, "yes|no", "create a queue for unknown addresses", "flag"),
)
_BY_NAME: dict[str, _Option] = {option.name: option for option in _OPTIONS}
_FIELD_DEFAULTS: dict[str, Any] = {
    name: default
    for name, default in zip(
        BrokerOptions.__struct_fields__, BrokerOptions.__struct_defaults__, strict=True
    )
}


def _convert(option: _Option, text: str) -> Any:
    """Parse one value and run its field check; ValueError with the reason."""
    value = option.parse(text)
    check = _CHECKS[option.field]
    check(value if option.kind != "append" else (value,))
    return value


class _Parser(argparse.ArgumentParser):
    """argparse reporting errors as InvalidArgument (one line, no usage, no exit 2)."""

    def error(self, message: str) -> NoReturn:
        # argparse says "argument --port: ..."; qpidd says "--port: ...".
        raise InvalidArgument(re.sub(r"^argument (\S+?)(?:/\S+)?: ", r"\1: ", message))


def _argparse_type(option: _Option) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return _convert(option, text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = option.name  # argparse names the type in some messages
    return convert


def _make_parser() -> _Parser:
    parser = _Parser(
        prog="qpidd",
        description="qpid-ha broker daemon: AMQP 1.0 with Qpid's active-passive HA.",
        allow_abbrev=False,
        argument_default=argparse.SUPPRESS,
    )
    parser.add_argument("--config", metavar="FILE", help="read options from FILE (name=value)")
    for option in _OPTIONS:
        default = _FIELD_DEFAULTS.get(option.field)
        if isinstance(default, bool):
            default = "yes" if default else "no"
        elif isinstance(default, tuple):
            default = " ".join(default)
        shown = f" (default: {default})" if isinstance(default, str | int | float) else ""
        kwargs: dict[str, Any] = {
            "metavar": option.metavar,
            "help": option.help + shown,
            "type": _argparse_type(option),
            "dest": option.field,
        }
        if option.kind == "flag":
            kwargs.update(nargs="?", const=True)
        elif option.kind == "append":
            kwargs.update(action="append")
        parser.add_argument("--" + option.name, **kwargs)
    parser.add_argument("--version", action="version", version=f"qpidd (qpid-ha) {__version__}")
    return parser


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a qpidd config file of ``name=value`` lines.

    Args:
        path: the file.

    Returns:
        Field name (as in :class:`BrokerOptions`) to typed value, for the options the file
        sets; ``log_enable`` as a tuple of the rules in file order.

    Raises:
        InvalidArgument: the file cannot be read, or a line is malformed, names an unknown
            option, repeats an option that is not repeatable, or has a bad value. The
            description starts with ``FILE:LINE: key:``.
    """
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise InvalidArgument(f"--config: cannot read {name!r}: {reason}") from None
    values: dict[str, Any] = {}
    for number, line in enumerate(lines, 1):
        where = f"{name}:{number}"
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, equals, text = stripped.partition("=")
        key, text = key.strip(), text.strip()
        if not equals:
            raise InvalidArgument(f"{where}: expected name=value, got {stripped!r}")
        if key == "config":
            raise InvalidArgument(f"{where}: config: not allowed in a config file")
        option = _BY_NAME.get(key)
        if option is None:
            raise InvalidArgument(f"{where}: unknown option {key!r}")
        try:
            value = _convert(option, text)
        except ValueError as e:
            raise InvalidArgument(f"{where}: {key}: {e}") from None
        if option.kind == "append":
            values[option.field] = (*values.get(option.field, ()), value)
        elif option.field in values:
            raise InvalidArgument(f"{where}: {key}: given twice")
        else:
            values[option.field] = value
    return values


def parse_args(argv: Sequence[str]) -> BrokerOptions:
    """Parse qpidd's command line (and the ``--config`` file it names).

    Args:
        argv: the arguments, without the program name.

    Returns:
        The options: the defaults, overridden by the config file, overridden by the command
        line.

    Raises:
        InvalidArgument: a bad option, value or config file; the description is one line
            naming the option (``--port: ...``) or the file line and key.
        SystemExit: ``--help`` or ``--version`` printed their text (status 0).
    """
    given = vars(_make_parser().parse_args(list(argv)))
    config = given.pop("config", None)
    values = read_config_file(config) if config is not None else {}
    for field, value in given.items():
        values[field] = tuple(value) if isinstance(value, list) else value
    return BrokerOptions(**values)
