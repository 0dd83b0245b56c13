"""The default sandbox world: its content meets the brief, and it answers end to end.

The unit behaviour of each service is tested in tests/sandbox/; here the whole world is
served as isop will use it, through ``proxy`` and ``resolvers`` only.
"""

from __future__ import annotations

import collections
import json
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from collector.config import load_config
from collector.sandbox.world import CATEGORIES, load_world
from spiders.resolver import parse_host_port

WORLD = load_world()
PIRACY_CATEGORIES = [c for c in CATEGORIES if c != "none"]


# --- content ------------------------------------------------------------------------------


def test_world_has_at_least_30_registered_domains():
    registered = [d for d in WORLD.domains.values() if d.registration]
    assert len(registered) >= 30


def test_every_piracy_category_is_present():
    found = collections.Counter(d.truth.category for d in WORLD.domains.values() if d.truth.piracy)
    assert set(PIRACY_CATEGORIES) <= set(found), set(PIRACY_CATEGORIES) - set(found)


def _page_langs() -> set[str]:
    langs = set()
    for site in WORLD.sites.values():
        if not site.root.is_dir():
            continue
        for page in site.root.rglob("*.htm*"):
            head = page.read_bytes()[:4000].decode("utf-8", "replace")
            m = re.search(r"<html[^>]*\blang=[\"']?([a-zA-Z]{2})", head)
            if m:
                langs.add(m.group(1).lower())
    return langs


def test_pages_come_in_many_languages():
    assert {"ko", "en", "fr", "es", "ar"} <= _page_langs()


def test_hard_negatives_and_an_operator_network_exist():
    negatives = [d for d in WORLD.domains.values() if d.registration and not d.truth.piracy and d.sites]
    assert len(negatives) >= 6
    operators = collections.Counter(d.truth.operator for d in WORLD.domains.values() if d.truth.operator)
    assert operators and max(operators.values()) >= 3


def test_world_has_a_numbered_hop_chain_a_trap_and_a_big_site():
    redirects = [s for s in WORLD.sites.values() if s.redirect]
    numbered = [s for s in redirects if re.search(r"\d+$", s.host.split(".")[-2])]
    assert numbered, "a numbered domain-hopping chain with 301s"
    generators = {r.generator for s in WORLD.sites.values() for r in s.routes}
    assert {"calendar", "bigsite"} <= generators


def test_ip_addresses_are_data_inside_known_networks():
    for domain in WORLD.domains.values():
        for owner, rrsets in domain.records.items():
            for ip in rrsets.get("A", ()) + rrsets.get("AAAA", ()):
                import ipaddress

                if ipaddress.ip_address(ip).is_global:
                    assert WORLD.network_for(ip) is not None, f"{owner} {ip} is in no network"


def test_tlds_the_parsers_must_handle_are_registered():
    tlds = {d.tld for d in WORLD.domains.values() if d.registration}
    assert {"com", "net", "org", "io", "to", "cc", "kr", "ru", "se", "me", "xyz", "tv"} <= tlds


# --- served -------------------------------------------------------------------------------


def _opener(sandbox):
    context = ssl.create_default_context(cafile=str(sandbox.ca_path))
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": sandbox.proxy_url, "https": sandbox.proxy_url}),
        urllib.request.HTTPSHandler(context=context))


def test_every_site_host_resolves_through_the_resolver(sandbox):
    host, port = parse_host_port(sandbox.resolvers[0])
    for name, _site in WORLD.sites.items():
        domain = WORLD.domain_for(name)
        if domain.faults.dns:
            continue
        answer = dns.query.udp(dns.message.make_query(name, "A"), host, port=port, timeout=5)
        assert answer.rcode() == dns.rcode.NOERROR, name
        assert any(rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.CNAME) for rrset in answer.answer), name


def test_seeds_are_served_over_verified_https_and_http(sandbox):
    seeds = [line.strip() for line in WORLD.seeds_path().read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert len(seeds) >= 3
    opener = _opener(sandbox)
    for url in seeds:
        with opener.open(url, timeout=15) as response:
            assert response.status == 200, url
            assert response.read(100_000), url


def test_unknown_hosts_get_502(sandbox):
    with pytest.raises(urllib.error.HTTPError) as info:
        _opener(sandbox).open("http://no-such-site.example/", timeout=10)
    assert info.value.code == 502


def test_rdap_bootstrap_and_domain_record(sandbox):
    opener = _opener(sandbox)
    with opener.open("https://data.iana.org/rdap/dns.json", timeout=10) as r:
        services = json.load(r)["services"]
    domain = next(d for d in WORLD.domains.values()
                  if d.registration and not d.faults.rdap and WORLD.registry_for(d.tld).rdap_base)
    base = next(urls[0] for tlds, urls in services if domain.tld in tlds)
    with opener.open(base.rstrip("/") + f"/domain/{domain.name}", timeout=10) as r:
        record = json.load(r)
    assert record["ldhName"].lower() == domain.name
    assert record["objectClassName"] == "domain"


def _whois_via_proxy(sandbox, server: str, query: str) -> str:
    host, port = urlsplit(sandbox.proxy_url).hostname, urlsplit(sandbox.proxy_url).port
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(f"CONNECT {server}:43 HTTP/1.1\r\nHost: {server}:43\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(1)
            assert chunk, "proxy closed the tunnel"
            head += chunk
        assert head.split()[1] == b"200", head
        s.sendall(query.encode() + b"\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data.decode("utf-8", "replace")


def test_whois_referral_then_registry_answer_through_the_proxy(sandbox):
    domain = next(d for d in WORLD.domains.values() if d.registration and d.tld == "kr" and not d.faults.whois)
    referral = _whois_via_proxy(sandbox, "whois.iana.org", domain.tld)
    server = re.search(r"(?im)^(?:refer|whois):\s*(\S+)", referral).group(1)
    assert server == WORLD.registry_for("kr").whois_server
    answer = _whois_via_proxy(sandbox, server, domain.name)
    assert domain.name in answer.lower()


def test_sandbox_serve_command_writes_ports_and_config(tmp_path, guarded_env):
    ports = tmp_path / "ports.json"
    proc = subprocess.Popen([sys.executable, "-m", "collector.cli", "sandbox", "serve", "--ports-file", str(ports),
                             "--state-dir", str(tmp_path / "state")],
                            env=guarded_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not ports.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert ports.exists(), proc.stdout.read() if proc.poll() is not None else "no ports file"
        info = json.loads(ports.read_text())
        config_file = ports.with_name("isop-sandbox.toml")
        config = load_config(config_file, env={})
        assert config.network.proxy == info["proxy"]
        assert config.network.resolvers and config.network.ca_bundle
        host, port = parse_host_port(config.network.resolvers[0])
        name = next(iter(WORLD.sites))
        answer = dns.query.udp(dns.message.make_query(name, "A"), host, port=port, timeout=5)
        assert answer.rcode() == dns.rcode.NOERROR
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "sandbox stopped" in out
