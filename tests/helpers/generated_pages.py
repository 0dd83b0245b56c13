"""Site specs and page parsing for the generator's tests."""

from __future__ import annotations

import random
from html.parser import HTMLParser

from collector.sandbox.generate.spec import SiteSpec

CATEGORIES = ("streaming", "torrent", "ddl", "manga", "iptv", "warez", "ebook", "music", "counterfeit")


SNIPPETS = ["<script>ga('create', 'UA-4417263-2', 'auto'); ga('send', 'pageview');</script>",
            '<li>XMR <span class="wallet">44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A</span></li>',
            '<iframe src="https://vidbox.example/e/0a1b2c3d" allowfullscreen></iframe>',
            '<ins class="adsbygoogle" style="display:block" data-ad-client="ca-pub-1234567890123456"></ins>',
            '<p class="donate">BTC: <code>bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4</code></p>',
            '<a href="https://t.me/some_channel" rel="nofollow">Telegram</a>']


LINKS = ["https://partner-one.example/", "https://vidbox.example/e/Xk29aQ", "http://mirror.example/?from=a&b=1",
         "https://files.example/file/9aa1b2"]


EVIL = "Kino<script>alert(1)</script>&Co"


def make_spec(role: str, lang: str = "en", charset: str = "utf-8", seed: int = 0, **kw) -> SiteSpec:
    r = random.Random(seed)
    category = kw.pop("category", r.choice(CATEGORIES) if role in ("piracy", "trap", "hostile") else "none")
    base = dict(host=f"site{seed}.example", role=role, category=category, language=lang, charset=charset,
                brand=kw.pop("brand", f"Brand{seed}"), links=list(LINKS), snippets=list(SNIPPETS),
                moved_to="https://new-home.example/" if role == "notice" else "", pages=r.randint(2, 7))
    base.update(kw)
    return SiteSpec(**base)


class Doc(HTMLParser):
    """Tag sequence, hrefs and the meta charset of one page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.charset = ""
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        if tag == "meta" and a.get("charset"):
            self.charset = a["charset"]
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-type":
            self.charset = (a.get("content") or "").split("charset=")[-1]


def resolves(path: str, files: dict[str, bytes]) -> bool:
    rel = path.split("#")[0].split("?")[0].lstrip("/")
    return rel == "" or any(c in files for c in (rel, f"{rel}.html", f"{rel.rstrip('/')}/index.html"))
