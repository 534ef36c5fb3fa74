"""Broker options: qpidd's command line, its config file, validation and logging rules."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from qpid_ha.broker.options import (
    LOGGERS,
    TRACE,
    BrokerOptions,
    configure_logging,
    parse_args,
    parse_log_rule,
    read_config_file,
)
from qpid_ha.errors import InvalidArgument


def _file(tmp_path: Path, text: str, name: str = "qpidd.conf") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(argv: list[str]) -> str:
    with pytest.raises(InvalidArgument) as info:
        parse_args(argv)
    return info.value.description


# -- defaults ---------------------------------------------------------------------------------


def test_no_arguments_give_the_documented_defaults() -> None:
    options = parse_args([])
    assert options == BrokerOptions()
    assert options.port == 5672
    assert options.interface == "127.0.0.1"
    assert options.auth is False
    assert options.ha_cluster is False and options.ha_queue_replication is False
    assert options.ha_replicate == "none"
    assert options.ha_backup_timeout == 10
    assert options.link_maintenance_interval == 2
    assert options.link_heartbeat_interval == 5
    assert options.max_connections == 10000
    assert options.handshake_timeout == 10
    assert options.max_preauth_bytes == 65536
    assert options.max_frame_size == 65536
    assert options.idle_timeout == 60
    assert options.log_enable == ("notice+",) and options.log_to_stderr is True
    assert options.sasl_mechanisms == ("ANONYMOUS", "PLAIN")
    assert options.users == {} and options.data_dir is None


def test_every_option_is_read_from_the_command_line(tmp_path: Path) -> None:
    users = _file(tmp_path, "# users\nalice=secret\n\nbob = pw=with=equals\n", "users")
    options = parse_args(
        [
            "--port=0",
            "--interface",
            "0.0.0.0",
            "--auth",
            "yes",
            "--data-dir",
            str(tmp_path),
            "--log-enable",
            "info+",
            "--log-enable",
            "debug+:amqp.frames",
            "--log-to-stderr",
            "no",
            "--log-to-file",
            str(tmp_path / "log"),
            "--ha-cluster",
            "yes",
            "--ha-queue-replication",
            "yes",
            "--ha-brokers-url",
            "node1,node2:5673",
            "--ha-public-url",
            "amqp:tcp:vip",
            "--ha-replicate",
            "ALL",
            "--ha-username",
            "alice",
            "--ha-password",
            "secret",
            "--ha-mechanism",
            "plain",
            "--ha-backup-timeout",
            "0.5",
            "--link-maintenance-interval",
            "0.1",
            "--link-heartbeat-interval",
            "1",
            "--max-connections",
            "7",
            "--handshake-timeout",
            "2.5",
            "--max-preauth-bytes",
            "4096",
            "--max-frame-size",
            "1024",
            "--idle-timeout",
            "0",
            "--sasl-mechanisms",
            "plain,anonymous",
            "--users",
            str(users),
        ]
    )
    assert options == BrokerOptions(
        port=0,
        interface="0.0.0.0",
        auth=True,
        data_dir=str(tmp_path),
        log_enable=("info+", "debug+:amqp.frames"),
        log_to_stderr=False,
        log_to_file=str(tmp_path / "log"),
        ha_cluster=True,
        ha_queue_replication=True,
        ha_brokers_url="node1,node2:5673",
        ha_public_url="amqp:tcp:vip",
        ha_replicate="all",
        ha_username="alice",
        ha_password="secret",
        ha_mechanism="PLAIN",
        ha_backup_timeout=0.5,
        link_maintenance_interval=0.1,
        link_heartbeat_interval=1.0,
        max_connections=7,
        handshake_timeout=2.5,
        max_preauth_bytes=4096,
        max_frame_size=1024,
        idle_timeout=0.0,
        sasl_mechanisms=("PLAIN", "ANONYMOUS"),
        users={"alice": "secret", "bob": "pw=with=equals"},
    )


@pytest.mark.parametrize("word", ["yes", "YES", "true", "on", "1"])
def test_yes_no_options_accept_qpidd_spellings_of_yes(word: str) -> None:
    assert parse_args(["--ha-cluster", word]).ha_cluster is True


@pytest.mark.parametrize("word", ["no", "false", "off", "0"])
def test_yes_no_options_accept_qpidd_spellings_of_no(word: str) -> None:
    assert parse_args(["--log-to-stderr", word]).log_to_stderr is False


def test_a_yes_no_option_given_alone_means_yes() -> None:
    options = parse_args(["--log-to-stderr", "--ha-cluster", "--port", "0"])
    assert options.ha_cluster is True and options.log_to_stderr is True and options.port == 0


# -- command line errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "x"], "--port: invalid value 'x': expected an integer"),
        (["--port", "70000"], "--port: must be 0..65535, not 70000"),
        (["--port", "-1"], "--port: must be 0..65535, not -1"),
        (["--port"], "--port: expected one argument"),
        (["--interface", "not an address"], "--interface: not an address or host name"),
        (["--auth", "maybe"], "--auth: invalid value 'maybe': expected yes or no"),
        (["--ha-replicate", "some"], "--ha-replicate: expected none, configuration or all"),
        (["--ha-brokers-url", "rdma:h"], "--ha-brokers-url: invalid URL 'rdma:h'"),
        (["--ha-public-url", "h:0"], "--ha-public-url: invalid URL 'h:0'"),
        (["--ha-mechanism", "GSSAPI"], "--ha-mechanism: expected ANONYMOUS or PLAIN"),
        (["--ha-backup-timeout", "-1"], "--ha-backup-timeout: must be 0 or more"),
        (["--link-heartbeat-interval", "0"], "--link-heartbeat-interval: must be more than 0"),
        (["--link-maintenance-interval", "nan"], "--link-maintenance-interval: must be"),
        (["--handshake-timeout", "soon"], "--handshake-timeout: invalid value 'soon'"),
        (["--max-connections", "0"], "--max-connections: must be at least 1"),
        (["--max-frame-size", "100"], "--max-frame-size: must be 512..4294967295"),
        (["--max-preauth-bytes", "1"], "--max-preauth-bytes: must be at least 512"),
        (["--sasl-mechanisms", "CRAM-MD5"], "--sasl-mechanisms: expected ANONYMOUS or PLAIN"),
        (["--log-enable", "loud+"], "--log-enable: bad log rule 'loud+'"),
        (["--log-enable", "info+:a b"], "--log-enable: bad log rule"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--por", "1"], "unrecognized arguments: --por 1"),
        (["stray"], "unrecognized arguments: stray"),
    ],
)
def test_a_bad_option_is_one_line_naming_the_option(argv: list[str], message: str) -> None:
    description = _error(argv)
    assert description.startswith(message), description
    assert "\n" not in description


def test_auth_needs_a_way_in() -> None:
    assert "--auth: yes needs --users" in _error(["--auth", "yes"])
    assert "needs PLAIN" in _error(["--auth", "--ha-username", "u", "--ha-password", "p",
                                   "--sasl-mechanisms", "ANONYMOUS"])  # fmt: skip
    options = parse_args(["--auth", "--ha-username", "u", "--ha-password", "p"])
    assert options.offered_mechanisms == ("PLAIN",)
    assert options.allow_anonymous is False


def test_without_auth_anonymous_clients_are_allowed() -> None:
    options = BrokerOptions()
    assert options.allow_anonymous is True
    assert options.offered_mechanisms == ("ANONYMOUS", "PLAIN")


def test_a_bad_users_file_is_reported_with_its_line(tmp_path: Path) -> None:
    bad = _file(tmp_path, "alice=1\njust-a-name\n", "users")
    assert f"--users: {bad}:2: expected user=password" in _error(["--users", str(bad)])
    twice = _file(tmp_path, "alice=1\nalice=2\n", "users2")
    assert "listed twice" in _error(["--users", str(twice)])
    assert "--users: cannot read" in _error(["--users", str(tmp_path / "missing")])


def test_help_and_version_exit_with_status_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parse_args(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "--ha-brokers-url" in out and "--link-heartbeat-interval" in out
    with pytest.raises(SystemExit) as info:
        parse_args(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("qpidd (qpid-ha) ")


# -- config file ------------------------------------------------------------------------------


def test_the_config_file_sets_options_by_their_long_names(tmp_path: Path) -> None:
    config = _file(
        tmp_path,
        "# the user guide's example\n"
        "\n"
        "  ha-cluster = yes\n"
        "ha-brokers-url=20.0.20.200\n"
        "ha-public-url=20.0.10.200\n"
        "port=0\n"
        "log-enable=info+\n"
        "log-enable=debug+:ha\n"
        "ha-password=p#ss\n"
        "ha-username=admin\n",
    )
    options = parse_args(["--config", str(config)])
    assert options.ha_cluster is True and options.port == 0
    assert options.ha_brokers_url == "20.0.20.200" and options.ha_public_url == "20.0.10.200"
    assert options.log_enable == ("info+", "debug+:ha")
    assert options.ha_password == "p#ss"


def test_the_command_line_wins_over_the_config_file(tmp_path: Path) -> None:
    config = _file(tmp_path, "port=1\nha-replicate=all\nlog-enable=debug+\nlog-enable=trace+\n")
    options = parse_args(["--port", "0", "--config", str(config), "--log-enable", "error+"])
    assert options.port == 0
    assert options.ha_replicate == "all"
    assert options.log_enable == ("error+",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port=x\n", ":1: port: invalid value 'x': expected an integer"),
        ("# fine\nport=99999\n", ":2: port: must be 0..65535, not 99999"),
        ("prot=1\n", ":1: unknown option 'prot'"),
        ("--port=1\n", ":1: unknown option '--port'"),
        ("port\n", ":1: expected name=value"),
        ("port=1\nport=2\n", ":2: port: given twice"),
        ("config=other.conf\n", ":1: config: not allowed in a config file"),
        ("ha-brokers-url=a,,b\n", ":1: ha-brokers-url: invalid URL"),
        ("ha-cluster=maybe\n", ":1: ha-cluster: invalid value 'maybe'"),
    ],
)
def test_a_bad_config_file_line_names_the_file_line_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    config = _file(tmp_path, text)
    description = _error(["--config", str(config)])
    assert description == f"{config}{message}" or description.startswith(f"{config}{message}")


def test_a_missing_config_file_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.conf"
    assert _error(["--config", str(missing)]).startswith(f"--config: cannot read '{missing}'")


def test_read_config_file_returns_typed_field_values(tmp_path: Path) -> None:
    config = _file(tmp_path, "port=0\nha-backup-timeout=3\nlog-enable=info+\n")
    assert read_config_file(config) == {
        "port": 0,
        "ha_backup_timeout": 3.0,
        "log_enable": ("info+",),
    }


# -- the struct -------------------------------------------------------------------------------


def test_options_built_in_code_are_validated_with_the_option_name() -> None:
    with pytest.raises(InvalidArgument, match=r"--port: must be 0\.\.65535"):
        BrokerOptions(port=65536)
    with pytest.raises(InvalidArgument, match="--port: expected an integer"):
        BrokerOptions(port="1")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="--ha-brokers-url: empty URL"):
        BrokerOptions(ha_brokers_url="")
    with pytest.raises(InvalidArgument, match="--ha-password: needs --ha-username"):
        BrokerOptions(ha_password="x")
    with pytest.raises(InvalidArgument, match="--max-frame-size"):
        msgspec.structs.replace(BrokerOptions(), max_frame_size=10)


def test_options_are_frozen_and_keyword_only() -> None:
    options = BrokerOptions(port=0)
    with pytest.raises(AttributeError):
        options.port = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        BrokerOptions(0)  # type: ignore[call-arg]


def test_options_round_trip_through_msgspec() -> None:
    options = BrokerOptions(port=0, ha_cluster=True, users={"a": "b"}, log_enable=("info+",))
    assert msgspec.json.decode(msgspec.json.encode(options), type=BrokerOptions) == options
    with pytest.raises(msgspec.ValidationError, match="prot"):
        msgspec.convert({"prot": 1}, BrokerOptions)


# -- logging ----------------------------------------------------------------------------------


def test_log_rules_parse_level_direction_and_logger() -> None:
    assert parse_log_rule("info+") == (logging.INFO, "+", "qpid_ha")
    assert parse_log_rule("debug+:amqp.frames") == (logging.DEBUG, "+", "qpid_ha.amqp.frames")
    assert parse_log_rule("TRACE-:qpid_ha.io") == (TRACE, "-", "qpid_ha.io")
    assert parse_log_rule("warning") == (logging.WARNING, "", "qpid_ha")
    assert parse_log_rule("notice+") == parse_log_rule("info+")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in LOGGERS]
    saved = [(lg, lg.level, list(lg.handlers), lg.propagate) for lg in loggers]
    yield
    for lg, level, handlers, propagate in saved:
        for handler in lg.handlers:
            if handler not in handlers:
                lg.removeHandler(handler)
                handler.close()
        lg.setLevel(level)
        lg.propagate = propagate


def _log_everywhere() -> None:
    for name in LOGGERS:
        for level in (TRACE, logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR):
            logging.getLogger(name).log(level, "%s at %s", name, logging.getLevelName(level))


def _logged(*rules: str, to_stderr: bool = True) -> list[str]:
    stream = io.StringIO()
    configure_logging(BrokerOptions(log_enable=rules, log_to_stderr=to_stderr), stream=stream)
    _log_everywhere()
    return [line.split("] ", 1)[1] for line in stream.getvalue().splitlines()]


@pytest.mark.usefixtures("restore_logging")
def test_a_plus_rule_enables_that_level_and_above_everywhere() -> None:
    lines = _logged("warning+")
    assert "qpid_ha.io at WARNING" in lines and "qpid_ha.amqp.frames at ERROR" in lines
    assert not any("INFO" in line or "DEBUG" in line for line in lines)
    assert len(lines) == 2 * len(LOGGERS)


@pytest.mark.usefixtures("restore_logging")
def test_a_pattern_rule_enables_one_layer_and_the_loggers_below_it() -> None:
    lines = _logged("error+", "debug+:amqp")
    assert "qpid_ha.amqp at DEBUG" in lines and "qpid_ha.amqp.frames at DEBUG" in lines
    assert "qpid_ha.io at DEBUG" not in lines and "qpid_ha.io at WARNING" not in lines
    assert "qpid_ha.io at ERROR" in lines
    assert "qpid_ha.amqp at TRACE" not in lines


@pytest.mark.usefixtures("restore_logging")
def test_frame_tracing_is_enabled_alone_with_its_logger() -> None:
    lines = _logged("debug+:qpid_ha.amqp.frames")
    assert lines == [
        f"qpid_ha.amqp.frames at {level}" for level in ("DEBUG", "INFO", "WARNING", "ERROR")
    ]


@pytest.mark.usefixtures("restore_logging")
def test_a_rule_without_direction_enables_that_level_alone_and_minus_means_below() -> None:
    assert _logged("warning:broker") == ["qpid_ha.broker at WARNING"]
    assert _logged("debug-:io") == ["qpid_ha.io at TRACE", "qpid_ha.io at DEBUG"]


@pytest.mark.usefixtures("restore_logging")
def test_the_default_rule_logs_info_and_above() -> None:
    lines = _logged(*BrokerOptions().log_enable)
    assert "qpid_ha.broker at INFO" in lines and "qpid_ha.broker at DEBUG" not in lines


@pytest.mark.usefixtures("restore_logging")
def test_without_log_to_stderr_nothing_is_written_there() -> None:
    assert _logged("trace+", to_stderr=False) == []


@pytest.mark.usefixtures("restore_logging")
def test_configuring_again_replaces_the_previous_setup(tmp_path: Path) -> None:
    _logged("trace+")
    assert _logged("error+") == [f"{name} at ERROR" for name in LOGGERS]
    log_file = tmp_path / "qpidd.log"
    configure_logging(BrokerOptions(log_to_stderr=False, log_to_file=str(log_file)))
    logging.getLogger("qpid_ha.ha").warning("to the file")
    assert "to the file" in log_file.read_text()
    assert logging.getLogger("qpid_ha").propagate is False
