"""Page analysis off the reactor thread: the worker pool gives what inline analysis gives."""

from __future__ import annotations

import asyncio

from spiders.analysis import Analyser, PageFacts, analyse

PAGE = """<!DOCTYPE html><html lang="en"><head><title>Watch Iron Coast (2026) Online Free HD</title>
<link rel="icon" href="/fav.png"><script async src="https://www.googletagmanager.com/gtag/js?id=G-AB12CD34EF"></script></head>
<body><h1>Watch Iron Coast Full Movie Online Free</h1><p>HD 1080p WEB-DL</p>
<iframe src="https://streamtape.com/e/abc"></iframe><ul><li data-link="https://filemoon.sx/e/x">Filemoon</li></ul>
<p>Our new domain is <b>fmovix2.xyz</b>. Telegram: <a href="https://t.me/fmovix_new">join</a></p>
<a href="/movie/2">next</a></body></html>"""


def test_worker_pool_matches_inline_analysis():
    facts = PageFacts(url="https://fmovix.xyz/movie/1", status=200, html=PAGE, site="fmovix.xyz")
    inline = analyse(facts)
    pool = Analyser(1)
    try:
        pooled = asyncio.run(pool.run(facts))
    finally:
        pool.close()
    assert pooled == inline
    assert inline.title.startswith("Watch Iron Coast") and inline.language == "en"
    assert inline.moved == ["fmovix2.xyz"] and inline.icon == "/fav.png"
    assert {(f.type, f.value) for f in inline.indicators} >= {("ga", "G-AB12CD34EF"), ("telegram", "t.me/fmovix_new")}
    assert {s.name for s in inline.signals} >= {"video_embeds", "lex_streaming", "release_tags"}
    assert any(link.url == "https://fmovix.xyz/movie/2" for link in inline.links)


def test_rendered_pages_mark_script_built_links():
    facts = PageFacts(url="https://x.example/", status=200, rendered=True, site="x.example",
                      html='<a href="/a">a</a><a href="/b">b</a>', plain_links=("https://x.example/a",))
    kinds = {link.url: link.kind for link in analyse(facts).links}
    assert kinds == {"https://x.example/a": "anchor", "https://x.example/b": "js"}


def test_a_notice_pointing_to_a_platform_is_not_a_move():
    page = ("<html><body><p>Our new address: follow us on t.me/fmovix_news, then go to fmovix3.xyz</p>"
            "<p>Mirrors: x.com/fmovix, fmovix-proxy.net</p></body></html>")
    facts = analyse(PageFacts(url="https://fmovix.xyz/", status=200, html=page, site="fmovix.xyz"))
    assert facts.moved == ["fmovix3.xyz"]
    assert "t.me" not in facts.listed and "x.com" not in facts.listed
