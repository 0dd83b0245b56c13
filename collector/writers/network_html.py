"""An operator network (:func:`storage.clusters.network_of`) as one self-contained HTML page
an analyst can open offline and explore (its DOT twin: :mod:`collector.writers.dot`).

    net = network_of(session, "toonmoa101.com")
    Path("net.html").write_text(to_html(net), encoding="utf-8")

Both draw the same picture (:func:`collector.writers.network_graph.graph_of`): the sites,
and the identifiers they share (wallets, analytics and ad accounts, contacts, favicon hashes,
certificates, nameserver sets, dedicated IPs) as nodes of their own, with an edge from each
site to each identifier it shares, labelled with the identifier's weight. An edge is *weak*
(dashed) when every link it belongs to is below the clustering threshold (``"joins": False``):
the identifier ties the site to the network without putting it in.

Every value in a network was scraped or looked up and is hostile: DOT strings are quoted and
escaped (:func:`collector.writers.dot.dot_quote`); the HTML page escapes text with
:func:`html.escape`, carries the data as JSON in ``<script type="application/json">`` with
``<``, ``>``, ``&``, U+2028 and U+2029 escaped, and its script reads that with ``JSON.parse``
and builds the picture with ``createElementNS``/``textContent`` only (never ``innerHTML``).
The page loads nothing from anywhere (a Content-Security-Policy forbids it) and links to no
site.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from collector.writers.network_graph import KINDS, clean_text, graph_of, kind_of

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
"""The Content-Security-Policy of every page isop writes: nothing from outside, inline only."""


def esc(value: Any) -> str:
    """HTML-escaped text (quotes included), for element content and attribute values alike."""
    return html.escape(clean_text("" if value is None else value), quote=True)


def json_island(value: Any) -> str:
    """``value`` as JSON safe inside ``<script type="application/json">``: ``<``, ``>``, ``&``,
    U+2028 and U+2029 escaped (and everything non-ASCII), so no ``</script>`` can close it."""
    text = json.dumps(value, ensure_ascii=True, default=_json_default, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str)
    return str(value)


# --- HTML ---------------------------------------------------------------------------------


def _polygon(sides: int, radius: float, rotation: float) -> list[tuple[float, float]]:
    return [(radius * math.cos(rotation + 2 * math.pi * i / sides), radius * math.sin(rotation + 2 * math.pi * i / sides))
            for i in range(sides)]


def shape_path(shape: str, radius: float) -> str:
    """An SVG path for ``shape`` centred on 0,0 (the script draws the same shapes)."""
    up = -math.pi / 2
    points = {
        "diamond": lambda: _polygon(4, radius * 1.25, up),
        "square": lambda: _polygon(4, radius * 1.2, math.pi / 4),
        "triangle": lambda: _polygon(3, radius * 1.35, up),
        "triangle-down": lambda: _polygon(3, radius * 1.35, -up),
        "pentagon": lambda: _polygon(5, radius * 1.15, up),
        "hexagon": lambda: _polygon(6, radius * 1.15, 0),
        "octagon": lambda: _polygon(8, radius * 1.1, math.pi / 8),
    }.get(shape)
    if points is None:
        r = f"{radius:.2f}"
        return f"M{r},0A{r},{r} 0 1,1 -{r},0A{r},{r} 0 1,1 {r},0Z"
    return "M" + "L".join(f"{x:.2f},{y:.2f}" for x, y in points()) + "Z"


def _swatch(kind: str, dashed: bool = False) -> str:
    k = KINDS[kind]
    path = shape_path(k["shape"], 6.5)
    stroke = ' stroke-dasharray="2 1.5"' if dashed else ""
    return (f'<svg class="swatch" width="20" height="20" viewBox="-10 -10 20 20" aria-hidden="true">'
            f'<path d="{path}" fill="{k["color"]}" stroke="#ffffff" stroke-width="1.2"{stroke}/></svg>')


def _fact(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple | set):
        return ", ".join(clean_text(v) for v in value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC") if value.tzinfo else value.isoformat(sep=" ")
    return clean_text("" if value is None else value)


def _with_detail(site: str, detail: Mapping[str, Any]) -> str:
    """``site (what it shows)``: the GA property of an account, a hop's direction."""
    return f"{site} ({detail[site]})" if detail.get(site) else site


def _identifier_cells(identifiers: Iterable[Mapping[str, Any]]) -> str:
    items = []
    for ident in identifiers:
        kind = kind_of(str(ident["type"]))
        detail = ident.get("detail") if isinstance(ident.get("detail"), Mapping) else {}
        shows = "; ".join(f"{k}: {v}" for k, v in sorted(detail.items()))
        infra = " · infrastructure" if ident.get("kind") == "infrastructure" else ""
        items.append(f'<li><span class="chip" style="--c:{KINDS[kind]["color"]}">{esc(ident["type"])}</span> '
                     f'<span class="mono val">{esc(ident["value"])}</span> '
                     f'<span class="muted">{float(ident.get("weight") or 0):.2f} · {int(ident.get("sites") or 0)} '
                     f'sites{infra}</span>' + (f' <span class="muted">({esc(shows)})</span>' if shows else "")
                     + '</li>')
    return '<ul class="ids">' + "".join(items) + "</ul>" if items else '<span class="muted">none</span>'


def to_html(net: Mapping[str, Any], *, title: str | None = None, extra: Mapping[str, Any] | None = None) -> str:
    """The network as one self-contained HTML page: an explorable force-directed picture
    (drag nodes, scroll to zoom, hover or click for details), a legend, and tables of the
    sites, links and shared identifiers rendered on the server (useful with scripts off).

    ``extra``: more to show, all of it also in the page's data. ``extra["sites"]`` maps a
    domain to a dict of facts about it (category, score, country ...), shown in the sites
    table and the details panel; any other key with a scalar value is listed under the title.
    """
    extra = dict(extra or {})
    graph = graph_of(net)
    domain = str(net.get("domain") or "")
    cluster = net.get("cluster")
    links = list(net.get("links") or ())
    site_facts: Mapping[str, Any] = extra.get("sites") if isinstance(extra.get("sites"), Mapping) else {}
    page_title = title if title is not None else f"Operator network of {domain}"
    site_nodes = [n for n in graph["nodes"] if n["type"] == "site"]
    id_nodes = [n for n in graph["nodes"] if n["type"] != "site"]
    joining = sum(1 for lk in links if lk.get("joins"))
    members = list(net.get("sites") or ())

    about = [f"<span>Cluster <b class=\"mono\">{esc(cluster)}</b></span>" if cluster
             else "<span>In no stored cluster</span>",
             f"<span><b>{len(members)}</b> site{'s' if len(members) != 1 else ''} in the network</span>",
             f"<span><b>{len(links)}</b> link{'s' if len(links) != 1 else ''} "
             f"({joining} joining, {len(links) - joining} weak)</span>",
             f"<span><b>{len(id_nodes)}</b> shared identifier{'s' if len(id_nodes) != 1 else ''}</span>"]
    for key, value in extra.items():
        if key != "sites" and (value is None or isinstance(value, str | int | float | bool | datetime)):
            about.append(f"<span>{esc(key)}: <b>{esc(_fact(value))}</b></span>")

    present = {n["kind"] for n in graph["nodes"]}
    legend = "".join(f'<li>{_swatch(kind)}<span>{esc(KINDS[kind]["label"])}</span></li>'
                     for kind in KINDS if kind in present or kind in ("focus", "site"))
    legend += ('<li><svg class="swatch" width="28" height="10" aria-hidden="true"><line x1="1" y1="5" x2="27" y2="5" '
               'stroke="#475569" stroke-width="2.5"/></svg><span>Shared, and joins the network</span></li>'
               '<li><svg class="swatch" width="28" height="10" aria-hidden="true"><line x1="1" y1="5" x2="27" y2="5" '
               'stroke="#94a3b8" stroke-width="1.5" stroke-dasharray="4 3"/></svg><span>Shared, weak link only'
               '</span></li>')

    fact_keys: list[str] = []
    for facts in site_facts.values():
        if isinstance(facts, Mapping):
            fact_keys.extend(k for k in facts if k not in fact_keys)
    site_rows = []
    for node in site_nodes:
        role = {"focus": "asked about", "site": "in the network", "outside": "weakly linked"}[node["kind"]]
        facts = site_facts.get(node["value"]) if isinstance(site_facts.get(node["value"]), Mapping) else {}
        cells = "".join(f"<td>{esc(_fact(facts.get(k)))}</td>" for k in fact_keys)
        strongest = max((p["strength"] for p in node["links"]), default=None)
        site_rows.append(f'<tr><td>{_swatch(node["kind"])}<span class="mono">{esc(node["value"])}</span></td>'
                         f'<td>{esc(role)}</td><td class="num">{len(node["links"])}</td>'
                         f'<td class="num">{"" if strongest is None else f"{strongest:.2f}"}</td>{cells}</tr>')
    fact_heads = "".join(f"<th>{esc(k)}</th>" for k in fact_keys)

    link_rows = []
    for lk in links:
        weak = not lk.get("joins")
        link_rows.append(
            f'<tr class="{"weak" if weak else "joins"}"><td><span class="mono">{esc(lk["a"])}</span> \u2014 '
            f'<span class="mono">{esc(lk["b"])}</span></td>'
            f'<td class="num"><span class="meter"><span style="width:{100 * min(1.0, float(lk.get("strength") or 0)):.0f}%">'
            f'</span></span>{float(lk.get("strength") or 0):.2f}</td>'
            f'<td class="num">{float(lk.get("raw") or 0):.2f}</td>'
            f'<td>{"weak" if weak else "yes"}</td><td>{_identifier_cells(lk.get("identifiers") or ())}</td></tr>')
    links_table = ('<table class="data"><thead><tr><th>Sites</th><th>Strength</th><th>Raw sum</th><th>Joins</th>'
                   '<th>Shared identifiers (weight · sites sharing it)</th></tr></thead><tbody>'
                   + "".join(link_rows) + "</tbody></table>") if link_rows else \
        '<p class="empty">No links: this site shares no identifier with any other known site.</p>'

    id_rows = []
    for node in id_nodes:
        id_rows.append(f'<tr><td>{_swatch(node["kind"], dashed=not node["joins"])}{esc(node["type_label"])} '
                       f'<span class="muted">({esc(node["type"])})</span></td>'
                       f'<td><span class="mono val">{esc(node["value"])}</span></td>'
                       f'<td class="num">{node["weight"]:.2f}</td><td class="num">{node["sites"]}</td>'
                       f'<td>{esc(", ".join(_with_detail(s, node["detail"]) for s in node["shown_sites"]))}</td></tr>')
    ids_table = ('<table class="data"><thead><tr><th>Kind</th><th>Value</th><th>Weight</th><th>Sites sharing it '
                 '(store)</th><th>Sites here</th></tr></thead><tbody>' + "".join(id_rows) + "</tbody></table>") \
        if id_rows else '<p class="empty">No shared identifiers.</p>'

    data = {"network": net, "extra": extra, "graph": graph, "kinds": KINDS}
    return _PAGE.format(
        csp=esc(CSP), title=esc(page_title), heading=esc(page_title), about="".join(about), legend=legend,
        sites_table=('<table class="data"><thead><tr><th>Site</th><th>Role</th><th>Links</th><th>Strongest</th>'
                     f'{fact_heads}</tr></thead><tbody>' + "".join(site_rows) + "</tbody></table>"),
        links_table=links_table, ids_table=ids_table, data=json_island(data), style=_STYLE, script=_SCRIPT,
        n_nodes=len(graph["nodes"]), n_edges=len(graph["edges"]),
    )


_STYLE = """
:root { --ink:#111827; --muted:#6b7280; --line:#e5e7eb; --bg:#f8fafc; --panel:#ffffff; --accent:#c2410c; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: var(--bg); }
header { padding: 18px 24px 12px; background: var(--panel); border-bottom: 1px solid var(--line); }
h1 { margin: 0 0 6px; font-size: 20px; font-weight: 650; overflow-wrap: anywhere; }
h2 { font-size: 15px; margin: 0 0 8px; }
.about { display: flex; flex-wrap: wrap; gap: 6px 18px; color: #374151; }
.mono, .val { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.val { overflow-wrap: anywhere; }
.muted { color: var(--muted); }
main { display: flex; gap: 16px; padding: 16px 24px; align-items: stretch; }
.graph-panel { flex: 1 1 auto; min-width: 0; background: var(--panel); border: 1px solid var(--line);
               border-radius: 8px; display: flex; flex-direction: column; }
.toolbar { display: flex; gap: 8px; align-items: center; padding: 8px 10px; border-bottom: 1px solid var(--line);
           flex-wrap: wrap; }
.toolbar button { font: inherit; font-size: 13px; padding: 3px 10px; border: 1px solid #cbd5e1; border-radius: 6px;
                  background: #f1f5f9; cursor: pointer; }
.toolbar button:hover { background: #e2e8f0; }
.toolbar label { font-size: 13px; display: inline-flex; gap: 4px; align-items: center; }
.toolbar .hint { margin-left: auto; color: var(--muted); font-size: 12px; }
#graph { width: 100%; height: 620px; display: block; cursor: grab; touch-action: none; user-select: none; }
#graph.panning { cursor: grabbing; }
#graph .node { cursor: pointer; }
#graph .node:focus { outline: none; }
#graph .node:focus-visible path { stroke: #111827; stroke-width: 2.5; }
#graph .node text { font-size: 11px; fill: #1f2937; paint-order: stroke; stroke: #ffffff; stroke-width: 3.5px;
                    stroke-linejoin: round; pointer-events: none; }
#graph .node.site text { font-size: 12.5px; font-weight: 600; }
#graph .node.idnode text { font-size: 10px; fill: #374151; }
#graph.nolabels .node.idnode text { display: none; }
#graph .edge { stroke: #64748b; stroke-opacity: .75; }
#graph .edge.weak { stroke: #94a3b8; stroke-dasharray: 5 4; }
#graph.focusing .node, #graph.focusing .edge { opacity: .13; }
#graph.focusing .node.lit, #graph.focusing .edge.lit { opacity: 1; }
#graph .node.selected path { stroke: #111827; stroke-width: 3; }
aside { flex: 0 0 330px; display: flex; flex-direction: column; gap: 16px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
#details dl { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 4px 10px; }
#details dt { color: var(--muted); }
#details dd { margin: 0; overflow-wrap: anywhere; }
#details ul { margin: 0; padding-left: 18px; }
#details .kindline { display: flex; align-items: center; gap: 6px; margin-bottom: 8px; font-weight: 600; }
.legend ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 5px; }
.legend li { display: flex; align-items: center; gap: 8px; }
.swatch { flex: none; vertical-align: middle; margin-right: 4px; }
section.block { margin: 0 24px 18px; background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
                padding: 12px 14px; }
table.data { border-collapse: collapse; width: 100%; }
table.data th, table.data td { text-align: left; vertical-align: top; padding: 6px 8px;
                               border-bottom: 1px solid var(--line); }
table.data th { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted);
                font-weight: 600; }
table.data td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.data tr.weak td { color: #475569; }
ul.ids { list-style: none; margin: 0; padding: 0; }
ul.ids li { margin: 1px 0; }
.chip { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 11.5px; color: #fff;
        background: var(--c, #6b7280); }
.meter { display: inline-block; width: 48px; height: 6px; background: #e5e7eb; border-radius: 3px;
         margin-right: 6px; vertical-align: middle; overflow: hidden; }
.meter span { display: block; height: 100%; background: var(--accent); }
.empty { color: var(--muted); font-style: italic; }
.noscript { padding: 10px 14px; color: #92400e; background: #fffbeb; }
footer { margin: 0 24px 24px; color: var(--muted); font-size: 12px; }
@media (max-width: 900px) { main { flex-direction: column; } aside { flex-basis: auto; } }
@media print {
  body { background: #fff; }
  .toolbar { display: none; }
  main { display: block; }
  aside { margin-top: 12px; }
  section.block, .card, .graph-panel { border-color: #d1d5db; break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

# The script: reads the data island with JSON.parse, draws with createElementNS and
# textContent only. The SVG namespace is taken from the page's own <svg> element.
_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("data").textContent);
  var svg = document.getElementById("graph");
  var NS = svg.namespaceURI;
  var viewport = document.getElementById("viewport");
  var edgeLayer = document.getElementById("edges");
  var nodeLayer = document.getElementById("nodes");
  var details = document.getElementById("details-body");
  var kinds = data.kinds;
  var nodes = data.graph.nodes, edges = data.graph.edges;
  if (!nodes.length) { return; }

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { e.setAttribute(k, String(attrs[k])); } }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function h(name, text, parent, cls) {
    var e = document.createElement(name);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    if (parent) { parent.appendChild(e); }
    return e;
  }
  function polygon(sides, r, rot) {
    var p = [];
    for (var i = 0; i < sides; i++) {
      var a = rot + 2 * Math.PI * i / sides;
      p.push((r * Math.cos(a)).toFixed(2) + "," + (r * Math.sin(a)).toFixed(2));
    }
    return "M" + p.join("L") + "Z";
  }
  function shapePath(shape, r) {
    var up = -Math.PI / 2;
    switch (shape) {
      case "diamond": return polygon(4, r * 1.25, up);
      case "square": return polygon(4, r * 1.2, Math.PI / 4);
      case "triangle": return polygon(3, r * 1.35, up);
      case "triangle-down": return polygon(3, r * 1.35, -up);
      case "pentagon": return polygon(5, r * 1.15, up);
      case "hexagon": return polygon(6, r * 1.15, 0);
      case "octagon": return polygon(8, r * 1.1, Math.PI / 8);
      default: return "M" + r + ",0A" + r + "," + r + " 0 1,1 " + (-r) + ",0A" + r + "," + r + " 0 1,1 " + r + ",0Z";
    }
  }
  function short(s, n) { s = String(s); return s.length <= n ? s : s.slice(0, n - 1) + "\u2026"; }

  // Deterministic pseudo-random numbers, so the same network opens the same way.
  var seed = 0x2545F491;
  for (var si = 0; si < nodes.length; si++) { seed = (seed ^ nodes[si].id.length * 2654435761) >>> 0; }
  function rand() {
    seed = (seed + 0x6D2B79F5) >>> 0;
    var t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  var byId = {};
  var sites = [];
  nodes.forEach(function (n) {
    n.isSite = n.type === "site";
    n.r = n.isSite ? (n.focus ? 17 : 13) : 7 + 5 * Math.min(1, n.weight || 0);
    n.vx = 0; n.vy = 0; n.fixed = false; n.nbr = [];
    byId[n.id] = n;
    if (n.isSite) { sites.push(n); }
  });
  edges.forEach(function (e) {
    e.s = byId[e.source]; e.t = byId[e.target];
    e.s.nbr.push(e); e.t.nbr.push(e);
  });
  // Start: sites on a circle (the focus in the middle), identifiers near their sites.
  var R0 = 60 + 28 * sites.length;
  sites.forEach(function (n, i) {
    if (n.focus) { n.x = 0; n.y = 0; return; }
    var a = 2 * Math.PI * i / Math.max(1, sites.length - (sites[0].focus ? 1 : 0));
    n.x = R0 * Math.cos(a); n.y = R0 * Math.sin(a);
  });
  nodes.forEach(function (n) {
    if (n.isSite) { return; }
    var x = 0, y = 0;
    n.nbr.forEach(function (e) { x += e.s.x; y += e.s.y; });
    var k = Math.max(1, n.nbr.length);
    n.x = x / k + (rand() - 0.5) * 80; n.y = y / k + (rand() - 0.5) * 80;
  });

  // Force-directed layout: repulsion between every pair, springs along edges, weak gravity.
  var alpha = 1;
  function tick() {
    var i, j, a, b, dx, dy, d2, d, f;
    for (i = 0; i < nodes.length; i++) {
      a = nodes[i];
      for (j = i + 1; j < nodes.length; j++) {
        b = nodes[j];
        dx = b.x - a.x; dy = b.y - a.y; d2 = dx * dx + dy * dy;
        if (d2 < 1) { dx = rand() - 0.5; dy = rand() - 0.5; d2 = 1; }
        if (d2 > 640000) { continue; }
        f = (a.isSite && b.isSite ? 12000 : (a.isSite || b.isSite ? 6000 : 4500)) * alpha / d2;
        d = Math.sqrt(d2);
        a.vx -= dx / d * f; a.vy -= dy / d * f; b.vx += dx / d * f; b.vy += dy / d * f;
      }
    }
    edges.forEach(function (e) {
      dx = e.t.x - e.s.x; dy = e.t.y - e.s.y; d = Math.sqrt(dx * dx + dy * dy) || 1;
      var len = e.joins ? 85 + 50 * (1 - e.weight) : 150;
      f = (d - len) / d * 0.06 * alpha * (e.joins ? 1 : 0.5);
      e.s.vx += dx * f; e.s.vy += dy * f; e.t.vx -= dx * f; e.t.vy -= dy * f;
    });
    nodes.forEach(function (n) {
      n.vx -= n.x * 0.003 * alpha; n.vy -= n.y * 0.003 * alpha;
      if (n.fixed) { n.vx = 0; n.vy = 0; return; }
      n.vx *= 0.6; n.vy *= 0.6;
      var sp = Math.sqrt(n.vx * n.vx + n.vy * n.vy);
      if (sp > 40) { n.vx *= 40 / sp; n.vy *= 40 / sp; }
      n.x += n.vx; n.y += n.vy;
    });
    alpha *= 0.985;
  }

  // Drawing.
  var edgeEls = edges.map(function (e) {
    var line = el("line", {"class": "edge" + (e.joins ? "" : " weak"),
                           "stroke-width": (0.8 + 2.6 * Math.min(1, e.weight || 0)).toFixed(2)}, edgeLayer);
    var t = el("title", {}, line);
    t.textContent = e.s.label + " \u2014 " + (e.t.type_label || e.t.type) + " " + e.t.value +
      " (weight " + Number(e.weight).toFixed(2) + (e.joins ? "" : ", weak link only") + ")";
    e.el = line;
    return line;
  });
  nodes.forEach(function (n) {
    var kind = kinds[n.kind] || kinds.other;
    var g = el("g", {"class": "node " + (n.isSite ? "site" : "idnode"), "tabindex": "0", "role": "button"}, nodeLayer);
    el("path", {"d": shapePath(kind.shape, n.r), "fill": kind.color, "stroke": n.focus ? "#7c2d12" : (n.kind === "outside" ? "#475569" : "#ffffff"),
                "stroke-width": n.focus ? 3 : 1.5,
                "stroke-dasharray": (!n.isSite && !n.joins) || n.kind === "outside" ? "3 2" : "none"}, g);
    var label = n.isSite ? el("text", {"text-anchor": "middle", "y": n.r + 15}, g)
                         : el("text", {"text-anchor": "start", "x": n.r + 5, "y": 4}, g);
    label.textContent = n.isSite ? n.label : short(n.type, 14) + ": " + short(n.value, 22);
    var tt = el("title", {}, g);
    tt.textContent = n.isSite ? n.value : (n.type_label + ": " + n.value);
    n.el = g;
    g.addEventListener("pointerenter", function () { if (!selected) { show(n); highlight(n); } });
    g.addEventListener("pointerleave", function () { if (!selected) { clearHighlight(); showHint(); } });
    g.addEventListener("focus", function () { select(n); });
    g.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { select(null); g.blur(); }
    });
    g.addEventListener("pointerdown", function (ev) { startDrag(ev, n); });
  });

  function render() {
    edges.forEach(function (e) {
      e.el.setAttribute("x1", e.s.x.toFixed(1)); e.el.setAttribute("y1", e.s.y.toFixed(1));
      e.el.setAttribute("x2", e.t.x.toFixed(1)); e.el.setAttribute("y2", e.t.y.toFixed(1));
    });
    nodes.forEach(function (n) {
      n.el.setAttribute("transform", "translate(" + n.x.toFixed(1) + "," + n.y.toFixed(1) + ")");
    });
  }

  // Pan and zoom: a transform on the viewport group.
  var view = {x: 0, y: 0, k: 1};
  function applyView() {
    viewport.setAttribute("transform", "translate(" + view.x.toFixed(1) + "," + view.y.toFixed(1) + ") scale(" +
      view.k.toFixed(4) + ")");
  }
  function fit() {
    var box = svg.getBoundingClientRect();
    var w = box.width || 900, hgt = box.height || 620;
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    nodes.forEach(function (n) {
      var pad = n.isSite ? 90 : 60;
      x0 = Math.min(x0, n.x - pad); x1 = Math.max(x1, n.x + pad);
      y0 = Math.min(y0, n.y - 30); y1 = Math.max(y1, n.y + 40);
    });
    var k = Math.min(w / (x1 - x0), hgt / (y1 - y0), 1.6);
    view.k = k;
    view.x = w / 2 - k * (x0 + x1) / 2;
    view.y = hgt / 2 - k * (y0 + y1) / 2;
    applyView();
  }
  function toGraph(ev) {
    var box = svg.getBoundingClientRect();
    return {x: (ev.clientX - box.left - view.x) / view.k, y: (ev.clientY - box.top - view.y) / view.k};
  }
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var box = svg.getBoundingClientRect();
    var px = ev.clientX - box.left, py = ev.clientY - box.top;
    var k = Math.max(0.15, Math.min(5, view.k * Math.exp(-ev.deltaY * 0.0015)));
    view.x = px - (px - view.x) * k / view.k;
    view.y = py - (py - view.y) * k / view.k;
    view.k = k;
    applyView();
  }, {passive: false});

  var drag = null;
  function startDrag(ev, n) {
    ev.stopPropagation();
    ev.preventDefault();
    var p = toGraph(ev);
    drag = {node: n, dx: n.x - p.x, dy: n.y - p.y, moved: false, id: ev.pointerId};
    svg.setPointerCapture(ev.pointerId);
  }
  svg.addEventListener("pointerdown", function (ev) {
    drag = {pan: true, x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, moved: false, id: ev.pointerId};
    svg.setPointerCapture(ev.pointerId);
    svg.classList.add("panning");
  });
  svg.addEventListener("pointermove", function (ev) {
    if (!drag) { return; }
    if (drag.pan) {
      if (Math.abs(ev.clientX - drag.x) + Math.abs(ev.clientY - drag.y) > 3) { drag.moved = true; }
      view.x = drag.vx + ev.clientX - drag.x; view.y = drag.vy + ev.clientY - drag.y;
      applyView();
      return;
    }
    var p = toGraph(ev);
    var n = drag.node;
    if (!drag.moved && Math.abs(p.x + drag.dx - n.x) + Math.abs(p.y + drag.dy - n.y) < 2) { return; }
    drag.moved = true;
    n.fixed = true;
    n.x = p.x + drag.dx; n.y = p.y + drag.dy;
    reheat(0.25);
    render();
  });
  function endDrag(ev) {
    if (!drag) { return; }
    var d = drag;
    drag = null;
    svg.classList.remove("panning");
    if (svg.hasPointerCapture(ev.pointerId)) { svg.releasePointerCapture(ev.pointerId); }
    if (d.pan) { if (!d.moved) { select(null); } return; }
    if (!d.moved) { select(selected === d.node ? null : d.node); }
  }
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);
  svg.addEventListener("dblclick", function (ev) {
    // Double-click releases every pinned node.
    ev.preventDefault();
    nodes.forEach(function (n) { n.fixed = false; });
    reheat(0.4);
  });

  var running = false;
  function reheat(a) {
    alpha = Math.max(alpha, a);
    if (!running) { running = true; window.requestAnimationFrame(frame); }
  }
  function frame() {
    for (var i = 0; i < 2; i++) { tick(); }
    render();
    if (alpha > 0.01 || drag) { window.requestAnimationFrame(frame); } else { running = false; }
  }

  // Details and highlighting.
  var selected = null;
  function highlight(n) {
    svg.classList.add("focusing");
    nodes.forEach(function (m) { m.el.classList.remove("lit"); });
    edges.forEach(function (e) { e.el.classList.remove("lit"); });
    n.el.classList.add("lit");
    n.nbr.forEach(function (e) {
      e.el.classList.add("lit"); e.s.el.classList.add("lit"); e.t.el.classList.add("lit");
    });
  }
  function clearHighlight() {
    svg.classList.remove("focusing");
  }
  function select(n) {
    if (selected) { selected.el.classList.remove("selected"); }
    selected = n;
    if (n) { n.el.classList.add("selected"); show(n); highlight(n); } else { clearHighlight(); showHint(); }
  }
  function showHint() {
    details.textContent = "";
    h("p", "Hover over a node for its details; click to keep them. Drag nodes to rearrange, drag the " +
      "background to pan, scroll to zoom, double-click to release pinned nodes.", details, "muted");
  }
  function row(dl, term, value, cls) {
    h("dt", term, dl);
    var dd = h("dd", value, dl);
    if (cls) { dd.className = cls; }
    return dd;
  }
  function show(n) {
    details.textContent = "";
    var kind = kinds[n.kind] || kinds.other;
    var head = h("div", null, details, "kindline");
    var sw = el("svg", {"width": 20, "height": 20, "viewBox": "-10 -10 20 20"}, head);
    el("path", {"d": shapePath(kind.shape, 6.5), "fill": kind.color}, sw);
    h("span", n.isSite ? kind.label : n.type_label, head);
    var dl = h("dl", null, details);
    if (n.isSite) {
      row(dl, "Domain", n.value, "mono");
      row(dl, "Role", n.focus ? "the site asked about" : (n.member ? "in the network" : "weakly linked, outside"));
      var facts = (data.extra && data.extra.sites && data.extra.sites[n.value]) || null;
      if (facts && typeof facts === "object") {
        Object.keys(facts).forEach(function (k) {
          var v = facts[k];
          if (v === null || v === undefined) { return; }
          row(dl, k, Array.isArray(v) ? v.join(", ") : (typeof v === "number" ? +v.toFixed(3) : v));
        });
      }
      row(dl, "Identifiers", String(n.nbr.length) + " shared");
      var dd = row(dl, "Links", n.links.length ? null : "none");
      if (n.links.length) {
        var ul = h("ul", null, dd);
        n.links.forEach(function (lk) {
          h("li", lk.site + " \u2014 " + Number(lk.strength).toFixed(2) + (lk.joins ? "" : " (weak)"), ul);
        });
      }
    } else {
      row(dl, "Type", n.type, "mono");
      row(dl, "Value", n.value, "mono");
      row(dl, "Weight", Number(n.weight).toFixed(2));
      row(dl, "Sites", String(n.sites) + " in the store share it");
      row(dl, "Joins", n.joins ? "yes: part of a joining link" : "no: weak links only");
      var dd2 = row(dl, "Here", null);
      var ul2 = h("ul", null, dd2);
      n.shown_sites.forEach(function (s) {
        h("li", n.detail && n.detail[s] ? s + " (" + n.detail[s] + ")" : s, ul2, "mono");
      });
    }
  }

  document.getElementById("btn-fit").addEventListener("click", fit);
  document.getElementById("btn-relayout").addEventListener("click", function () {
    nodes.forEach(function (n) { n.fixed = false; });
    reheat(0.8);
  });
  var labels = document.getElementById("opt-labels");
  if (nodes.length > 80) { labels.checked = false; }
  function applyLabels() { svg.classList.toggle("nolabels", !labels.checked); }
  labels.addEventListener("change", applyLabels);
  applyLabels();

  // Lay out before the first paint, then fit to the panel.
  for (var it = 0; it < 300 && alpha > 0.01; it++) { tick(); }
  render();
  fit();
  showHint();
  var shown = document.getElementById("js-only");
  if (shown) { shown.hidden = false; }
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header>
<h1>{heading}</h1>
<div class="about">{about}</div>
</header>
<main>
<section class="graph-panel" aria-label="Network picture">
<div class="toolbar" id="js-only" hidden>
<button type="button" id="btn-fit">Fit to view</button>
<button type="button" id="btn-relayout">Re-run layout</button>
<label><input type="checkbox" id="opt-labels" checked> identifier labels</label>
<span class="hint">{n_nodes} nodes · {n_edges} edges</span>
</div>
<noscript><p class="noscript">Scripts are off: the picture needs them. The tables below list every site, link
and shared identifier.</p></noscript>
<svg id="graph" role="img" aria-label="Sites and the identifiers they share"><g id="viewport"><g id="edges"></g><g id="nodes"></g></g></svg>
</section>
<aside>
<section class="card" id="details" aria-live="polite"><h2>Details</h2><div id="details-body"></div></section>
<section class="card legend"><h2>Legend</h2><ul>{legend}</ul></section>
</aside>
</main>
<section class="block"><h2>Sites</h2>{sites_table}</section>
<section class="block"><h2>Links</h2>{links_table}</section>
<section class="block"><h2>Shared identifiers</h2>{ids_table}</section>
<footer>Written by isop. This page is self-contained: it loads nothing and links to no site.</footer>
<script type="application/json" id="data">{data}</script>
<script>{script}</script>
</body>
</html>
"""
