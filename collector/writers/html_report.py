"""The analysts' report as one self-contained, print-friendly HTML page.

    data = report_data(session, since=week_ago)           # storage.report_data
    Path("report.html").write_text(render_report(data, generated_at=utcnow()), encoding="utf-8")

The page loads nothing (a Content-Security-Policy forbids it), runs no script, and links to
no site: domains are text, never links. Every string that came from a page, a registry or
a network owner (domains, categories, reasons, signals, registrar and provider names) is escaped
with :func:`html.escape`. Charts are CSS bars, so they print.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from collector.writers.network_graph import KINDS, kind_of
from collector.writers.network_html import CSP, esc

COUNTRY_NAMES = {
    "US": "United States", "NL": "Netherlands", "PA": "Panama", "RU": "Russia", "DE": "Germany",
    "FR": "France", "GB": "United Kingdom", "SC": "Seychelles", "BG": "Bulgaria", "RO": "Romania",
    "MD": "Moldova", "UA": "Ukraine", "HK": "Hong Kong", "SG": "Singapore", "VN": "Vietnam", "ID": "Indonesia",
    "BR": "Brazil", "CA": "Canada", "LU": "Luxembourg", "CH": "Switzerland", "IS": "Iceland", "SE": "Sweden",
    "KR": "South Korea", "JP": "Japan", "CN": "China", "TR": "Turkey", "IN": "India", "MY": "Malaysia",
    "BZ": "Belize", "VG": "British Virgin Islands", "CY": "Cyprus", "LT": "Lithuania", "LV": "Latvia",
    "FI": "Finland", "PL": "Poland", "CZ": "Czechia", "ES": "Spain", "IT": "Italy", "AU": "Australia",
}


def _when(value: Any, with_time: bool = True) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if with_time:
            return value.strftime("%Y-%m-%d %H:%M") + (" UTC" if value.tzinfo is not None else "")
        return value.strftime("%Y-%m-%d")
    return str(value)


def _num(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else esc(value if value is not None else "")


def _bars(title: str, rows: Sequence[tuple[str, str, int]], total: int | None, more: int = 0,
          empty: str = "Nothing to show.") -> str:
    """A bar chart: ``rows`` of (label HTML, note HTML, count); ``total`` for percentages."""
    if not rows:
        return f'<section class="chart"><h3>{esc(title)}</h3><p class="empty">{esc(empty)}</p></section>'
    peak = max(n for _l, _n, n in rows) or 1
    items = []
    for label, note, n in rows:
        share = f" · {100 * n / total:.0f}%" if total else ""
        items.append(f'<li><div class="bar-label"><span class="name">{label}</span>{note}</div>'
                     f'<div class="bar"><span style="width:{max(1.5, 100 * n / peak):.1f}%"></span></div>'
                     f'<div class="bar-value">{n:,}<span class="muted">{share}</span></div></li>')
    tail = f'<p class="muted small">and {more:,} more</p>' if more else ""
    return f'<section class="chart"><h3>{esc(title)}</h3><ul class="bars">{"".join(items)}</ul>{tail}</section>'


def _unknown(text: str = "unknown") -> str:
    return f'<span class="unknown">{esc(text)}</span>'


def _country(code: str | None) -> str:
    if code is None:
        return _unknown("unknown (no hosting data)")
    name = COUNTRY_NAMES.get(str(code).upper())
    return f'<span class="mono">{esc(code)}</span>' + (f" {esc(name)}" if name else "")


def _provider(p: Mapping[str, Any]) -> tuple[str, str]:
    if p.get("asn") is None and p.get("org") is None:
        return _unknown("unknown (no hosting data)"), ""
    name = p.get("org") or p.get("as_name") or (f"AS{p['asn']}" if p.get("asn") is not None else "")
    note = []
    if p.get("asn") is not None:
        note.append(f'<span class="mono muted">AS{esc(p["asn"])}</span>')
    if p.get("cdn"):
        note.append(f'<span class="tag">CDN: {esc(p["cdn"])}</span>')
    return esc(name), " ".join(note)


def _card(label: str, value: Any, note: str = "") -> str:
    return (f'<div class="card"><div class="figure">{_num(value)}</div><div class="label">{esc(label)}</div>'
            + (f'<div class="note">{note}</div>' if note else "") + "</div>")


def _identifier_chips(identifiers: Iterable[Mapping[str, Any]]) -> str:
    chips = []
    for ident in identifiers:
        color = KINDS[kind_of(str(ident.get("type")))]["color"]
        values = int(ident.get("values") or 0)
        chips.append(f'<span class="chip" style="--c:{color}">{esc(ident.get("type"))}'
                     f'<span class="chip-n">{float(ident.get("weight") or 0):.2f}'
                     f'{f" ×{values}" if values > 1 else ""}</span></span>')
    return " ".join(chips) if chips else '<span class="muted">none recorded</span>'


def render_report(data: Mapping[str, Any], *, generated_at: datetime | str) -> str:
    """The report page for ``data`` (:func:`storage.report_data.report_data`)."""
    summary = dict(data.get("summary") or {})
    period = data.get("period") or {}
    since = data.get("since")
    sites = int(summary.get("sites") or 0)
    flagged = int(summary.get("flagged") or 0)
    more = data.get("more") or {}

    if period.get("from") is not None or period.get("to") is not None:
        span = f"{esc(_when(period.get('from')))} \u2013 {esc(_when(period.get('to')))}"
    else:
        span = "no observations yet"
    meta = [f"Generated <b>{esc(_when(generated_at))}</b>", f"Store period <b>{span}</b>"]
    if since is not None:
        meta.append(f"Sites seen since <b>{esc(_when(since))}</b>")

    if sites == 0:
        body = ('<section class="block empty-store"><h2>No sites yet</h2><p>The store holds no sites'
                + (" seen in this period" if since is not None else "")
                + '. Run a crawl (<span class="mono">isop crawl</span>) or the demo '
                '(<span class="mono">isop demo</span>) and write the report again.</p></section>')
        return _page(meta, "", body)

    share = f"{100 * flagged / sites:.0f}% of known sites" if sites else ""
    cards = "".join([
        _card("sites known", sites, esc(f"{summary.get('new_sites', 0):,} new in the period")
              if since is not None else ""),
        _card("flagged as piracy", flagged, esc(share)),
        _card("operator networks", summary.get("networks", 0), "clusters of 2+ sites"),
        _card("pages fetched", summary.get("pages", 0)),
        _card("crawl runs", summary.get("crawl_runs", 0),
              esc(f"{summary.get('enrich_runs', 0):,} enrichment runs") if summary.get("enrich_runs") else ""),
        _card("indicators", summary.get("indicators", 0), "IDs, wallets, contacts"),
        _card("hosts", summary.get("hosts", 0)),
    ])

    charts = [
        _bars("Flagged sites per category",
              [(esc(r.get("category")) if r.get("category") is not None else _unknown(), "", int(r["sites"]))
               for r in data.get("categories") or ()], flagged, empty="No site flagged yet."),
        _bars("Hosting country of flagged sites",
              [(_country(r.get("country")), "", int(r["sites"])) for r in data.get("countries") or ()],
              flagged, int(more.get("countries") or 0), empty="No site flagged yet."),
        _bars("Hosting provider of flagged sites",
              [(*_provider(r), int(r["sites"])) for r in data.get("providers") or ()],
              flagged, int(more.get("providers") or 0), empty="No site flagged yet."),
        _bars("Registrar of flagged sites",
              [(esc(r.get("registrar")) if r.get("registrar") is not None else _unknown("unknown (no WHOIS/RDAP)"),
                "", int(r["sites"])) for r in data.get("registrars") or ()],
              flagged, int(more.get("registrars") or 0), empty="No site flagged yet."),
    ]
    charts_html = ('<section class="block"><h2>Where the flagged sites are</h2>'
                   '<p class="muted small">A site counts once per country, provider and registrar; percentages '
                   'are of flagged sites (a site hosted in several countries counts in each).</p>'
                   f'<div class="charts">{"".join(charts)}</div></section>')

    networks = list(data.get("networks") or ())
    if networks:
        rows = []
        for n in networks:
            members = []
            for m in n.get("members") or ():
                category = m.get("category")
                flag = ('<span class="tag piracy">' + esc(category) + "</span>") if m.get("is_piracy") else (
                    '<span class="tag">' + esc(category) + "</span>" if category is not None else "")
                members.append(f'<li><span class="mono">{esc(m.get("domain"))}</span> {flag}</li>')
            label = f'<div class="muted small">{esc(n["label"])}</div>' if n.get("label") else ""
            rows.append(f'<tr><td class="nowrap"><span class="mono">{esc(n.get("key"))}</span>{label}</td>'
                        f'<td class="num">{len(n.get("members") or ())}</td>'
                        f'<td><ul class="plain">{"".join(members)}</ul></td>'
                        f'<td>{_identifier_chips(n.get("identifiers") or ())}</td></tr>')
        networks_html = ('<table class="data"><thead><tr><th>Network</th><th>Sites</th><th>Members</th>'
                         '<th>Strongest shared identifiers (weight)</th></tr></thead><tbody>'
                         + "".join(rows) + "</tbody></table>")
        if int(summary.get("networks") or 0) > len(networks):
            networks_html += f'<p class="muted small">and {int(summary["networks"]) - len(networks):,} more</p>'
    else:
        networks_html = '<p class="empty">No operator network found yet (no two sites share a specific identifier).</p>'

    newest = list(data.get("newest") or ())
    if newest:
        rows = []
        for f in newest:
            reasons = "".join(f"<li>{esc(s)}</li>" for s in f.get("reasons") or f.get("signals") or ())
            delivery = ", ".join(f.get("delivery") or ())
            delivery_html = f'<br><span class="muted small">by {esc(delivery)}</span>' if delivery else ""
            score = f.get("score")
            cluster = f'<span class="mono">{esc(f["cluster"])}</span>' if f.get("cluster") else ""
            rows.append(f'<tr><td class="site"><span class="mono">{esc(f.get("domain"))}</span></td>'
                        f'<td>{esc(f.get("category")) if f.get("category") is not None else ""}{delivery_html}</td>'
                        f'<td class="num">{"" if score is None else f"{float(score):.2f}"}</td>'
                        f'<td><ul class="plain signals">{reasons}</ul></td>'
                        f'<td class="nowrap">{esc(_when(f.get("first_seen")))}</td>'
                        f'<td class="nowrap">{cluster}</td></tr>')
        newest_html = ('<table class="data"><thead><tr><th>Site</th><th>Category</th><th>Score</th>'
                       '<th>Top reasons</th><th>First seen</th><th>Network</th></tr></thead><tbody>'
                       + "".join(rows) + "</tbody></table>")
    else:
        newest_html = '<p class="empty">No site flagged yet.</p>'

    body = (f'<section class="cards">{cards}</section>{charts_html}'
            f'<section class="block"><h2>Operator networks</h2>{networks_html}</section>'
            f'<section class="block"><h2>Newest finds</h2>{newest_html}</section>')
    return _page(meta, "", body)


def _page(meta: Sequence[str], head: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>isop report</title>\n"
        f"<style>{_STYLE}</style>{head}\n</head>\n<body>\n"
        '<header><div class="brand">isop</div><h1>Piracy landscape report</h1>'
        f'<div class="meta">{" · ".join(meta)}</div></header>\n'
        f"<main>{body}</main>\n"
        '<footer>Written by isop. Domains are shown as text, never as links; this page loads nothing.</footer>\n'
        "</body>\n</html>\n"
    )


_STYLE = """
:root { --ink:#111827; --muted:#6b7280; --line:#e5e7eb; --bg:#f8fafc; --panel:#fff; --accent:#c2410c;
        --bar:#1d4ed8; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: var(--bg); }
header { padding: 20px 28px 14px; background: var(--panel); border-bottom: 3px solid var(--accent); }
.brand { font-size: 12px; letter-spacing: .12em; text-transform: uppercase; color: var(--accent); font-weight: 700; }
h1 { margin: 2px 0 6px; font-size: 22px; }
h2 { font-size: 16px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 0 0 8px; }
.meta { color: #374151; }
main { padding: 18px 28px; max-width: 1280px; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px;
        overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
.nowrap { white-space: nowrap; }
td.site { min-width: 20ch; }
.nowrap .mono { overflow-wrap: normal; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; margin-bottom: 18px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .figure { font-size: 26px; font-weight: 700; font-variant-numeric: tabular-nums; }
.card .label { color: #374151; font-weight: 600; }
.card .note { color: var(--muted); font-size: 12px; }
.block { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px;
         margin-bottom: 18px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 18px 28px; }
ul.bars { list-style: none; margin: 0; padding: 0; }
ul.bars li { display: grid; grid-template-columns: minmax(120px, 44%) 1fr 70px; gap: 8px; align-items: center;
             padding: 3px 0; }
.bar-label { overflow-wrap: anywhere; font-size: 13px; }
.bar-label .name { margin-right: 4px; }
.bar { background: #eef2f7; border-radius: 3px; height: 12px; overflow: hidden; }
.bar span { display: block; height: 100%; background: var(--bar); border-radius: 3px; }
.bar-value { text-align: right; font-variant-numeric: tabular-nums; font-size: 13px; }
.bar-value .muted { font-size: 11.5px; }
.unknown { color: var(--muted); font-style: italic; }
.tag { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 8px; background: #e5e7eb;
       color: #374151; }
.tag.piracy { background: #fde8dc; color: #9a3412; }
.chip { display: inline-block; margin: 1px 2px 1px 0; padding: 0 7px; border-radius: 9px; font-size: 11.5px;
        color: #fff; background: var(--c, #6b7280); }
.chip-n { margin-left: 5px; opacity: .85; font-variant-numeric: tabular-nums; }
table.data { border-collapse: collapse; width: 100%; }
table.data th, table.data td { text-align: left; vertical-align: top; padding: 6px 8px;
                               border-bottom: 1px solid var(--line); }
table.data th { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
ul.plain { list-style: none; margin: 0; padding: 0; }
ul.signals li { font-size: 12.5px; color: #374151; overflow-wrap: anywhere; }
ul.signals li + li { margin-top: 2px; }
.empty { color: var(--muted); font-style: italic; }
.empty-store p { font-size: 15px; }
footer { padding: 0 28px 24px; color: var(--muted); font-size: 12px; }
@media print {
  body { background: #fff; font-size: 12px; }
  header { border-bottom-width: 2px; }
  main { padding: 10px 0; max-width: none; }
  .block, .card { break-inside: avoid; border-color: #d1d5db; }
  table.data tr { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""
