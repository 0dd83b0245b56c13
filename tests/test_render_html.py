"""Self-contained HTML for analysts: the network picture, Graphviz DOT, the HTML report.

Store tests run twice: on SQLite and on the PostgreSQL server on this machine.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace as NS

import pytest
from helpers.export_store import T0, T1, build_store, verdict
from sqlalchemy import event, func, select

from collector.writers.dot import to_dot
from collector.writers.html_report import render_report
from collector.writers.network_graph import graph_of
from collector.writers.network_html import CSP, json_island, to_html
from storage.clusters import network_of
from storage.crawl import CrawlBatch, write_batch, write_verdicts
from storage.db import session_factory
from storage.enrichment import record_dns, record_registration
from storage.models import Cluster, ClusterMember, CrawlRun, Host, Page, RunKind, Site
from storage.report_data import report_data
from storage.sites import record_hosts

HOSTILE = 'a"b\\c\n</script><img src=x onerror=alert(1)>'
HOSTILE_TYPE = "<svg onload=alert(2)>"


def hostile_net() -> dict:
    return {
        "domain": "evil.example", "cluster": 'op-"x"</script>',
        "sites": ["b.example", "evil.example"],
        "links": [
            {"a": "b.example", "b": "evil.example", "strength": 1.0, "raw": 2.2, "joins": True,
             "identifiers": [{"type": "btc", "value": HOSTILE, "weight": 1.0, "sites": 2},
                             {"type": "email", "value": "x\u2028y&z\u2029@example.org", "weight": 0.7, "sites": 3},
                             {"type": HOSTILE_TYPE, "value": "v", "weight": 0.5, "sites": 2}]},
            {"a": 'c"</script>.example', "b": "evil.example", "strength": 0.3, "raw": 0.3, "joins": False,
             "identifiers": [{"type": "nameservers", "value": "ns1.x.net,ns2.x.net", "weight": 0.3, "sites": 7}]},
        ],
    }


# --- helpers: DOT tokens, the data island, external references -----------------------------

_DOT_TOKEN = re.compile(r'\s*(?:(?P<q>"(?:[^"\\\n]|\\.)*")|(?P<edge>--)|(?P<p>[{}\[\];=,])'
                        r'|(?P<kw>[A-Za-z_][A-Za-z0-9_]*)|(?P<bad>\S))')


def dot_tokens(text: str) -> list[tuple[str, str]]:
    tokens = []
    for m in _DOT_TOKEN.finditer(text):
        kind = m.lastgroup
        if kind is None:
            continue
        assert kind != "bad", f"unexpected DOT text at {m.start()}: {text[m.start():m.start() + 40]!r}"
        tokens.append((kind, m.group(kind)))
    return tokens


def dot_unquote(token: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), token[1:-1])


def parse_dot(text: str) -> tuple[dict[str, dict], list[tuple[str, str, dict]]]:
    """Nodes (id -> attributes) and edges of a DOT graph as to_dot writes it; asserts its shape."""
    toks = dot_tokens(text)
    assert toks[0] == ("kw", "graph") and toks[1][0] == "q" and toks[2] == ("p", "{") and toks[-1] == ("p", "}")
    depth = 0
    for kind, value in toks:
        if kind == "p" and value in "{}":
            depth += 1 if value == "{" else -1
            assert depth >= 0
    assert depth == 0

    def attrs(i: int) -> tuple[dict, int]:
        assert toks[i] == ("p", "[")
        out, i = {}, i + 1
        while toks[i] != ("p", "]"):
            assert toks[i][0] == "kw" and toks[i + 1] == ("p", "=") and toks[i + 2][0] == "q", toks[i:i + 3]
            out[toks[i][1]] = dot_unquote(toks[i + 2][1])
            i += 3
            if toks[i] == ("p", ","):
                i += 1
        return out, i + 1

    nodes: dict[str, dict] = {}
    edges: list[tuple[str, str, dict]] = []
    i = 3
    while toks[i] != ("p", "}"):
        kind, value = toks[i]
        if kind == "kw":
            assert value in ("graph", "node", "edge")
            _a, i = attrs(i + 1)
        else:
            assert kind == "q", f"node id not quoted: {value!r}"
            if toks[i + 1] == ("edge", "--"):
                assert toks[i + 2][0] == "q", f"node id not quoted: {toks[i + 2][1]!r}"
                target = dot_unquote(toks[i + 2][1])
                a, i = attrs(i + 3)
                edges.append((dot_unquote(value), target, a))
            else:
                a, i = attrs(i + 1)
                nodes[dot_unquote(value)] = a
        assert toks[i] == ("p", ";")
        i += 1
    return nodes, edges


def island(page: str) -> str:
    m = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S)
    assert m, "no data island"
    return m.group(1)


def scripts(page: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", page, re.S)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_self_contained(page: str) -> None:
    """No external resource of any kind, no link to any site, the CSP in place."""
    outside = page.replace(island(page), "") if 'id="data"' in page else page
    parser = _Tags()
    parser.feed(page)
    parser.close()
    tags = {tag for tag, _attrs in parser.tags}
    assert not tags & {"link", "img", "iframe", "object", "embed", "base", "form", "a", "image", "use", "audio",
                       "video", "source", "frame"}, tags
    for tag, attrs in parser.tags:
        for name, value in attrs:
            assert name not in ("src", "href", "xlink:href", "action", "srcset", "poster", "background"), (tag, name)
            assert not name.startswith("on"), (tag, name)
            assert not re.match(r"\s*(?:https?:|ftp:|file:|javascript:|data:|//)", value or "", re.I), (tag, name)
    assert "url(" not in outside and "@import" not in outside
    assert "http://" not in outside and "https://" not in outside
    (csp,) = [dict(attrs)["content"] for tag, attrs in parser.tags
              if tag == "meta" and dict(attrs).get("http-equiv") == "Content-Security-Policy"]
    assert csp == CSP


class _Tables(HTMLParser):
    """Text of each table's body rows, per table, and the text of every element."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[str]] = []
        self.in_body = False
        self.row: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th") and self.row is not None:
            self.row.append(" ")
        if tag == "table":
            self.tables.append([])
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.row = []

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False
        elif tag == "tr" and self.row is not None:
            self.tables[-1].append(" ".join("".join(self.row).split()))
            self.row = None

    def handle_data(self, data):
        self.text.append(data)
        if self.row is not None:
            self.row.append(data)


def tables_of(page: str) -> _Tables:
    parser = _Tables()
    parser.feed(page)
    parser.close()
    return parser


# --- DOT ----------------------------------------------------------------------------------


def test_dot_parses_and_quotes_and_escapes_every_string():
    net = hostile_net()
    text = to_dot(net)
    nodes, edges = parse_dot(text)
    graph = graph_of(net)
    assert set(nodes) == {re.sub("[\u2028\u2029]", "\n", n["id"]) for n in graph["nodes"]}
    assert f"id:btc:{HOSTILE}" in nodes and f"id:{HOSTILE_TYPE}:v" in nodes
    assert 'site:c"</script>.example' in nodes
    # The hostile value is escaped, never raw: no raw line break inside a string, quotes escaped.
    assert HOSTILE not in text
    assert 'a\\"b\\\\c\\n</script>' in text
    for line in text.splitlines()[1:-1]:
        assert line.startswith("  ") and line.endswith(";"), line
    # Labels and tooltips round-trip through the escapes.
    assert nodes[f"id:btc:{HOSTILE}"]["tooltip"].startswith(f"Bitcoin wallet: {HOSTILE} (weight 1.00")
    assert nodes["site:evil.example"]["shape"] == "doublecircle"
    assert nodes["site:b.example"]["shape"] == "box"


def test_dot_edges_join_sites_to_identifiers_weak_ones_dashed():
    net = hostile_net()
    text = to_dot(net)
    edge_lines = [ln for ln in text.splitlines() if " -- " in ln]
    pairs = {}
    for line in edge_lines:
        toks = dot_tokens(line)
        a, b = dot_unquote(toks[0][1]), dot_unquote(toks[2][1])
        attrs = {toks[i][1]: dot_unquote(toks[i + 2][1]) for i in range(4, len(toks) - 2, 4)}
        pairs[(a, b)] = attrs
    assert set(pairs) == {
        ("site:b.example", f"id:btc:{HOSTILE}"), ("site:evil.example", f"id:btc:{HOSTILE}"),
        ("site:b.example", "id:email:x\ny&z\n@example.org"),
        ("site:evil.example", "id:email:x\ny&z\n@example.org"),
        ("site:b.example", f"id:{HOSTILE_TYPE}:v"), ("site:evil.example", f"id:{HOSTILE_TYPE}:v"),
        ('site:c"</script>.example', "id:nameservers:ns1.x.net,ns2.x.net"),
        ("site:evil.example", "id:nameservers:ns1.x.net,ns2.x.net"),
    }
    assert pairs[("site:evil.example", f"id:btc:{HOSTILE}")]["label"] == "1.00"
    assert "style" not in pairs[("site:evil.example", f"id:btc:{HOSTILE}")]
    assert pairs[("site:evil.example", "id:nameservers:ns1.x.net,ns2.x.net")] == {
        "label": "0.30", "penwidth": "1.32", "style": "dashed"}


def test_dot_of_a_lone_site():
    nodes, edges = parse_dot(to_dot({"domain": "alone.example", "cluster": None, "sites": ["alone.example"],
                                     "links": []}))
    assert list(nodes) == ["site:alone.example"] and edges == []


# --- the network page ---------------------------------------------------------------------


def test_network_page_is_self_contained_and_its_data_round_trips():
    net = hostile_net()
    page = to_html(net, extra={"sites": {"evil.example": {"category": "<b>x</b>", "score": 0.9}},
                               "note": "<i>n</i>"})
    assert_self_contained(page)
    data = json.loads(island(page))
    assert data["network"] == net
    assert data["extra"]["sites"]["evil.example"]["category"] == "<b>x</b>"
    assert {n["id"] for n in data["graph"]["nodes"]} == {n["id"] for n in graph_of(net)["nodes"]}


def test_hostile_strings_never_appear_raw():
    page = to_html(hostile_net(), title="<title>t</title>", extra={"sites": {"evil.example": {"c": "<b>x</b>"}}})
    data = island(page)
    for raw in ("<", ">", "&", "\u2028", "\u2029", "</script"):
        assert raw not in data
    assert "\\u003c/script\\u003e\\u003cimg src=x onerror" in data
    # Outside the island, only escaped forms.
    assert "<img" not in page and "onerror=alert(1)>" not in page and "<svg onload" not in page
    assert "<b>x</b>" not in page and "<title>t</title>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;title&gt;t&lt;/title&gt;" in page
    assert 'op-&quot;x&quot;&lt;/script&gt;' in page
    # Exactly the two script elements close: no data closes one early.
    assert page.count("</script>") == 2
    # The script builds no HTML from data.
    (script,) = scripts(page)
    assert "innerHTML" not in script and "outerHTML" not in script and "insertAdjacentHTML" not in script
    assert "document.write" not in script and "eval(" not in script
    assert 'JSON.parse(document.getElementById("data").textContent)' in script


def test_json_island_escapes():
    text = json_island({"k": "</script><!--\u2028\u2029&"})
    assert re.fullmatch(r"[\x20-\x7e]*", text)
    assert json.loads(text) == {"k": "</script><!--\u2028\u2029&"}
    assert "<" not in text and ">" not in text and "&" not in text


def test_link_table_lists_each_link_and_every_identifier():
    net = hostile_net()
    page = to_html(net)
    parsed = tables_of(page)
    sites_rows, link_rows, id_rows = parsed.tables
    assert len(link_rows) == len(net["links"])
    for link, row in zip(net["links"], link_rows, strict=True):
        assert f'{link["a"]} \u2014 {link["b"]}' in row
        assert f'{link["strength"]:.2f}' in row
        assert ("yes" if link["joins"] else "weak") in row
        for ident in link["identifiers"]:
            assert " ".join(ident["value"].split()) in row and ident["type"] in row
    assert len(id_rows) == 4
    assert [r.split()[0] for r in sites_rows] == ["evil.example", "b.example", 'c"</script>.example']
    assert "weakly linked" in sites_rows[2]


def test_a_network_from_the_store_renders(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        record_hosts(s, ["alpha.example", "beta.example", "gamma.example"], T0)
        wallet = NS(type="btc", value="bc1qshared", context=None)
        ns_sets = [("alpha.example", "NS", "ns1.dns.example", 300), ("alpha.example", "NS", "ns2.dns.example", 300),
                   ("gamma.example", "NS", "ns1.dns.example", 300), ("gamma.example", "NS", "ns2.dns.example", 300)]
        record_dns(s, ns_sets, T0)
        write_batch(s, None, CrawlBatch(indicators=[
            NS(url="https://alpha.example/", found=[wallet], seen_at=T0),
            NS(url="https://beta.example/", found=[wallet], seen_at=T0)]), T0)
    with Session() as s:
        net = network_of(s, "alpha.example")
    assert net["sites"] == ["alpha.example", "beta.example"]
    page = to_html(net)
    assert_self_contained(page)
    assert json.loads(island(page))["network"] == net
    link_rows = tables_of(page).tables[1]
    assert len(link_rows) == 2 and "alpha.example \u2014 beta.example" in link_rows[0]
    assert "weak" in link_rows[1] and "gamma.example" in link_rows[1]
    nodes, edges = parse_dot(to_dot(net))
    assert {"site:alpha.example", "site:beta.example", "site:gamma.example", "id:btc:bc1qshared"} <= set(nodes)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_inline_script_is_valid_javascript(tmp_path: Path):
    (script,) = scripts(to_html(hostile_net()))
    path = tmp_path / "page.js"
    path.write_text(script, encoding="utf-8")
    done = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed")
def test_the_picture_draws_and_explains_in_a_browser(tmp_path: Path):
    sync_api = pytest.importorskip("playwright.sync_api")
    net = hostile_net()
    page_file = tmp_path / "net.html"
    page_file.write_text(to_html(net), encoding="utf-8")
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            nodes = page.locator("#nodes > g.node")
            assert nodes.count() == len(graph_of(net)["nodes"])
            assert page.locator("#edges > line").count() == len(graph_of(net)["edges"])
            transforms = [nodes.nth(i).get_attribute("transform") for i in range(nodes.count())]
            assert all(t and "NaN" not in t for t in transforms)
            # Hovering the btc node explains it, as text.
            btc = page.locator("#nodes > g.node.idnode").first
            btc.locator("path").hover()
            details = page.locator("#details-body").inner_text()
            assert "Bitcoin wallet" in details and "onerror=alert(1)>" in details and "1.00" in details
            assert page.locator("img").count() == 0
            # Clicking a site keeps its details; dragging moves it.
            site = page.locator("#nodes > g.node.site").first
            site.locator("path").click()
            assert "evil.example" in page.locator("#details-body").inner_text()
            box = site.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            page.mouse.move(box["x"] + 120, box["y"] + 80, steps=5)
            page.mouse.up()
            assert site.get_attribute("transform") != transforms[0]
        finally:
            browser.close()
    assert errors == []
    assert all(u.startswith(("file:", "data:", "about:")) for u in requests), requests


# --- the report's data --------------------------------------------------------------------

HOSTILE_REGISTRAR = 'Evil "Reg" <script>alert(3)</script> & Co'
HOSTILE_CATEGORY = "<b>ok</b>&"
STREAMZ_REASONS = ("Embeds video players from 3 known hosts.", "Shows <u>pop-under</u> ads.", "Links to files.",
                   "Has a fourth reason.")


def populate(s) -> None:
    """build_store's toonmoa101.com (manga, hosted PA + US/Cloudflare, NameSilo), plus:
    streamz.to (streaming, PA, hostile registrar), hostile-cat.xyz (hostile category, no
    hosting, no registration), cleared.org (flagged, then cleared), a network of the two new
    flagged sites sharing a wallet, one crawl run and one enrichment run with two pages."""
    build_store(s)
    day = timedelta(days=1)
    ids = record_hosts(s, ["streamz.to", "www.streamz.to"], T1 + day)
    ids |= record_hosts(s, ["hostile-cat.xyz"], T1 + 2 * day)
    ids |= record_hosts(s, ["cleared.org"], T0)
    site = {d: v[0] for d, v in ids.items()}
    write_verdicts(s, None, {"streamz.to": verdict(True, "streaming", 0.8, "player embeds", "popunder ads", "x", "y",
                                                   reasons=STREAMZ_REASONS, delivery=("streaming", "ddl")),
                             "hostile-cat.xyz": verdict(True, HOSTILE_CATEGORY, 0.7, "<img src=x onerror=1>"),
                             "cleared.org": verdict(True, "torrent", 0.9, "magnets")}, site, {}, T1)
    write_verdicts(s, None, {"cleared.org": verdict(False, "none", 0.1)}, site, {}, T1 + day)
    record_dns(s, [("www.streamz.to", "A", "185.212.40.10", 300)], T1 + day)
    record_registration(s, site["streamz.to"], "whois", None, {"registrar": HOSTILE_REGISTRAR}, "raw", T1)
    wallet = NS(type="btc", value="bc1qstreamz", context=None)
    write_batch(s, None, CrawlBatch(indicators=[
        NS(url="https://streamz.to/", found=[wallet], seen_at=T1 + day),
        NS(url="https://hostile-cat.xyz/", found=[wallet], seen_at=T1 + 2 * day)]), T1 + 2 * day)
    cluster = Cluster(key="op-net1", created_at=T1, updated_at=T1 + 2 * day)
    s.add(cluster)
    s.flush()
    s.add_all([ClusterMember(cluster_id=cluster.id, site_id=site["streamz.to"], strength=1.0, first_seen=T1,
                             last_seen=T1 + 2 * day),
               ClusterMember(cluster_id=cluster.id, site_id=site["hostile-cat.xyz"], strength=1.0, first_seen=T1,
                             last_seen=T1 + 2 * day),
               # a former member: no longer current
               ClusterMember(cluster_id=cluster.id, site_id=site["cleared.org"], strength=1.0, first_seen=T1,
                             last_seen=T1)])
    runs = [CrawlRun(kind=RunKind.DISCOVERY, started_at=T1), CrawlRun(kind=RunKind.ENRICH, started_at=T1)]
    s.add_all(runs)
    s.flush()
    for n, url in enumerate(("https://streamz.to/", "https://streamz.to/watch")):
        s.add(Page(run_id=runs[0].id, site_id=site["streamz.to"], host_id=ids["streamz.to"][1], url=url,
                   url_sha256=f"{n:064d}", status=200, fetched_at=T1 + day))
    s.flush()


def test_report_data_counts_a_populated_store(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        populate(s)
    with Session() as s:
        data = report_data(s, top=2)
        sites = s.scalar(select(func.count()).select_from(Site))
        hosts = s.scalar(select(func.count()).select_from(Host))
    assert data["summary"] == {"sites": sites, "new_sites": sites, "classified": 3 + 1, "flagged": 3, "pages": 2,
                               "crawl_runs": 1, "enrich_runs": 1, "indicators": 3, "hosts": hosts, "networks": 1}
    assert sites == 9
    assert data["period"] == {"from": T0, "to": T1 + 2 * timedelta(days=1)}
    assert sorted((r["category"], r["sites"]) for r in data["categories"]) == [
        (HOSTILE_CATEGORY, 1), ("manga", 1), ("streaming", 1)]
    # toonmoa101.com counts once in PA though two of its addresses... and once in US (its CDN host).
    assert data["countries"] == [{"country": "PA", "sites": 2}, {"country": "US", "sites": 1}]
    assert data["more"] == {"countries": 1, "providers": 1, "registrars": 1}
    assert data["providers"] == [
        {"asn": 209588, "org": "Flyservers S.A.", "as_name": "FLYSERVERS-AS", "cdn": None, "sites": 2},
        {"asn": 13335, "org": "Cloudflare, Inc.", "as_name": None, "cdn": "cloudflare", "sites": 1}]
    assert sorted(data["registrars"], key=lambda r: str(r["registrar"])) == [
        {"registrar": HOSTILE_REGISTRAR, "sites": 1}, {"registrar": "NameSilo, LLC", "sites": 1}]
    (network,) = data["networks"]
    assert network["key"] == "op-net1"
    assert [m["domain"] for m in network["members"]] == ["hostile-cat.xyz", "streamz.to"]
    assert [m["category"] for m in network["members"]] == [HOSTILE_CATEGORY, "streaming"]
    assert network["identifiers"] == [{"type": "btc", "weight": 1.0, "values": 1}]
    assert [(f["domain"], f["cluster"]) for f in data["newest"]] == [("hostile-cat.xyz", "op-net1"),
                                                                    ("streamz.to", "op-net1")]
    assert data["newest"][1]["signals"] == ["player embeds", "popunder ads", "x"]
    assert data["newest"][1]["reasons"] == list(STREAMZ_REASONS[:3])  # the plain reasons, strongest first
    assert data["newest"][1]["delivery"] == ["streaming", "ddl"]
    assert data["newest"][0]["reasons"] == ["<img src=x onerror=1>"]  # no reasons stored: the signals
    assert data["newest"][0]["delivery"] == []
    assert data["newest"][1]["first_seen"] == T1 + timedelta(days=1)


def test_report_data_unknowns_and_since(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        populate(s)
    with Session() as s:
        full = report_data(s, top=10)
        recent = report_data(s, since=T1 + timedelta(hours=12), top=10)
        around_t1 = report_data(s, since=T1 - timedelta(hours=1), top=10)
        seen_since_t1 = s.scalar(select(func.count()).select_from(Site).where(Site.last_seen >= T1))
    assert full["countries"] == [{"country": "PA", "sites": 2}, {"country": "US", "sites": 1},
                                 {"country": None, "sites": 1}]
    assert full["providers"][-1] == {"asn": None, "org": None, "as_name": None, "cdn": None, "sites": 1}
    assert full["registrars"][-1] == {"registrar": None, "sites": 1}
    assert full["more"] == {"countries": 0, "providers": 0, "registrars": 0}
    # Since: only the sites last seen since then; new ones are those first seen since then.
    assert around_t1["summary"]["sites"] == seen_since_t1 == 7
    assert around_t1["summary"]["new_sites"] == 6 and around_t1["summary"]["flagged"] == 3
    assert around_t1["summary"]["crawl_runs"] == 1 and around_t1["summary"]["enrich_runs"] == 1
    assert recent["since"] == T1 + timedelta(hours=12)
    assert recent["summary"]["sites"] == 2 and recent["summary"]["new_sites"] == 2
    assert recent["summary"]["flagged"] == 2 and recent["summary"]["pages"] == 2
    assert recent["summary"]["crawl_runs"] == 0
    assert recent["countries"] == [{"country": "PA", "sites": 1}, {"country": None, "sites": 1}]
    assert [f["domain"] for f in recent["newest"]] == ["hostile-cat.xyz", "streamz.to"]


def test_report_data_costs_a_fixed_number_of_queries(store):
    Session = session_factory(store)
    statements: list[str] = []
    event.listen(store, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with Session() as s, s.begin():
        populate(s)
    with Session() as s:
        statements.clear()
        report_data(s)
        small = len(statements)
    with Session() as s, s.begin():
        names = [f"more{i}.example" for i in range(30)]
        ids = record_hosts(s, names, T1)
        write_verdicts(s, None, {d: verdict(True, "torrent", 0.9, "m") for d in names},
                       {d: v[0] for d, v in ids.items()}, {}, T1)
        record_dns(s, [(d, "A", "185.212.40.10", 300) for d in names], T1)
        for d in names:
            record_registration(s, ids[d][0], "rdap", None, {"registrar": f"Reg {d}"}, "{}", T1)
    with Session() as s:
        statements.clear()
        data = report_data(s)
        assert len(statements) == small
    assert data["summary"]["flagged"] == 33
    assert {"country": "PA", "sites": 32} in data["countries"]
    assert {"category": "torrent", "sites": 30} in data["categories"]


def test_report_data_on_an_empty_store(store):
    with session_factory(store)() as s:
        data = report_data(s)
    assert data["summary"]["sites"] == 0 and data["summary"]["flagged"] == 0 and data["summary"]["networks"] == 0
    assert data["categories"] == data["countries"] == data["providers"] == data["registrars"] == []
    assert data["networks"] == data["newest"] == []
    page = render_report(data, generated_at=T1)
    assert_self_contained(page)
    assert "No sites yet" in page


# --- the report page ----------------------------------------------------------------------


def test_report_page_from_a_populated_store(store):
    Session = session_factory(store)
    with Session() as s, s.begin():
        populate(s)
    with Session() as s:
        data = report_data(s)
    page = render_report(data, generated_at=T1)
    assert_self_contained(page)
    assert "<script" not in page
    assert "2026-01-11 12:00 UTC" in page  # generated at
    assert "2026-01-01 12:00 UTC \u2013 2026-01-13 12:00 UTC" in page  # store period
    # Hostile strings only escaped.
    for raw in (HOSTILE_CATEGORY, HOSTILE_REGISTRAR, "<img src=x", "<script>"):
        assert raw not in page
    assert "&lt;b&gt;ok&lt;/b&gt;&amp;" in page
    assert "Evil &quot;Reg&quot; &lt;script&gt;alert(3)&lt;/script&gt; &amp; Co" in page
    assert "&lt;img src=x onerror=1&gt;" in page  # hostile-cat.xyz has no reasons: its signals
    assert "Shows &lt;u&gt;pop-under&lt;/u&gt; ads." in page and "by streaming, ddl" in page
    assert "popunder ads" not in page  # streamz.to's reasons replace its signals
    text = " ".join(" ".join(tables_of(page).text).split())
    for figure in ("9 sites known", "3 flagged as piracy", "1 operator networks", "2 pages fetched"):
        assert figure in text
    networks, newest = tables_of(page).tables
    assert len(networks) == 1 and "op-net1" in networks[0] and "hostile-cat.xyz" in networks[0]
    assert [r.split()[0] for r in newest] == ["hostile-cat.xyz", "streamz.to", "toonmoa101.com"]
    assert "PA Panama" in text and "Flyservers S.A." in text and "CDN: cloudflare" in text


def test_report_page_with_hostile_hand_made_data():
    evil = '"><img src=x onerror=alert(1)>.example'
    data = {"since": None, "period": {"from": T0, "to": T1},
            "summary": {"sites": 1, "flagged": 1, "networks": 1},
            "categories": [{"category": "<i>cat</i>", "sites": 1}],
            "countries": [{"country": "<u>", "sites": 1}],
            "providers": [{"asn": 1, "org": "<s>org</s>", "as_name": None, "cdn": "<q>", "sites": 1}],
            "registrars": [{"registrar": "<em>reg</em>", "sites": 1}],
            "more": {},
            "networks": [{"key": "<k>", "label": "<l>", "members": [{"domain": evil, "is_piracy": True,
                                                                     "category": "<c>"}],
                          "identifiers": [{"type": "<t>", "weight": 1, "values": 2}]}],
            "newest": [{"domain": evil, "category": "<c>", "score": 0.5, "signals": ["<sig>"],
                        "reasons": ["<why>"], "delivery": ["<d>"], "first_seen": T0,
                        "cluster": "<k>"}]}
    page = render_report(data, generated_at="<now>")
    assert_self_contained(page)
    assert re.search(r"<(i|u|s|q|em|k|l|c|t|sig|why|d|now)>", page) is None
    assert "&lt;why&gt;" in page and "&lt;d&gt;" in page
    assert "<img" not in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;.example" in page


def test_report_page_of_no_data_at_all():
    page = render_report({}, generated_at=T0)
    assert_self_contained(page)
    assert "No sites yet" in page and "no observations yet" in page
