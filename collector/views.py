"""Terminal views shared by commands: tables of what was found, every scraped string escaped
(rich markup escaped, control and bidi characters shown, never obeyed: :mod:`storage.safe_text`)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape as _markup_escape
from rich.table import Table

from collector.config import Config
from storage.safe_text import inert, inert_tree


def escape(value) -> str:
    """``value`` for rich markup: markup escaped, controls shown (``\\x1b``)."""
    return _markup_escape(inert(value))


def print_crawl_summary(config: Config, result, console: Console | None = None, limit: int = 50) -> None:
    """The run's outcome and its flagged sites with category, score and top signals."""
    from storage.db import open_engine, session_factory
    from storage.queries import latest_verdicts

    console = console or Console()
    c = result.counts
    console.print(f"crawl run {result.run_id} {'(resumed) ' if result.resumed else ''}{result.outcome}: "
                  f"{c.get('isop/pages/stored', 0)} pages, {c.get('isop/sites/seen', 0)} sites, "
                  f"{c.get('isop/sites/flagged', 0)} flagged")
    engine = open_engine(config.storage.url)
    with session_factory(engine)() as session:
        flagged = latest_verdicts(session, run_id=result.run_id, piracy_only=True, limit=limit)
    engine.dispose()
    if not flagged:
        return
    table = Table(title="flagged sites")
    for col in ("site", "category", "score", "top signals"):
        table.add_column(col, overflow="fold")
    for v in flagged:
        table.add_row(escape(v.domain), escape(v.category), f"{v.score:.2f}", escape("; ".join(v.signals[:3])))
    console.print(table)


def print_enrich_summary(result, console: Console | None = None) -> None:
    """What an enrichment run did: sites, outcomes per service, queries sent per service."""
    console = console or Console()
    console.print(f"enrich run {result.run_id} {result.outcome}: {result.sites} sites in {result.seconds:.1f}s")
    if result.counts:
        console.print("  outcomes: " + escape(", ".join(f"{k} {v}" for k, v in sorted(result.counts.items()))))
    if result.sent:
        console.print("  queries sent: " + escape(", ".join(f"{k} {v}" for k, v in sorted(result.sent.items()))))
    if result.leads:
        shown = ", ".join(escape(d) for d in result.leads[:10])
        console.print(f"  leads from certificates (unknown sites): {shown}"
                      + (f" +{len(result.leads) - 10} more" if len(result.leads) > 10 else ""))


def print_site_profiles(config: Config, domains: list[str], console: Console | None = None) -> None:
    """Hosting and registration of ``domains``: whom to write to for a takedown."""
    from storage.db import open_engine, session_factory
    from storage.queries import site_profiles

    console = console or Console()
    engine = open_engine(config.storage.url)
    with session_factory(engine)() as session:
        profiles = site_profiles(session, domains)
    engine.dispose()
    table = Table(title="who hosts and registered them")
    for col in ("site", "hosting (AS, owner, country)", "abuse contact", "registrar", "registrar abuse"):
        table.add_column(col, overflow="fold")
    for p in profiles:
        shown = dict.fromkeys(f"AS{n['asn']} {n['org'] or n['name'] or '?'} {n['country'] or ''}".strip()
                              + (f" [{n['cdn']}]" if n["cdn"] else "") for n in p["networks"])
        hosting = "; ".join(list(shown)[:2]) or "-"
        abuse = ", ".join(sorted({n["abuse_email"] for n in p["networks"] if n["abuse_email"]})) or "-"
        table.add_row(escape(p["domain"]), escape(hosting), escape(abuse), escape(p["registrar"] or "-"),
                      escape(p["registrar_abuse"] or "-"))
    console.print(table)


def print_network(net: dict, console: Console | None = None) -> None:
    """An operator network: its sites and the identifiers that tie them."""
    console = console or Console()
    net = inert_tree(net)
    console.print(f"network of {escape(net['domain'])}: cluster {escape(str(net.get('cluster') or '-'))}, "
                  f"{len(net['sites'])} site(s): {escape(', '.join(net['sites']))}")
    table = Table(title="links")
    for col in ("sites", "strength", "joins", "shared identifiers"):
        table.add_column(col, overflow="fold")
    for link in net.get("links", []):
        ids = "; ".join(f"{i['type']} {i['value']} ({i['weight']:.2f}, {i['sites']} sites"
                        + (", infrastructure" if i.get("kind") == "infrastructure" else "")
                        + "".join(f"; {k}: {v}" for k, v in sorted((i.get("detail") or {}).items())) + ")"
                        for i in link["identifiers"])
        table.add_row(escape(f"{link['a']} - {link['b']}"), f"{link['strength']:.2f}", "yes" if link.get("joins") else "no",
                      escape(ids))
    console.print(table)
