"""Cookies (issue 11): a Set-Cookie never makes isop fetch the Public Suffix List past the
proxy (tldextract stays on its bundled snapshot, writes no cache), cookies go back to the
sites that set them and never to a public suffix, and a site that sets 2,000 large cookies
gets a bounded jar and a bounded Cookie header."""

from __future__ import annotations

import json

import pytest
from helpers.extra_world import extended_world, registered
from helpers.fault_runs import isop, messages, no_traceback, write_config
from sqlalchemy import create_engine, select

from storage.models import CrawlRun

FLOOD = '[[site]]\nhost = "cookieflood.net"\n\n[site.routes]\n"/flood/" = { generator = "cookie_flood", pages = 2000, bytes = 1000 }\n'


@pytest.fixture(scope="module")
def cookie_world(tmp_path_factory):
    root = extended_world(tmp_path_factory.mktemp("cookies") / "w",
                          {"cookieflood.net": registered(ip="88.198.20.9") + FLOOD})
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(root, state_dir=tmp_path_factory.mktemp("cookies-state")) as running:
        yield running


def test_cookies_stay_offline_go_back_and_are_bounded(cookie_world, tmp_path, guarded_env):
    empty = {name: tmp_path / name for name in ("home", "xdg-cache", "tldextract-cache")}
    for folder in empty.values():
        folder.mkdir()
    env = {**guarded_env, "HOME": str(empty["home"]), "XDG_CACHE_HOME": str(empty["xdg-cache"]),
           "TLDEXTRACT_CACHE": str(empty["tldextract-cache"])}
    env.pop("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", None)
    config = write_config(tmp_path, cookie_world, concurrency=4, render=False, screenshots=False, autothrottle=False)
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("https://fmovix.xyz/\nhttps://torrentwang.net/\nhttps://dizilabx.com/\nhttps://bookzlib.me/\n"
                     "https://cookieflood.net/flood/\n")
    web = cookie_world.running.web
    web.cookies.clear()
    result = isop(config, env, tmp_path, "crawl", "--seeds", str(seeds), "--depth", "1", "--max-pages", "40")
    no_traceback(result)
    assert "network guard" not in result.stderr, messages(result.stderr)[-3000:]
    assert result.returncode == 0, messages(result.stderr)[-3000:]
    written = [p for p in empty["tldextract-cache"].rglob("*")] + \
        [p for folder in empty.values() for p in folder.rglob("*") if "tldextract" in str(p.relative_to(folder))]
    assert written == [], f"tldextract cached files: {written}"

    sent = list(web.cookies)
    by_host: dict[str, list[str]] = {}
    for url, header in sent:
        by_host.setdefault(url.split("/")[2], []).append(header)
    assert any("PHPSESSID=" in h for h in by_host.get("torrentwang.net", [])), by_host.keys()
    assert any("__cf_bm=" in h for h in by_host.get("fmovix.xyz", [])), by_host.keys()
    assert any("remix_userid=" in h for h in by_host.get("bookzlib.me", [])), by_host.keys()
    assert not any("trk=" in h for _u, h in sent), "a cookie for the public suffix .com is refused"
    assert all("PHPSESSID=" not in h for host, hs in by_host.items() if host != "torrentwang.net" for h in hs)

    flood = by_host.get("cookieflood.net", [])
    assert flood, "the flooded site is asked again, with some of its cookies"
    assert max(len(h) for h in flood) <= 8192
    assert max(h.count("flood") for h in flood) <= 50
    db = create_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        counts = c.scalar(select(CrawlRun.counts))
    db.dispose()
    counts = counts if isinstance(counts, dict) else json.loads(counts)
    assert counts.get("isop/cookies/dropped", 0) >= 2000 - 50, counts
    assert counts.get("isop/cookies/dropped/site_limit", 0) >= 1950 and counts.get("isop/cookies/dropped/header_size")


def test_the_offline_extractor_answers_from_the_snapshot():
    import scrapy.downloadermiddlewares.cookies as scrapy_cookies

    from spiders.cookies import OFFLINE_EXTRACT, cookie_site, is_public_suffix

    assert scrapy_cookies._split_domain is OFFLINE_EXTRACT
    assert OFFLINE_EXTRACT.suffix_list_urls == () and OFFLINE_EXTRACT._cache.enabled is False
    assert is_public_suffix("co.uk") and is_public_suffix("github.io") and not is_public_suffix("fmovix.xyz")
    assert cookie_site(".www.example.co.uk") == "example.co.uk"
