"""``isop sandbox serve --config FILE`` rewrites only the [network] ports of a config."""

from __future__ import annotations

import tomllib

from collector.sandbox.config_file import with_network

OLD = """# my course store
[storage]
url = "sqlite:////srv/course/isop.db"   # keep me

[network]
timeout = 7
proxy = "http://127.0.0.1:41111"
resolvers = [
  "127.0.0.1:42222",
]
ca_bundle = "/old/ca.pem"

[evidence]
dir = "/srv/course/evidence"

[[jobs]]
name = "nightly"
cron = "0 2 * * *"
kind = "recheck"
"""


def test_only_the_network_ports_change():
    new = with_network(OLD, "http://127.0.0.1:50001", ["127.0.0.1:50002"], "/state/ca.pem")
    data = tomllib.loads(new)
    assert data["network"] == {"timeout": 7, "proxy": "http://127.0.0.1:50001", "resolvers": ["127.0.0.1:50002"],
                               "ca_bundle": "/state/ca.pem"}
    assert data["storage"] == {"url": "sqlite:////srv/course/isop.db"}
    assert data["evidence"] == {"dir": "/srv/course/evidence"} and data["jobs"][0]["name"] == "nightly"
    assert "# my course store" in new and "# keep me" in new
    assert "41111" not in new and "42222" not in new


def test_a_config_without_network_gets_one():
    new = with_network('[storage]\nurl = "sqlite:///x.db"\n', "http://127.0.0.1:1", ["127.0.0.1:2"], "/ca.pem")
    data = tomllib.loads(new)
    assert data["network"]["proxy"] == "http://127.0.0.1:1" and data["storage"]["url"] == "sqlite:///x.db"
