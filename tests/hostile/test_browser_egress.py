"""Chromium's own services never go out, and nothing resolves names outside the two knobs
(issue 11, egress).

One crawl renders JavaScript-built pages through a sandbox proxy that logs every CONNECT
and request; then enrichment runs (see ``rendered_run``). The proxy log must hold only the
pages' own hosts and the hosts their files mention (what they load or link), never
Chromium's update, account, safe-browsing, hints, translate or metrics hosts; no Python
process of isop's may ask the system resolver about a non-loopback name; and Chromium,
launched with a proxy for every scheme, must not resolve names itself.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import pytest
from rendered_run import SITE, failure_text, hosts_mentioned, rendered_run, resolver_requests
from sqlalchemy import create_engine, select

from spiders import browser_privacy
from storage.models import Page


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return rendered_run(tmp_path_factory.mktemp("rendered-run"))


def _stored_pages(run) -> list[tuple[str, bool]]:
    engine = create_engine(run.db_url)
    with engine.connect() as c:
        rows = [(r.url, bool(r.rendered)) for r in c.execute(select(Page.url, Page.rendered))]
    engine.dispose()
    return rows


def _is_loopback(host) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port): a local bind, not a lookup
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).strip("[]").rstrip(".").lower()
    if host in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def test_the_crawl_rendered_pages_through_the_proxy(run):
    assert run.crawl.returncode == 0, failure_text(run.crawl)
    pages = _stored_pages(run)
    assert any(rendered for _url, rendered in pages), "at least one page was rendered in Chromium"
    browser = [e for e in run.crawl_log if "sec-ch-ua" in e.headers]
    assert browser, "the browser's requests reached the sandbox proxy"


def _loaded_by_pages(run) -> set[str]:
    """The pages' hosts and what they load: every host their files mention, and (for what
    scripts build or frames load) every host a request was sent to with a Referer or Origin
    from a host already in the set."""
    allowed: set[str] = set()

    def add(host: str) -> None:
        allowed.add(host)
        allowed.update(hosts_mentioned(host), hosts_mentioned(host.removeprefix("www.")))

    for url, _rendered in _stored_pages(run):
        add(urlsplit(url).hostname)
    grown = True
    while grown:
        grown = False
        for e in run.crawl_log:
            source = e.headers.get("referer") or e.headers.get("origin") or ""
            if e.kind == "http" and e.host not in allowed and urlsplit(source).hostname in allowed:
                add(e.host)
                grown = True
    return allowed


def test_the_browser_asks_only_for_the_pages_and_what_they_load(run):
    seen = {e.host for e in run.crawl_log}
    unexpected = sorted(seen - _loaded_by_pages(run))
    assert not unexpected, f"the browser (or the crawl) asked the proxy for {unexpected}"
    assert SITE in seen


def test_chromium_is_launched_without_a_resolver_of_its_own(run):
    argv = run.chromium_argv
    assert argv, "the recording Chromium wrapper was used"
    proxy_host = urlsplit(run.proxy_url).hostname
    assert f"--proxy-server={run.proxy_url}" in argv
    assert f"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE {proxy_host}" in argv
    bypass = [a for a in argv if a.startswith("--proxy-bypass-list=")]
    assert bypass[-1] == f"--proxy-bypass-list=<-loopback>;*.{browser_privacy.BLACK_HOLE}", bypass
    disabled = [a for a in argv if a.startswith("--disable-features=")]
    assert disabled[-1] == "--disable-features=" + ",".join(browser_privacy.DISABLED_FEATURES), \
        "Chromium honours the last --disable-features only: ours, which includes Playwright's"


def test_chromium_resolved_no_name(run):
    asked = resolver_requests(run.netlog)
    assert run.netlog, "Chromium wrote its NetLog"
    names = {urlsplit(h).hostname if "://" in h else h for h in asked}
    assert names <= {"~notfound"} | {n for n in names if _is_loopback(n)}, \
        f"Chromium asked its host resolver about {sorted(names)}"


def test_no_system_resolver_lookup_of_a_non_loopback_name(run):
    assert run.enrich.returncode == 0, failure_text(run.enrich)
    assert run.lookups, "the recorder saw the processes' own lookups (of the proxy's address)"
    outside = sorted({(fn, host) for _pid, fn, host in run.lookups if not _is_loopback(host)})
    assert not outside, f"names resolved with the system resolver: {outside}"
    assert any(e.host.startswith("rdap.") or e.kind == "connect" for e in run.enrich_log), \
        "enrichment went out through the proxy (and its DNS through [network] resolvers)"
