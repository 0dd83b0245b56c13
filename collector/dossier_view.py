"""Showing a site dossier and the changes since a date: rich tables and Markdown.

Everything in a dossier that came from outside (page text, titles, URLs, registrar names,
certificate fields, indicator values, DNS answers) is attacker-chosen: in the terminal
every string is first made inert (:func:`storage.safe_text.inert_tree`: control and bidi
characters shown as ``\\x1b``, never obeyed), then goes into :class:`rich.text.Text` cells
or through :func:`rich.markup.escape`, never into markup; in Markdown through
:func:`collector.writers.markdown.md` (which makes it inert too). JSON output is
:func:`storage.safe_text.json_text` with ``default=str``: the dossier holds only JSON
types and ``datetime``s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from collector.writers.markdown import evidence_md, md
from storage.safe_text import inert, inert_tree

MAX_SIGNALS = 12


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple | set):
        return ", ".join(_fmt(v) for v in value) or "-"
    return str(value)


def _cell(value: Any) -> Text:
    """A table cell: plain text, never parsed as markup or emoji codes."""
    return Text(inert(_fmt(value)))


def _table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    table = Table(title=escape(title), title_justify="left", show_lines=False)
    for col in columns:
        table.add_column(escape(col), overflow="fold")
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    return table


def _verdict_text(c: dict | None) -> str:
    if not c:
        return "not classified"
    return (f"{'piracy' if c['is_piracy'] else 'not piracy'}, {c['category']}, score {_fmt(c['score'])} "
            f"({_fmt(c['classified_at'])}, {c.get('classifier_version') or '?'}, {c.get('pages_seen', 0)} pages)")


def _more(shown: int, total: int) -> str:
    return f" (latest {shown} of {total})" if total > shown else ""


# --- the terminal -------------------------------------------------------------------------


def print_dossier(d: dict, console: Console | None = None) -> None:
    """The dossier as sections of tables."""
    console = console or Console()
    d = inert_tree(d)

    def section(title: str) -> None:
        console.print()
        console.rule(Text(title), align="left")

    def line(label: str, value: Any) -> None:
        console.print(Text.assemble((f"{label}: ", "bold"), _fmt(value)))

    console.rule(Text.assemble(("site dossier: ", "bold"), d["domain"]))
    line("first seen", d["first_seen"])
    line("last seen", d["last_seen"])
    status = d.get("status")
    line("status", f"{status['status']} {status['detail']}".strip() + f" (as of {_fmt(status['last_seen'])})"
         if status else None)
    c = d.get("classification")
    line("verdict", _verdict_text(c))
    if c and c.get("delivery"):
        line("delivery", ", ".join(c["delivery"]))
    if c and c.get("reasons"):
        section("why")
        for reason in c["reasons"][:MAX_SIGNALS]:
            console.print(Text(f"  - {reason}"))

    section("classification")
    if c:
        for signal in c["signals"][:MAX_SIGNALS]:
            console.print(Text(f"  - {signal}"))
        if c["history"]:
            console.print(_table("earlier verdicts" + _more(len(c["history"]), c["count"] - 1),
                                 ("classified", "piracy", "category", "score", "version", "pages"),
                                 ((h["classified_at"], h["is_piracy"], h["category"], h["score"],
                                   h["classifier_version"], h["pages_seen"]) for h in c["history"])))
    else:
        console.print("not classified yet")
    if d["statuses"]:
        console.print(_table("status history", ("status", "detail", "first seen", "last seen"),
                             ((s["status"], s["detail"] or "-", s["first_seen"], s["last_seen"])
                              for s in d["statuses"])))

    section("domain hopping")
    hops = d["hops"]
    if hops["chain"]:
        console.print(Text.assemble(("chain: ", "bold"), " → ".join(hops["chain"]),
                                    " (truncated)" if hops["chain_truncated"] else ""))
    rels = [("→", h["kind"], h["to_domain"], h["evidence_url"], h["first_seen"], h["last_seen"])
            for h in hops["successors"]]
    rels += [("←", h["kind"], h["from_domain"], h["evidence_url"], h["first_seen"], h["last_seen"])
             for h in hops["predecessors"]]
    if rels:
        console.print(_table("relations", ("dir", "kind", "site", "evidence", "first seen", "last seen"), rels))
    elif not hops["chain"]:
        console.print("no hops known")

    section("hosts and DNS")
    console.print(_table(f"hosts{_more(len(d['hosts']), d['host_count'])}", ("host", "first seen", "last seen"),
                         ((h["fqdn"], h["first_seen"], h["last_seen"]) for h in d["hosts"])))
    if d["dns"]:
        console.print(_table("DNS (current answer; values seen before)", ("name", "type", "current", "since",
                                                                          "before"),
                             ((e["name"], e["rtype"], e["current"], min(e["current_since"].values(), default=None),
                               "; ".join(f"{b['value']} ({_fmt(b['first_seen'])} .. {_fmt(b['last_seen'])})"
                                         for b in e["before"]) or "-") for e in d["dns"])))
    else:
        console.print("no DNS answers stored (run `isop enrich`)")

    section("hosting")
    host_cols = ("ip", "AS", "AS name", "network", "owner", "country", "abuse contact", "CDN", "reserved")

    def host_rows(entries: list[dict]) -> Iterable[tuple]:
        return ((h["ip"], f"AS{h['asn']}" if h["asn"] is not None else None, h["as_name"], h["cidr"], h["org"],
                 h["country"], h["abuse_email"], h["cdn"], h["reserved"]) for h in entries)

    if d["hosting"]:
        console.print(_table("current addresses", host_cols, host_rows(d["hosting"])))
    else:
        console.print("no current address known")
    if d["hosting_before"]:
        console.print(_table("earlier addresses", host_cols, host_rows(d["hosting_before"])))

    section("registration")
    reg = d.get("registration")
    if reg:
        for label, key in (("registrar", "registrar"), ("IANA id", "registrar_iana_id"), ("created", "created"),
                           ("updated", "updated"), ("expires", "expires"), ("nameservers", "nameservers"),
                           ("statuses", "statuses"), ("registrant", "registrant_org"),
                           ("registrant country", "registrant_country"), ("abuse e-mail", "abuse_email"),
                           ("abuse phone", "abuse_phone"), ("redacted", "redacted"), ("source", "source"),
                           ("server", "server"), ("last seen", "last_seen")):
            line(f"  {label}", reg[key])
        if reg["earlier_registrars"]:
            console.print(_table("earlier registrars", ("registrar", "IANA id", "first seen", "last seen"),
                                 ((r["registrar"], r["registrar_iana_id"], r["first_seen"], r["last_seen"])
                                  for r in reg["earlier_registrars"])))
    else:
        console.print("no registration stored (run `isop enrich`)")

    section("certificates")
    if d["certificates"]:
        console.print(_table("certificates presented", ("host", "sha256", "issuer", "subject CN", "SANs",
                                                        "valid", "first seen", "last seen"),
                             ((x["host"], x["sha256"], x["issuer"], x["subject_cn"], x["sans"][:10],
                               f"{_fmt(x['not_before'])} .. {_fmt(x['not_after'])}", x["first_seen"], x["last_seen"])
                              for x in d["certificates"])))
    else:
        console.print("no certificate stored")

    section("indicators")
    if d["indicators"]:
        console.print(_table(f"indicators{_more(len(d['indicators']), d['indicator_count'])}",
                             ("type", "value", "first seen", "last seen", "other sites", "shared with", "context"),
                             ((i["type"], i["value"], i["first_seen"], i["last_seen"], i["other_sites"],
                               i["shared_with"], (i["context"] or "")[:120] or None) for i in d["indicators"])))
    else:
        console.print("no indicators found")

    section("operator network")
    net = d["network"]
    console.print(Text.assemble(("cluster: ", "bold"), _fmt(net.get("cluster")), f", {len(net['sites'])} site(s): ",
                                ", ".join(net["sites"])))
    if net.get("links"):
        console.print(_table("links", ("sites", "strength", "joins", "shared identifiers"),
                             ((f"{lk['a']} – {lk['b']}", lk["strength"], lk["joins"],
                               "; ".join(f"{i['type']} {i['value']}" for i in lk["identifiers"]))
                              for lk in net["links"])))

    section("evidence")
    if d["evidence"]:
        console.print(_table(f"captures{_more(len(d['evidence']), d['evidence_count'])}",
                             ("url", "captured", "HTTP", "content sha256", "WARC file / record", "file sha256",
                              "screenshot (sha256)"),
                             ((e["url"], e["fetched_at"], e["status"], e["content_sha256"],
                               f"{_fmt(e['warc_file'])} {_fmt(e['warc_record_id'])}", e["warc_file_sha256"],
                               f"{e['screenshot']} ({_fmt(e['screenshot_sha256'])})" if e["screenshot"] else None)
                              for e in d["evidence"])))
    else:
        console.print("no page captured")
    if d["downloads"]:
        console.print(_table(f"downloads{_more(len(d['downloads']), d['download_count'])}",
                             ("url", "size", "sha256", "content type", "last seen"),
                             ((x["url"], x["size"], x["sha256"], x["content_type"], x["last_seen"])
                              for x in d["downloads"])))
    p = d["pages"]
    console.print(Text(f"pages: {p['total']} fetched ({p['urls']} URLs), {p['errors']} errors, {p['rendered']} "
                       f"rendered; first {_fmt(p['first_fetch'])}, last {_fmt(p['last_fetch'])}"))

    section("lookups (latest outcome per service and target)")
    if d["lookups"]:
        table = Table(title_justify="left")
        for col in ("service", "target", "outcome", "detail", "at"):
            table.add_column(col, overflow="fold")
        for lk in d["lookups"]:
            outcome = Text(lk["outcome"], style="green" if lk["outcome"] == "ok" else "bold red")
            table.add_row(_cell(lk["service"]), _cell(lk["target"]), outcome, _cell(lk["detail"]), _cell(lk["at"]))
        console.print(table)
    else:
        console.print("no lookups recorded")

    section("timeline")
    console.print(_table("", ("time", "kind", "event"), ((e["time"], e["kind"], e["text"]) for e in d["timeline"])))


# --- Markdown -----------------------------------------------------------------------------


def _md_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(md(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(md(_fmt(v)) for v in row) + " |" for row in rows]
    return lines


def dossier_markdown(d: dict) -> str:
    """The dossier as a Markdown document; every value escaped with :func:`collector.writers.markdown.md`."""
    c = d.get("classification")
    status = d.get("status")
    out = [f"# Site dossier: {md(d['domain'])}", "",
           f"- First seen {md(_fmt(d['first_seen']))}, last seen {md(_fmt(d['last_seen']))}",
           f"- Status: {md(status['status'])} {md(status['detail']) if status['detail'] else ''}".rstrip()
           + f" (as of {md(_fmt(status['last_seen']))})" if status else "- Status: unknown",
           f"- Verdict: {md(_verdict_text(c))}"]
    if c and c.get("delivery"):
        out.append(f"- Delivery: {md(', '.join(c['delivery']))}")
    out.append("")
    if c and c.get("reasons"):
        out += ["## Why", ""] + [f"- {md(r)}" for r in c["reasons"][:MAX_SIGNALS]] + [""]
    out += ["## Classification", ""]
    if c:
        out += [f"- {md(s)}" for s in c["signals"][:MAX_SIGNALS]] or ["- no signals"]
        if c["history"]:
            out += ["", f"Earlier verdicts{md(_more(len(c['history']), c['count'] - 1))}:", ""]
            out += _md_table(("classified", "piracy", "category", "score", "version"),
                             ((h["classified_at"], h["is_piracy"], h["category"], h["score"], h["classifier_version"])
                              for h in c["history"]))
    else:
        out.append("- not classified yet")
    if d["statuses"]:
        out += ["", "Status history:", ""]
        out += _md_table(("status", "detail", "first seen", "last seen"),
                         ((s["status"], s["detail"] or "-", s["first_seen"], s["last_seen"]) for s in d["statuses"]))

    hops = d["hops"]
    out += ["", "## Domain hopping", ""]
    if hops["chain"]:
        out.append("- Chain: " + " → ".join(md(x) for x in hops["chain"])
                   + (" (truncated)" if hops["chain_truncated"] else ""))
    rels = [("→", h["kind"], h["to_domain"], h["evidence_url"], h["first_seen"]) for h in hops["successors"]]
    rels += [("←", h["kind"], h["from_domain"], h["evidence_url"], h["first_seen"]) for h in hops["predecessors"]]
    if rels:
        out += [""] + _md_table(("dir", "kind", "site", "evidence", "first seen"), rels)
    elif not hops["chain"]:
        out.append("- no hops known")

    out += ["", "## Hosts and DNS", ""]
    out += _md_table(("host", "first seen", "last seen"), ((h["fqdn"], h["first_seen"], h["last_seen"])
                                                           for h in d["hosts"]))
    if d["host_count"] > len(d["hosts"]):
        out.append(f"\n{len(d['hosts'])} of {d['host_count']} hosts shown.")
    if d["dns"]:
        out += [""] + _md_table(("name", "type", "current", "before"),
                                ((e["name"], e["rtype"], e["current"],
                                  "; ".join(f"{b['value']} ({_fmt(b['first_seen'])} .. {_fmt(b['last_seen'])})"
                                            for b in e["before"]) or "-") for e in d["dns"]))

    out += ["", "## Hosting", ""]
    cols = ("ip", "AS", "AS name", "network", "owner", "country", "abuse contact", "CDN")
    for title, entries in (("Current", d["hosting"]), ("Earlier", d["hosting_before"])):
        if entries:
            out += [f"{title} addresses:", ""] + _md_table(cols, (
                (h["ip"], f"AS{h['asn']}" if h["asn"] is not None else None, h["as_name"], h["cidr"], h["org"],
                 h["country"], h["abuse_email"], h["cdn"]) for h in entries)) + [""]
    if not d["hosting"] and not d["hosting_before"]:
        out.append("- no address known")

    out += ["", "## Registration", ""]
    reg = d.get("registration")
    if reg:
        out += [f"- Registrar: {md(reg['registrar'])} (IANA {md(reg['registrar_iana_id'])}); abuse contact "
                f"{md(reg['abuse_email'])} {md(reg['abuse_phone']) if reg['abuse_phone'] else ''}".rstrip(),
                f"- Created {md(_fmt(reg['created']))}, updated {md(_fmt(reg['updated']))}, "
                f"expires {md(_fmt(reg['expires']))}",
                f"- Nameservers: {md(_fmt(reg['nameservers']))}",
                f"- Statuses: {md(_fmt(reg['statuses']))}",
                f"- Registrant: {md(reg['registrant_org'])} ({md(reg['registrant_country'])}), "
                f"redacted: {md(_fmt(reg['redacted']))}",
                f"- Source: {md(reg['source'])} {md(reg['server'])}, last seen {md(_fmt(reg['last_seen']))}"]
        for r in reg["earlier_registrars"]:
            out.append(f"- Earlier registrar: {md(r['registrar'])} ({md(_fmt(r['first_seen']))} .. "
                       f"{md(_fmt(r['last_seen']))})")
    else:
        out.append("- no registration stored")

    out += ["", "## Certificates", ""]
    if d["certificates"]:
        out += _md_table(("host", "sha256", "issuer", "subject CN", "SANs", "not after", "first seen", "last seen"),
                         ((x["host"], x["sha256"], x["issuer"], x["subject_cn"], x["sans"][:10], x["not_after"],
                           x["first_seen"], x["last_seen"]) for x in d["certificates"]))
    else:
        out.append("- none stored")

    out += ["", "## Indicators", ""]
    if d["indicators"]:
        out += _md_table(("type", "value", "first seen", "last seen", "other sites", "shared with"),
                         ((i["type"], i["value"], i["first_seen"], i["last_seen"], i["other_sites"], i["shared_with"])
                          for i in d["indicators"]))
        if d["indicator_count"] > len(d["indicators"]):
            out.append(f"\n{len(d['indicators'])} of {d['indicator_count']} indicators shown.")
    else:
        out.append("- none found")

    net = d["network"]
    out += ["", "## Operator network", "", f"- Cluster {md(net.get('cluster'))}: {md(_fmt(net['sites']))}"]
    for lk in net.get("links", []):
        out.append(f"- {md(lk['a'])} – {md(lk['b'])}: strength {lk['strength']:.2f}"
                   + (" (joins)" if lk["joins"] else "") + ": "
                   + md("; ".join(f"{i['type']} {i['value']}" for i in lk["identifiers"])))

    out += ["", "## Evidence", ""]
    for e in d["evidence"]:
        out.append(evidence_md(e, _fmt(e["fetched_at"]), e["status"]))
    if not d["evidence"]:
        out.append("- no page captured")
    elif d["evidence_count"] > len(d["evidence"]):
        out.append(f"- … {d['evidence_count'] - len(d['evidence'])} more captured URLs")
    for x in d["downloads"]:
        out.append(f"- Download {md(x['url'])}: {md(x['size'])} bytes, {md(x['content_type'])}, "
                   f"SHA-256 `{md(x['sha256'])}`")
    p = d["pages"]
    out.append(f"- Pages: {p['total']} fetched ({p['urls']} URLs), {p['errors']} errors, {p['rendered']} rendered; "
               f"first {md(_fmt(p['first_fetch']))}, last {md(_fmt(p['last_fetch']))}")

    out += ["", "## Lookups", ""]
    if d["lookups"]:
        out += _md_table(("service", "target", "outcome", "detail", "at"),
                         ((lk["service"], lk["target"], lk["outcome"], lk["detail"], lk["at"]) for lk in d["lookups"]))
    else:
        out.append("- none recorded")

    out += ["", "## Timeline", ""]
    out += _md_table(("time", "kind", "event"), ((e["time"], e["kind"], e["text"]) for e in d["timeline"]))
    return "\n".join(out) + "\n"


# --- changes ------------------------------------------------------------------------------

_CHANGE_VIEWS: dict[str, tuple[str, tuple[str, ...], Any]] = {
    "new_sites": ("new sites", ("time", "site", "verdict"),
                  lambda e: (e["time"], e["domain"], "not classified" if e["is_piracy"] is None else
                             f"{'piracy' if e['is_piracy'] else 'not piracy'}, {e['category']}, {_fmt(e['score'])}")),
    "new_hops": ("new hops", ("time", "from", "kind", "to", "evidence"),
                 lambda e: (e["time"], e["from"], e["kind"], e["to"], e["evidence_url"])),
    "ip_changes": ("address changes", ("time", "site", "name", "type", "new", "before", "gone"),
                   lambda e: (e["time"], e["domain"], e["name"], e["rtype"], e["new"], e["old"], e["removed"])),
    "ns_changes": ("nameserver changes", ("time", "site", "name", "from", "new", "before", "gone"),
                   lambda e: (e["time"], e["domain"], e["name"], e["rtype"], e["new"], e["old"], e["removed"])),
    "new_hosts": ("new hosts of known sites", ("time", "site", "host"),
                  lambda e: (e["time"], e["domain"], e["host"])),
    "registrar_changes": ("registrar changes", ("time", "site", "before", "now", "source"),
                          lambda e: (e["time"], e["domain"], e["old"], e["new"], e["source"])),
    "went_down": ("went down", ("time", "site", "status", "detail", "last up"),
                  lambda e: (e["time"], e["domain"], e["status"], e["detail"] or "-", e["previous_last_seen"])),
    "came_back": ("came back", ("time", "site", "status", "last down"),
                  lambda e: (e["time"], e["domain"], e["status"], e["previous_last_seen"])),
    "classification_changes": ("verdict flips", ("time", "site", "before", "now", "cause"),
                               lambda e: (e["time"], e["domain"],
                                          f"{'piracy' if e['old_is_piracy'] else 'not piracy'}, {e['old_category']}"
                                          f" ({e['old_pages_seen']} pages)",
                                          f"{'piracy' if e['is_piracy'] else 'not piracy'}, {e['category']}, "
                                          f"{_fmt(e['score'])} ({e['pages_seen']} pages)", e.get("cause") or "")),
}


def print_changes(c: dict, console: Console | None = None) -> None:
    """One table per kind of change (kinds with nothing to show are listed as such)."""
    console = console or Console()
    c = inert_tree(c)
    empty = []
    for kind, entries in c.items():
        title, columns, row = _CHANGE_VIEWS.get(kind, (kind, ("time", "site"),
                                                       lambda e: (e.get("time"), e.get("domain"))))
        if not entries:
            empty.append(title)
            continue
        console.print(_table(f"{title} ({len(entries)})", columns, (row(e) for e in entries)))
    if empty:
        console.print(Text("nothing new: " + ", ".join(empty)))
