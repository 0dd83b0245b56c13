"""The isop command, invoked in-process: help, version, exit codes, the store commands."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from collector import __version__
from collector.cli import cli


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ISOP_CONFIG", raising=False)
    return CliRunner()


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"isop {__version__}"


@pytest.mark.parametrize("path", list(all_commands(cli)), ids=" ".join)
def test_every_command_has_help(runner, path):
    result = runner.invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    command = cli
    for name in path:
        command = command.commands[name]
    assert command.help and command.help.strip(), f"isop {' '.join(path)} has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert param.help, f"option {param.opts} of isop {' '.join(path)} has no help"


def test_bad_config_exits_2_with_one_line(runner, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[network]\ntimeout = 'soon'\n")
    result = runner.invoke(cli, ["--config", str(bad), "config", "check"])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: config [network] timeout: must be a number, not 'soon'"


def test_bad_usage_exits_2(runner):
    assert runner.invoke(cli, ["db", "upgrade", "--nope"]).exit_code == 2
    assert runner.invoke(cli, ["no-such-command"]).exit_code == 2


def test_db_upgrade_creates_the_store_and_status_counts_rows(runner, store_url, monkeypatch):
    monkeypatch.setenv("ISOP_STORAGE_URL", store_url)
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    from storage.migrate import head_revision

    assert f"store at revision {head_revision()}" in result.output
    status = runner.invoke(cli, ["db", "status", "--format", "json"])
    assert status.exit_code == 0, status.output
    info = json.loads(status.output)
    assert info["revision"] == head_revision()
    assert info["tables"]["sites"] == 0 and "pages" in info["tables"]


def test_unreachable_store_is_a_failure_not_a_traceback(runner, monkeypatch):
    monkeypatch.setenv("ISOP_STORAGE_URL", "postgresql://nobody:s3cret@127.0.0.1:1/isop")
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: store postgresql://nobody:***@127.0.0.1:1/isop:")
    assert "s3cret" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_default_store_is_relative_to_the_working_directory(runner, tmp_path):
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "isop.db").is_file()
