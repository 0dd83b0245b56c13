"""Config bounds (issue 11): ``nan``, ``inf`` and absurd magnitudes in any numeric setting are
refused with one line (``timeout = nan`` made enrich hang silently); every numeric field has
an upper bound in its metadata; ``[evidence] dir`` naming a file and an out-of-range
``--limit`` are one line and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import typing
from dataclasses import fields

import pytest
from click.testing import CliRunner

from collector.cli import cli
from collector.config import Config, ConfigError, JobConfig, load_config, parse_duration


def numeric_fields() -> list[tuple[str, str, type]]:
    out = []
    for section, cls in Config.sections().items():
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            if hints[f.name] in (int, float):
                out.append((section, f.name, hints[f.name]))
    return out


NUMERIC = numeric_fields()


def test_every_numeric_field_has_an_upper_bound():
    for section, cls in [*Config.sections().items(), ("jobs", JobConfig)]:
        hints = typing.get_type_hints(cls)
        for f in fields(cls):
            if hints[f.name] in (int, float, int | None):
                assert f.metadata.get("max") is not None, f"[{section}] {f.name} has no \"max\" in its metadata"


def write(tmp_path, text: str):
    path = tmp_path / "isop.toml"
    path.write_text(text)
    return path


def one_line_error(e: pytest.ExceptionInfo, *words: str) -> None:
    message = str(e.value)
    assert "\n" not in message, message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize(("section", "key", "hint"), NUMERIC, ids=[f"{s}.{k}" for s, k, _ in NUMERIC])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
def test_nan_and_infinity_are_refused_in_the_file(tmp_path, section, key, hint, value):
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, f"[{section}]\n{key} = {value}\n"), env={})
    one_line_error(e, f"[{section}] {key}")


@pytest.mark.parametrize(("section", "key", "hint"), NUMERIC, ids=[f"{s}.{k}" for s, k, _ in NUMERIC])
def test_nan_is_refused_from_the_environment(tmp_path, section, key, hint):
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, ""), env={f"ISOP_{section}_{key}".upper(): "nan"})
    one_line_error(e, key)


@pytest.mark.parametrize(("section", "key", "hint"), NUMERIC, ids=[f"{s}.{k}" for s, k, _ in NUMERIC])
def test_beyond_the_bound_is_refused_and_the_bound_itself_is_fine(tmp_path, section, key, hint):
    cls = Config.sections()[section]
    limit = next(f for f in fields(cls) if f.name == key).metadata["max"]
    load_config(write(tmp_path, f"[{section}]\n{key} = {hint(limit)!r}\n"), env={})
    for literal in ([str(limit + 1), str(10**30)] if hint is int else [repr(float(limit) * 1.5), "1e300"]):
        with pytest.raises(ConfigError) as e:
            load_config(write(tmp_path, f"[{section}]\n{key} = {literal}\n"), env={})
        one_line_error(e, f"[{section}] {key}")


def test_the_bounds_are_named_in_the_message(tmp_path):
    with pytest.raises(ConfigError, match=r"config \[network\] timeout: must be at most 3,600$"):
        load_config(write(tmp_path, "[network]\ntimeout = 86400\n"), env={})
    with pytest.raises(ConfigError, match="finite"):
        load_config(write(tmp_path, "[network]\ntimeout = nan\n"), env={})


@pytest.mark.parametrize("value", ["nand", "infd", "1e400s", "36501d", "-1d"])
def test_durations_are_finite_and_bounded(tmp_path, value):
    with pytest.raises(ValueError):
        parse_duration(value)
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, f'[enrich]\nstale_after = "{value}"\n'), env={})
    one_line_error(e, "[enrich] stale_after")


def test_job_limits_are_bounded(tmp_path):
    base = '[[jobs]]\nname = "j"\ncron = "0 * * * *"\nkind = "recrawl"\n'
    for line, word in (("max_pages = 100000000000", "max_pages"), ("depth = 1000", "depth"),
                       ("max_pages = nan", "max_pages")):
        with pytest.raises(ConfigError) as e:
            load_config(write(tmp_path, base + line + "\n"), env={})
        one_line_error(e, word)


@pytest.mark.parametrize("where", ["file", "parent-is-file"])
def test_an_evidence_dir_that_is_a_file_is_one_line(tmp_path, where, guarded_env):
    afile = tmp_path / "evidence"
    afile.write_text("not a folder")
    folder = afile if where == "file" else afile / "runs"
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, f'[evidence]\ndir = "{folder}"\n'), env={})
    one_line_error(e, "[evidence] dir", "not a folder")
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("https://example.invalid/\n")
    config = write(tmp_path, f'[storage]\nurl = "sqlite:///{tmp_path / "x.db"}"\n[evidence]\ndir = "{folder}"\n'
                             '[network]\nproxy = "http://127.0.0.1:9"\n')
    result = subprocess.run([sys.executable, "-m", "collector.cli", "--config", str(config), "crawl", "--seeds",
                             str(seeds)], env=guarded_env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "[evidence] dir" in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1, result.stderr


@pytest.mark.parametrize("args", [
    ["sites", "--limit", "99999999999999999999"], ["sites", "--limit", "0"],
    ["changes", "--since", "7d", "--limit", "99999999999999999999"],
    ["export", "--output", "-", "--limit", "99999999999999999999"],
    ["report", "--output", "r.html", "--top", "99999999999999999999"],
    ["crawl", "--url", "https://example.invalid/", "--max-pages", "99999999999999999999"],
    ["crawl", "--url", "https://example.invalid/", "--depth", "100000"],
    ["evidence", "verify", "--run", "99999999999999999999"],
    ["run-due", "--wait", "nan"],
    ["crawl-distributed", "--crawl-key", "k", "--heartbeat-ttl", "nan"],
    ["crawl-distributed", "--crawl-key", "k", "--idle-seconds", "inf"],
])
def test_out_of_range_options_are_one_line(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ISOP_CONFIG", raising=False)
    monkeypatch.setenv("ISOP_STORAGE_URL", f"sqlite:///{tmp_path / 'isop.db'}")
    monkeypatch.setenv("ISOP_NETWORK_PROXY", "http://127.0.0.1:9")  # were a command to run: nowhere
    monkeypatch.setenv("ISOP_NETWORK_RESOLVERS", "127.0.0.1:9")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Invalid value" in result.output, result.output
