"""A crawler must never be turned against its own network (issue 11): links to loopback,
private, link-local and reserved addresses in any spelling, and to local names, are
refused and recorded, with or without a proxy; with no proxy, names resolving to such
addresses too. ``[network] allow_destinations`` lets named ranges through."""

from __future__ import annotations

import asyncio
import http.server
import ipaddress
import threading

import pytest
from helpers.extra_world import extended_world, registered
from helpers.fault_runs import isop, messages, no_traceback, write_config
from sqlalchemy import func, select

from collector.config import ConfigError, load_config
from spiders.destinations import (
    DestinationGuard,
    DestinationPolicy,
    RefusedDestination,
    parse_networks,
)

SPELLINGS = ["127.0.0.1", "127.1", "0x7f.1", "0x7f000001", "2130706433", "017700000001", "127.0.0.1.",
             "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[2002:7f00:1::1]", "localhost", "LocalHost.",
             "canary.localhost", "10.0.0.1", "192.168.1.1", "172.16.0.1", "169.254.169.254", "[fe80::1]",
             "[fd00::1]", "100.64.0.1", "0.0.0.0", "0", "224.0.0.1", "printer.local", "metadata.google.internal",
             "intranet"]


@pytest.mark.parametrize("host", SPELLINGS)
def test_every_spelling_of_a_local_destination_is_refused(host):
    refusal = DestinationPolicy().host_refusal(host.strip("[]") if host.startswith("[") else host)
    assert refusal is not None, host
    message, _kind = refusal
    assert message.startswith("refused destination") and "\n" not in message


@pytest.mark.parametrize("host", ["example.com", "8.8.8.8", "2606:4700::6810:84e5", "sub.piracy-site.to",
                                  "::ffff:104.21.153.84"])
def test_public_destinations_pass(host):
    assert DestinationPolicy().host_refusal(host) is None


def test_the_message_names_the_address_and_why():
    assert DestinationPolicy().host_refusal("0x7f.1") == ("refused destination 0x7f.1 = 127.0.0.1 (loopback)",
                                                          "loopback")
    assert DestinationPolicy().host_refusal("10.0.0.1") == ("refused destination 10.0.0.1 (private)", "private")


def test_allowed_ranges_pass_and_nothing_else():
    policy = DestinationPolicy(parse_networks(["127.0.0.0/8"]))
    assert policy.host_refusal("127.0.0.1") is None and policy.host_refusal("0x7f.1") is None
    assert policy.host_refusal("localhost") is None
    assert policy.host_refusal("10.0.0.1") is not None and policy.host_refusal("::1") is not None


def test_allow_destinations_is_validated_with_one_line(tmp_path):
    path = tmp_path / "isop.toml"
    path.write_text('[network]\nallow_destinations = ["127.0.0.0/8", "::1/128"]\n')
    assert load_config(path, env={}).network.allow_destinations == ("127.0.0.0/8", "::1/128")
    path.write_text('[network]\nallow_destinations = ["sandbox"]\n')
    with pytest.raises(ConfigError) as e:
        load_config(path, env={})
    assert str(e.value) == ("config [network] allow_destinations: 'sandbox' is not an address range "
                            "(CIDR, e.g. 127.0.0.0/8)")
    with pytest.raises(ConfigError):
        load_config(path, env={"ISOP_NETWORK_ALLOW_DESTINATIONS": "10.0.0.0/33"})


class _Stats:
    def __init__(self):
        self.values = {}

    def inc_value(self, key, count=1):
        self.values[key] = self.values.get(key, 0) + count


def _guard(monkeypatch, answers: dict[str, list[str]], proxy: str = ""):
    import spiders.destinations as destinations

    asked = []

    async def resolve(name):
        asked.append(name)
        return [ipaddress.ip_address(a) for a in answers[name]]

    monkeypatch.setattr(destinations, "resolve", resolve)

    class Crawler:
        stats = _Stats()

    return DestinationGuard(Crawler(), DestinationPolicy(), proxy), asked


def test_without_a_proxy_names_resolving_to_local_addresses_are_refused(monkeypatch):
    from scrapy import Request

    guard, asked = _guard(monkeypatch, {"rebind.example.com": ["93.184.216.34", "10.1.2.3"],
                                        "fine.example.com": ["93.184.216.34"]})
    with pytest.raises(RefusedDestination, match=r"rebind\.example\.com -> 10\.1\.2\.3 \(private\)"):
        asyncio.run(guard.process_request(Request("https://rebind.example.com/")))
    assert asyncio.run(guard.process_request(Request("https://fine.example.com/"))) is None
    assert asked == ["rebind.example.com", "fine.example.com"]
    assert guard.stats.values == {"isop/refused/private": 1}


def test_through_a_proxy_names_are_left_to_it_and_literals_still_refused(monkeypatch):
    from scrapy import Request

    guard, asked = _guard(monkeypatch, {}, proxy="http://127.0.0.1:3128")
    proxied = {"proxy": "http://127.0.0.1:3128"}
    assert asyncio.run(guard.process_request(Request("https://rebind.example.com/", meta=proxied))) is None
    for url in ("http://127.1:6379/", "http://169.254.169.254/latest/meta-data/", "http://localhost/"):
        with pytest.raises(RefusedDestination):
            asyncio.run(guard.process_request(Request(url, meta=proxied)))
    assert asked == [], "no name is resolved outside the proxy"


def test_the_browser_is_kept_off_local_destinations():
    from spiders.destinations import abort_browser_request

    class BrowserRequest:
        def __init__(self, url):
            self.url = url

    assert abort_browser_request(BrowserRequest("http://127.0.0.1:9/x.js"))
    assert abort_browser_request(BrowserRequest("http://[::1]/"))
    assert not abort_browser_request(BrowserRequest("https://cdn.example.com/x.js"))
    assert not abort_browser_request(BrowserRequest("data:image/png;base64,AAAA"))


# -- end to end ---------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every GET with ``self.server.body``, recording the path."""

    def do_GET(self):
        self.server.hits.append(self.path)
        body = self.server.body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server_on():
    started = []

    def start(host: str, body: str = "<html><title>x</title><body>x</body></html>"):
        server = http.server.ThreadingHTTPServer((host, 0), _Recorder)
        server.hits, server.body = [], body
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def _links(port: int) -> list[str]:
    hosts = ["127.0.0.1", "127.1", "0x7f.1", "2130706433", "017700000001", "127.0.0.1.", "[::ffff:127.0.0.1]",
             "localhost", "canary.localhost"]
    return [f"http://{h}:{port}/{i}" for i, h in enumerate(hosts)] + [
        "http://10.0.0.1/admin", "http://169.254.169.254/latest/meta-data/", "http://[::1]:1/", "https://10.0.0.2/"]


def _refused_pages(tmp_path) -> dict[str, str]:
    from storage.db import open_engine
    from storage.models import Page

    db = open_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        rows = c.execute(select(Page.url, Page.error)).all()
    db.dispose()
    return {r.url: r.error for r in rows if r.error and "RefusedDestination" in r.error}


def test_without_a_proxy_links_to_our_own_network_are_refused_and_recorded(tmp_path, guarded_env, server_on):
    canary = server_on("127.0.0.1")  # what a hostile page wants us to hit: our own services
    port = canary.server_address[1]
    links = _links(port)
    origin = server_on("127.0.0.2", "<html><head><title>Links</title></head><body>" +
                       "".join(f'<a href="{u}">link {i}</a>' for i, u in enumerate(links)) + "</body></html>")
    config = tmp_path / "isop.toml"
    config.write_text(f"""
[storage]
url = "sqlite:///{tmp_path / 'isop.db'}"
[network]
proxy = ""
allow_destinations = ["127.0.0.2/32"]
timeout = 3
[evidence]
dir = "{tmp_path / 'evidence'}"
[enrich]
after_crawl = false
[crawl]
render = false
successor_probes = 0
analysis_workers = 0
screenshots = false
""")
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(f"http://127.0.0.2:{origin.server_address[1]}/\n")
    result = isop(config, guarded_env, tmp_path, "crawl", "--seeds", str(seeds), "--depth", "1",
                  "--max-pages", "30", timeout=120)
    no_traceback(result)
    assert result.returncode == 0, messages(result.stderr)[-3000:]
    assert origin.hits, "the allowed origin was crawled"
    assert canary.hits == [], f"fetched from our own network: {canary.hits}"
    assert "network guard" not in result.stderr, messages(result.stderr)[-3000:]
    refused = _refused_pages(tmp_path)
    assert len(refused) == len(links), (sorted(refused), links)
    assert any("refused destination 0x7f.1 = 127.0.0.1 (loopback)" in e for e in refused.values()), refused
    assert any("169.254.169.254 (link-local)" in e for e in refused.values()), refused
    from storage.db import open_engine
    from storage.models import CrawlRun, SiteStatusObservation

    db = open_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        counts = c.scalar(select(CrawlRun.counts))
        statuses = c.execute(select(SiteStatusObservation.status, SiteStatusObservation.detail)).all()
    db.dispose()
    assert counts.get("isop/refused/loopback", 0) >= 8 and counts.get("isop/refused/local_name") == 2, counts
    assert not [s for s in statuses if "refused" in (s.detail or "")], "a refusal says nothing about a site"


@pytest.fixture(scope="module")
def browser_canary():
    """A server on 127.0.0.1 that rendered pages try to load from (Chromium goes to
    loopback directly, past any proxy)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.hits, server.body = [], "x"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def hostile_links_world(tmp_path_factory, browser_canary):
    page = "<html><head><title>Hostile links</title></head><body>" + "".join(
        f'<a href="{u}">link {i}</a>' for i, u in enumerate(_links(6379))) + \
        '<a href="https://hostile-links.net/fine.html">fine</a></body></html>'
    port = browser_canary.server_address[1]
    app = (f'<html><head><title>App</title></head><body><div id="root"></div>'
           f'<img src="http://127.0.0.1:{port}/pixel.png"><iframe src="http://localhost:{port}/frame"></iframe>'
           f'<script>fetch("http://0x7f.1:{port}/xhr").catch(() => 0);'
           f'document.getElementById("root").textContent = "built by script";</script></body></html>')
    root = extended_world(tmp_path_factory.mktemp("destinations") / "w", {
        "hostile-links.net": registered(ip="88.198.40.1") + '[[site]]\nhost = "hostile-links.net"\n',
    }, {"hostile-links.net/index.html": page, "hostile-links.net/app.html": app,
        "hostile-links.net/fine.html": "<html><title>fine</title><body>fine</body></html>"})
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(root, state_dir=tmp_path_factory.mktemp("destinations-state")) as running:
        yield running


def test_through_the_proxy_literal_and_local_destinations_are_refused(hostile_links_world, tmp_path, guarded_env):
    config = write_config(tmp_path, hostile_links_world, concurrency=2, render=False, analysis_workers=0,
                          successor_probes=0)
    hostile_links_world.running.proxy.log.clear()
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("https://hostile-links.net/\n")
    result = isop(config, guarded_env, tmp_path, "crawl", "--seeds", str(seeds), "--depth", "1",
                  "--max-pages", "30", timeout=120)
    no_traceback(result)
    assert result.returncode == 0, messages(result.stderr)[-3000:]
    asked = hostile_links_world.running.proxy.log.hosts()
    assert "hostile-links.net" in asked
    local = {h for h in asked if h != "hostile-links.net"}
    assert not local, f"the proxy was asked for {local}"
    refused = _refused_pages(tmp_path)
    assert len(refused) == len(_links(6379)), sorted(refused)

    # enrichment's TLS probe does not connect to the refused hosts either: a recorded status
    hostile_links_world.running.proxy.log.clear()
    enrich = isop(config, guarded_env, tmp_path, "enrich", "--only", "tls", timeout=120)
    assert enrich.returncode in (0, 1), enrich.stdout + messages(enrich.stderr)[-2000:]
    assert "10.0.0.2" not in hostile_links_world.running.proxy.log.hosts()
    from storage.db import open_engine
    from storage.models import Lookup

    db = open_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        tls = {r.target: r.detail for r in c.execute(select(Lookup.target, Lookup.detail)
                                                      .where(Lookup.service == "tls"))}
    db.dispose()
    assert tls.get("10.0.0.2") == "refused destination 10.0.0.2 (private)", tls


def test_a_whois_referral_to_our_own_network_is_not_followed():
    from helpers.enrich_servers import local_server

    from enrich.whois_client import WhoisClient

    asked: list[str] = []

    async def registry(reader, writer):
        query = (await reader.readuntil(b"\n")).decode().strip()
        asked.append(query)
        answer = "refer: 127.0.0.1\n" if query == "com" else \
            "Domain Name: EXAMPLE.COM\nRegistrar WHOIS Server: 10.0.0.7\nRegistrar: Hostile Registrar\n"
        writer.write(answer.encode())
        await writer.drain()

    async def main():
        async with local_server(registry) as port:
            client = WhoisClient(proxy=None, timeout=2.0, iana="127.0.0.1", port=port)
            return await client.query("example.com")

    answer = asyncio.run(main())
    assert asked == ["com", "example.com"], "the registrar referral was not asked"
    assert answer.status == "ok" and "Hostile Registrar" in answer.text
    assert answer.error == "referral not followed: refused destination 10.0.0.7 (private)"


def test_a_rendered_page_cannot_load_from_our_own_network(hostile_links_world, browser_canary, tmp_path,
                                                          guarded_env):
    config = write_config(tmp_path, hostile_links_world, render=True, analysis_workers=0, successor_probes=0,
                          screenshots=False)
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("https://hostile-links.net/app.html\n")
    browser_canary.hits.clear()
    hostile_links_world.running.proxy.log.clear()
    result = isop(config, guarded_env, tmp_path, "crawl", "--seeds", str(seeds), "--depth", "1", timeout=180)
    no_traceback(result)
    assert result.returncode == 0, messages(result.stderr)[-3000:]
    from storage.db import open_engine
    from storage.models import Page

    db = open_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        rendered = c.scalar(select(func.count()).select_from(Page).where(Page.rendered.is_(True)))
    db.dispose()
    assert rendered == 1, "the page was rendered"
    assert browser_canary.hits == [], f"the browser loaded {browser_canary.hits} from our own network"
    asked = hostile_links_world.running.proxy.log.hosts() - {"hostile-links.net"}
    assert not asked, f"the browser asked the proxy for {asked}"


@pytest.mark.parametrize("target", ["http://10.1.2.3/domain/x.test", "http://localhost/domain/x.test",
                                    "http://0x7f.1/domain/x.test"])
def test_an_rdap_redirect_to_our_own_network_is_not_followed(target):
    """A hostile RDAP server's redirect is checked like a crawl's destination: not followed,
    recorded as an error naming the refusal, nothing sent to the target."""
    from helpers.enrich_servers import http_routes, local_server, run

    from enrich.rdap_client import Bootstrap, RdapClient

    policy = DestinationPolicy()
    routes = {"/domain/x.test": f"HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n".encode()}

    async def main():
        async with local_server(http_routes(routes)) as port:
            client = RdapClient(proxy=None, tls_context=None, timeout=2, per_host=(2, 0), max_retries=0,
                                bootstrap=Bootstrap({"services": [[["test"], [f"http://127.0.0.1:{port}/"]]]}),
                                refuse_host=lambda h: (r := policy.host_refusal(h)) and r[0])
            return await client.domain("x.test"), client.sent

    answer, sent = run(main())
    assert answer.status == "error" and "not followed" in (answer.error or ""), answer
    assert "refused destination" in answer.error
    assert set(sent) == {"127.0.0.1"}, sent
