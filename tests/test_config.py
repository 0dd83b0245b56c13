"""Configuration: defaults, file, environment overrides, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.config import ConfigError, as_toml, load_config
from spiders.resolver import parse_host_port


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "isop.toml"
    path.write_text(text)
    return path


def test_defaults_from_shipped_file():
    config = load_config(env={})
    assert config.storage.url == "sqlite:///data/isop.db"
    assert config.evidence.dir == "data/evidence"
    assert config.network.proxy == "" and config.network.resolvers == ()


def test_file_and_environment_override(tmp_path):
    path = write(tmp_path, '[network]\nproxy = "http://127.0.0.1:8080"\nresolvers = ["127.0.0.1:5353"]\ntimeout = 5\n')
    config = load_config(path, env={"ISOP_NETWORK_TIMEOUT": "2.5", "ISOP_STORAGE_URL": "postgresql://u@127.0.0.1/isop",
                                    "ISOP_NETWORK_RESOLVERS": "127.0.0.1:53, 127.0.0.2:5353"})
    assert config.network.proxy == "http://127.0.0.1:8080"
    assert config.network.timeout == 2.5
    assert config.network.resolvers == ("127.0.0.1:53", "127.0.0.2:5353")
    assert config.storage.url.startswith("postgresql://")
    assert config.source == str(path)


def test_isop_config_env_names_the_file(tmp_path):
    path = write(tmp_path, '[evidence]\ndir = "/tmp/ev"\n')
    assert load_config(env={"ISOP_CONFIG": str(path)}).evidence.dir == "/tmp/ev"


@pytest.mark.parametrize(("text", "env", "expected"), [
    ("[network]\nproxxy = 1\n", {}, "config [network] proxxy: unknown key"),
    ("[netwrk]\n", {}, "config [netwrk]: unknown section"),
    ('[network]\ntimeout = "soon"\n', {}, "config [network] timeout: must be a number"),
    ("[network]\ntimeout = -1\n", {}, "config [network] timeout: must be greater than 0"),
    ('[network]\nproxy = "socks5://127.0.0.1:1080"\n', {}, "config [network] proxy: must be an http://host:port proxy URL"),
    ('[network]\nresolvers = ["dns.google"]\n', {}, "config [network] resolvers: 'dns.google' is not an IP address"),
    ('[network]\nca_bundle = "/nonexistent/ca.pem"\n', {}, "config [network] ca_bundle: no such file"),
    ('[storage]\nurl = "mysql://x"\n', {}, "config [storage] url: must be a sqlite:/// or postgresql:// URL"),
    ("[storage]\nurl = [\n", {}, "not valid TOML"),
    ("", {"ISOP_STORAGE_BATCH_SIZE": "many"}, "config [storage] batch_size: must be a number"),
    ("", {"ISOP_NETWORK_PROXY": "nonsense"}, "config ISOP_NETWORK_PROXY: must be an http://host:port proxy URL"),
])
def test_bad_config_is_one_clear_line(tmp_path, text, env, expected):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), env=env)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml", env={})


def test_show_round_trips(tmp_path):
    config = load_config(write(tmp_path, '[network]\nresolvers = ["127.0.0.1:53"]\n'), env={})
    again = load_config(write(tmp_path, as_toml(config)), env={})
    assert again.network == config.network
    assert again.storage.url == f"sqlite:///{Path.cwd() / 'data' / 'isop.db'}", "show tells where the store is"
    assert again.storage.batch_size == config.storage.batch_size


@pytest.mark.parametrize(("value", "expected"), [
    ("127.0.0.1:5353", ("127.0.0.1", 5353)), ("127.0.0.1", ("127.0.0.1", 53)),
    ("[::1]:5300", ("::1", 5300)), ("::1", ("::1", 53)),
])
def test_parse_host_port(value, expected):
    assert parse_host_port(value) == expected


def test_a_relative_sqlite_store_lives_beside_its_config_file(tmp_path, monkeypatch):
    folder = tmp_path / "course"
    folder.mkdir()
    path = folder / "isop.toml"
    path.write_text('[storage]\nurl = "sqlite:///store/isop.db"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_config(path, env={}).storage.url == f"sqlite:///{folder / 'store' / 'isop.db'}"
    assert load_config(env={"ISOP_CONFIG": str(path)}).storage.url == f"sqlite:///{folder / 'store' / 'isop.db'}"
    # absolute paths, other databases and the environment override stay as given
    path.write_text('[storage]\nurl = "sqlite:////srv/isop.db"\n')
    assert load_config(path, env={}).storage.url == "sqlite:////srv/isop.db"
    path.write_text('[storage]\nurl = "postgresql://u@127.0.0.1/isop"\n')
    assert load_config(path, env={}).storage.url == "postgresql://u@127.0.0.1/isop"
    path.write_text('[storage]\nurl = "sqlite:///store/isop.db"\n')
    assert load_config(path, env={"ISOP_STORAGE_URL": "sqlite:///here.db"}).storage.url == "sqlite:///here.db"
    # a file that does not name a store, and the shipped default: the working directory
    path.write_text('[network]\ntimeout = 3\n')
    assert load_config(path, env={}).storage.url == "sqlite:///data/isop.db"
