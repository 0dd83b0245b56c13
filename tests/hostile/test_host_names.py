"""Hostile host names (issue 11): invalid names never become sites, a 250-character host
does not crash the resumable (JOBDIR) crawl's disk queue."""

from __future__ import annotations

from html import escape

import pytest
from helpers.extra_world import extended_world, registered
from helpers.fault_runs import isop, messages, no_traceback, write_config
from sqlalchemy import select

from storage.models import CrawlRun, Page, Site
from storage.names import HostNameError, parse_host

LONG_HOST = ".".join(["a" * 61, "b" * 61, "c" * 61, "d" * 51]) + ".longhost.net"
assert 245 <= len(LONG_HOST) <= 253

INVALID = ["a<b.example.com", 'x"y.example.com', "a=b.example.net", "c+d.example.org", "lead.-example.com",
           "a..b.example.com", "a" * 64 + ".example.com", "1.2.3.4.5", "xn--zz.example.com"]


@pytest.mark.parametrize("host", ["foo-.tumblr.com", "-foo.blogspot.com", "a-.b_.example.com"])
def test_subdomain_labels_may_have_hyphens_at_their_edges(host):
    """Platforms hand such names out and browsers open them; the registered domain stays strict."""
    assert parse_host(host).fqdn == host


@pytest.mark.parametrize("host", INVALID)
def test_invalid_host_names_are_refused(host):
    with pytest.raises(HostNameError) as e:
        parse_host(host)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(("host", "fqdn"), [
    ("Example.COM.", "example.com"), ("my_site.example.com", "my_site.example.com"),
    ("bücher.de", "xn--bcher-kva.de"), ("xn--bcher-kva.de", "xn--bcher-kva.de"),
    ("1337x.to", "1337x.to"), (LONG_HOST, LONG_HOST),
    ("127.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("[::ffff:7f00:1]", "127.0.0.1"),
])
def test_valid_host_names(host, fqdn):
    assert parse_host(host).fqdn == fqdn


HOSTILE_PAGE = f"""<html><head><title>Hostile links</title></head><body>
<p>Links whose host names are not host names, and one that is very long.</p>
{"".join(f'<a href="https://{escape(h)}/">odd {i}</a>' for i, h in enumerate(INVALID[:5]))}
<a href="https://{LONG_HOST}/">a very long host</a>
<a href="https://hostnames.net/ok.html">fine</a>
<a href="https://hostnames.net/go">a redirect to the long host</a>
<a href="https://hostnames.net/bad">a redirect to an invalid host</a>
</body></html>"""


@pytest.fixture(scope="module")
def hostile_world(tmp_path_factory):
    root = extended_world(tmp_path_factory.mktemp("hostnames") / "w", {
        "hostnames.net": registered(ip="88.198.30.1") + '[[site]]\nhost = "hostnames.net"\n\n[site.routes]\n'
                         f'"/go" = {{ redirect = "https://{LONG_HOST}/page.html", status = 302 }}\n'
                         '"/bad" = { redirect = "https://a=b.example.net/", status = 302 }\n'
                         '"/" = { file = "index.html" }\n"/ok.html" = { file = "ok.html" }\n',
        "longhost.net": registered(ip="88.198.30.2") + f'[[site]]\nhost = "{LONG_HOST}"\ndir = "longhost"\n',
    }, {
        "hostnames.net/index.html": HOSTILE_PAGE,
        "hostnames.net/ok.html": "<html><title>OK</title><body>fine</body></html>",
        "longhost/index.html": "<html><title>Long</title><body><p>a page on a long host</p></body></html>",
        "longhost/page.html": "<html><title>Long</title><body><p>another page on a long host</p></body></html>",
    })
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(root, state_dir=tmp_path_factory.mktemp("hostnames-state")) as running:
        yield running


def test_a_crawl_drops_invalid_hosts_and_survives_a_long_one(hostile_world, tmp_path, guarded_env):
    config = write_config(tmp_path, hostile_world, concurrency=2, render=False, analysis_workers=0)
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("https://hostnames.net/\n")
    result = isop(config, guarded_env, tmp_path, "crawl", "--seeds", str(seeds), "--depth", "1",
                  "--max-pages", "20", timeout=120)
    no_traceback(result)
    assert result.returncode == 0, messages(result.stderr)[-3000:]
    assert "File name too long" not in result.stderr and "Unhandled" not in result.stderr, \
        messages(result.stderr)[-3000:]
    from storage.db import open_engine

    db = open_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        domains = set(c.scalars(select(Site.domain)))
        pages = {r.url: r for r in c.execute(select(Page.url, Page.status, Page.error))}
        run = c.execute(select(CrawlRun.outcome, CrawlRun.counts)).one()
    db.dispose()
    assert not [d for d in domains if any(ch in d for ch in '<"=+') or d.startswith("-")], domains
    assert f"https://{LONG_HOST}/" in pages and pages[f"https://{LONG_HOST}/"].status == 200, pages
    assert "https://hostnames.net/ok.html" in pages
    assert pages[f"https://{LONG_HOST}/page.html"].status == 200, "a redirect to the long host is followed"
    # a redirect's target skips the spider middlewares: refused at the download (no site to file a page under)
    assert "https://a=b.example.net/" not in pages and run.counts.get("isop/refused/invalid_host") == 1, run.counts
    assert str(run.outcome) == "ok"
    assert run.counts.get("isop/dropped/invalid_host", 0) >= 5, run.counts
    # the log names a dropped host and why
    log = "".join(p.read_text() for p in (tmp_path / "data" / "logs").glob("crawl-*.log"))
    assert "invalid host" in log and "the character '<'" in log


def test_queue_folders_fit_a_file_system_and_keep_scrapys_names_for_short_hosts():
    from scrapy.pqueues import _path_safe

    from spiders.queues import MAX_FOLDER_NAME, slot_folder

    assert slot_folder("hostnames.net") == _path_safe("hostnames.net")  # old job folders still resume
    other = LONG_HOST.replace("d" * 51, "e" * 51)
    assert len(slot_folder(LONG_HOST)) <= MAX_FOLDER_NAME and slot_folder(LONG_HOST) != slot_folder(other)


@pytest.mark.parametrize(("text", "why"), [
    ("https://a<b.example.com/", "the character '<'"),
    ("https://a..b.example.com/", "empty label"),
    ("https://" + "a" * 64 + ".com/", "longer than 63"),
])
def test_a_seed_with_an_invalid_host_is_refused_in_one_line(text, why):
    from spiders.seeds import check_url

    with pytest.raises(ValueError) as e:
        check_url(text)
    assert why in str(e.value) and "\n" not in str(e.value)
