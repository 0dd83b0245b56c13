"""Write a planned world to its folder: TOML files, site files, seeds, answer key, README.

The output is a function of the plan only: files are written in a fixed order, every list
comes from the plan's lists, and the page renderer gets a ``random.Random`` seeded from
the world's seed and the host, so a site's pages do not change when another site does.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from pathlib import Path

from collector.sandbox.generate.plan import REFERENCE, Plan, PSite
from collector.sandbox.generate.spec import SiteSpec
from collector.sandbox.world import DEFAULT_WORLD

ANSWERS_FORMAT = 1
GENERATED_FILES = ("world.toml", "registries.toml", "registrars.toml", "networks.toml", "certificates.toml",
                   "seeds.txt", "answers.json", "README.md")
GENERATED_DIRS = ("domains", "sites")
PAGE_ROLES = {"piracy", "legal", "hard_negative", "hub", "forum", "status", "video_host", "cyberlocker",
              "parked", "trap", "hostile"}
ROLE_NOTES = {
    "piracy": "Piracy site", "legal": "LEGAL: a licensed service", "hard_negative": "HARD NEGATIVE: legal, "
    "but looks suspicious", "hub": "LINK HUB: links to every site of the world, not an operator",
    "forum": "FORUM linking to many sites, not an operator", "status": "STATUS PAGE listing mirrors of "
    "several brands, not an operator", "video_host": "VIDEO HOST embedded by many unrelated sites",
    "cyberlocker": "CYBERLOCKER many unrelated sites link to", "parked": "PARKED domain",
    "trap": "Legal site with CRAWLER TRAPS", "hostile": "HOSTILE TEST HOST"}
XN_P1AI_REGISTRY = '''
[[registry]]
tlds = ["xn--p1ai"]
operator = "Coordination Center for TLD RU (TCI)"
whois_server = "whois.tcinet.ru"
whois_format = "ru"
thin = false
'''


def q(value: object) -> str:
    """A TOML value: strings JSON-quoted (valid TOML basic strings), lists of strings, booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(q(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def inline(table: dict[str, object]) -> str:
    return "{ " + ", ".join(f"{_key(k)} = {q(v)}" for k, v in table.items()) + " }"


def _key(key: str) -> str:
    return key if key.replace("-", "").replace("_", "").isalnum() and key.isascii() else q(key)


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _clear(out: Path) -> None:
    """Remove what an earlier generation wrote (only the generator's own names)."""
    for name in GENERATED_DIRS:
        if (out / name).is_dir():
            shutil.rmtree(out / name)
    for name in GENERATED_FILES:
        (out / name).unlink(missing_ok=True)


def write_world(plan: Plan, out: Path) -> Path:
    """Write ``plan`` into ``out`` (created; files of an earlier generation replaced)."""
    from collector.sandbox.generate import pages  # helper module: the page renderer

    out.mkdir(parents=True, exist_ok=True)
    _clear(out)
    rng = random.Random(f"{plan.seed}/writer")
    _write(out / "world.toml", _world_toml(plan))
    _write(out / "registries.toml", (DEFAULT_WORLD / "registries.toml").read_text(encoding="utf-8")
           + XN_P1AI_REGISTRY)
    _write(out / "registrars.toml", (DEFAULT_WORLD / "registrars.toml").read_text(encoding="utf-8"))
    _write(out / "networks.toml", _networks_toml(plan))
    _write(out / "certificates.toml", _certificates_toml(plan))
    ns_addresses = _ns_addresses(plan)
    for infra in plan.infra_domains:
        _write(out / "domains" / f"{infra.domain}.toml", _infra_toml(infra, rng))
    for site in plan.sites:
        _write(out / "domains" / f"{site.domain}.toml", _domain_toml(site, ns_addresses, rng))
        if site.has_pages:
            files = pages.render_site(random.Random(f"{plan.seed}/pages/{site.domain}"), _spec(site))
            root = out / "sites" / site.domain
            for rel in sorted(files):
                path = (root / rel).resolve()
                if root.resolve() not in path.parents:
                    raise ValueError(f"page renderer wrote outside the site folder: {rel!r}")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(files[rel])
    seeds = _seeds(plan, out)
    _write(out / "seeds.txt", seeds)
    _write(out / "answers.json", json.dumps(answers(plan), indent=1, ensure_ascii=False) + "\n")
    n_seeds = sum(1 for line in seeds.splitlines() if line and not line.startswith("#"))
    _write(out / "README.md", _readme(plan, n_seeds))
    return out


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _spec(site: PSite) -> SiteSpec:
    role = "notice" if site.hop == "notice" else site.role
    return SiteSpec(host=site.domain, role=role, category=site.category, language=site.language,
                    charset=site.charset, brand=site.brand, links=list(site.links),
                    snippets=list(site.snippets), moved_to=f"https://{site.moved_to}/" if site.moved_to else "",
                    js_only=site.js_only, favicon=site.favicon, pages=site.pages, theme=site.theme)


# --- world-level files ---------------------------------------------------------------------


def _world_toml(plan: Plan) -> str:
    description = (f"A generated sandbox world (seed {plan.seed}): {len(plan.sites)} web sites, piracy of "
                   "every category, hard negatives, shared infrastructure and operator networks drawn per "
                   "seed. Every address and identifier is fictional data.")
    return (f'[world]\nname = "generated-{plan.seed}"\ndescription = {q(description)}\n\n'
            "[latency]\ndns = 5\nhttp = 20\nrdap = 60\nwhois = 80\n")


def _networks_toml(plan: Plan) -> str:
    lines = ["# Networks of a generated world: real CDN and cloud prefixes play themselves, every other",
             "# company is fictional (data only: nothing ever connects to these addresses).", ""]
    seen: list[str] = []
    for net in plan.networks:
        if net.cidr in seen:
            continue
        seen.append(net.cidr)
        lines += ["[[network]]", f"cidr = {q(net.cidr)}", f"asn = {net.asn}", f"as_name = {q(net.as_name)}",
                  f"org = {q(net.org)}", f"org_handle = {q(net.org_handle)}", f"country = {q(net.country)}",
                  f"rir = {q(net.rir)}", f"allocated = {q(net.allocated)}", f"abuse_email = {q(net.abuse_email)}",
                  f"cdn = {q(net.cdn)}", ""]
    return "\n".join(lines)


def _certificates_toml(plan: Plan) -> str:
    lines = ["# Certificates several hosts present (a site's `certificate = \"<name>\"`).", ""]
    for cert in plan.certificates:
        lines += ["[[certificate]]", f"name = {q(cert.name)}", f"sans = {q(cert.sans)}", ""]
    return "\n".join(lines)


def _ns_addresses(plan: Plan) -> dict[str, list[str]]:
    """Private and own name servers -> the addresses their A records carry."""
    out: dict[str, list[str]] = {}
    for op in plan.operators:
        if op.private_ns and op.dedicated4:
            out[f"ns1.{op.home}"] = [op.dedicated4[0]]
            out[f"ns2.{op.home}"] = [op.dedicated4[-1]]
    for site in plan.sites:
        for ns in site.nameservers:
            if ns.endswith("." + site.domain) and ns not in out and site.ipv4:
                out[ns] = [site.ipv4[0]]
    return out


# --- domains ---------------------------------------------------------------------------------


def _registration(lines: list[str], registrar: str, created: dt.datetime, nameservers: list[str],
                  org: str, country: str, redacted: bool, rng: random.Random) -> None:
    updated = min(created + dt.timedelta(days=rng.randint(0, 500)), REFERENCE - dt.timedelta(days=1))
    updated = max(updated, created)
    base = created.replace(day=28) if (created.month, created.day) == (2, 29) else created
    years = 1
    while base.replace(year=base.year + years) <= REFERENCE + dt.timedelta(days=20):
        years += 1
    expires = base.replace(year=base.year + years)
    lines += ["[registration]", f"registrar = {q(registrar)}", f"created = {q(_stamp(created))}",
              f"updated = {q(_stamp(updated))}", f"expires = {q(_stamp(expires))}",
              'status = ["clientTransferProhibited"]', f"nameservers = {q(nameservers)}",
              f"registrant_org = {q(org)}", f"registrant_country = {q(country)}",
              f"redacted = {q(redacted)}", "dnssec = false", ""]


def _infra_toml(infra, rng: random.Random) -> str:
    lines: list[str] = []
    ns = [n for n in infra.records if n != "@"][:2]
    nameservers = [f"{n}.{infra.domain}" for n in ns]
    _registration(lines, infra.registrar, dt.datetime(2005 + rng.randrange(10), 1 + rng.randrange(12),
                                                       1 + rng.randrange(28), tzinfo=dt.UTC),
                  nameservers, infra.org, infra.country, False, rng)
    lines.append("[dns]")
    for owner, rrsets in infra.records.items():
        table = dict(rrsets)
        if owner == "@":
            table["NS"] = [n + "." for n in nameservers]
        lines.append(f"{q(owner)} = {inline(table)}")
    lines += ["", "[truth]", "piracy = false", 'category = "none"', 'operator = ""',
              f"notes = {q(infra.notes + ' Sharing these is NOT evidence of a common operator.')}", ""]
    return "\n".join(lines)


def _privacy(site: PSite) -> tuple[str, str, bool]:
    from collector.sandbox.generate.plan import PRIVACY_ORGS

    if site.role in ("legal", "hard_negative", "trap"):
        return f"{site.brand.split(' ')[0]} Media Ltd", "DE" if site.language == "de" else "US", False
    if site.registrar in PRIVACY_ORGS:
        org, country = PRIVACY_ORGS[site.registrar]
        return org, country, True
    return "REDACTED FOR PRIVACY", "", True


def _domain_toml(site: PSite, ns_addresses: dict[str, list[str]], rng: random.Random) -> str:
    lines: list[str] = []
    org, country, redacted = _privacy(site)
    _registration(lines, site.registrar, site.created, site.nameservers, org, country, redacted, rng)
    apex: dict[str, object] = {"A": site.ipv4}
    if site.ipv6:
        apex["AAAA"] = site.ipv6
    apex["NS"] = [n + "." for n in site.nameservers]
    if rng.random() < 0.5:
        apex["TXT"] = ["v=spf1 -all"]
    lines += ["[dns]", f'"@" = {inline(apex)}']
    if site.www:
        lines.append(f'"www" = {inline({"CNAME": [site.domain + "."]})}')
    for ns, addrs in ns_addresses.items():
        if ns.endswith("." + site.domain):
            lines.append(f"{q(ns[: -len(site.domain) - 1])} = {inline({'A': addrs})}")
    lines.append("")
    server = {"cf": "cloudflare", "ddosguard": "ddos-guard"}.get(site.kind, rng.choice(("nginx", "Apache", "LiteSpeed")))
    headers = {"Server": server}
    if site.kind == "cf":
        headers["CF-RAY"] = f"{rng.getrandbits(64):016x}-{rng.choice(('FRA', 'AMS', 'ICN', 'SIN', 'IAD', 'GRU'))}"
    hosts = [site.domain] + ([f"www.{site.domain}"] if site.www else [])
    for host in hosts:
        lines += ["[[site]]", f"host = {q(host)}"]
        if site.hop == "redirect":
            lines.append(f"redirect = {q('https://' + site.moved_to)}")
        elif host != site.domain:
            lines.append(f"redirect = {q('https://' + site.domain)}")
        else:
            lines.append(f"http = {q(site.http_mode)}")
            lines.append(f"headers = {inline(headers)}")
        if site.certificate:
            lines.append(f"certificate = {q(site.certificate)}")
        if host == site.domain and site.has_pages:
            routes = _routes(site, rng)
            if routes:
                lines.append("[site.routes]")
                lines += [f"{q(path)} = {inline(route)}" for path, route in routes.items()]
        lines.append("")
    if site.faults:
        lines += ["[faults]"] + [f"{k} = {q(v)}" for k, v in site.faults.items()] + [""]
    truth_notes = _notes(site)
    lines += ["[truth]", f"piracy = {q(site.piracy)}", f"category = {q(site.category)}",
              f"operator = {q(site.operator)}", f"notes = {q(truth_notes)}", ""]
    return "\n".join(lines)


def _routes(site: PSite, rng: random.Random) -> dict[str, dict[str, object]]:
    if site.role == "video_host":
        return {"/e/": {"file": "index.html"}}
    if site.role == "cyberlocker":
        return {"/f/": {"file": "index.html"}}
    if site.role == "trap":
        return {"/calendar/": {"generator": "calendar"},
                "/archive/": {"generator": "bigsite", "pages": rng.randint(2000, 8000)}}
    if site.role == "hostile":
        return {"/huge.html": {"generator": "huge", "bytes": rng.randint(4, 12) * 1_000_000},
                "/slow.html": {"delay": rng.randint(2, 5)},
                "/broken": {"status": 500}, "/gone": {"status": 410},
                "/loop-a": {"redirect": "/loop-b", "status": 302},
                "/loop-b": {"redirect": "/loop-a", "status": 301},
                "/charset-lie.html": {"file": "index.html", "content_type": "text/html; charset=utf-8"}}
    return {}


def _notes(site: PSite) -> str:
    parts = [ROLE_NOTES.get(site.role, site.role)]
    if site.brand:
        parts.append(f"brand {site.brand}")
    if site.unicode:
        parts.append(f"IDN {site.unicode}")
    parts += site.notes
    if site.idents:
        parts.append("identifiers: " + ", ".join(f"{i.type} {i.value}" for i in site.idents
                                                 if i.type not in ("cert",)))
    if site.kind:
        parts.append(f"hosting: {site.kind}")
    return ". ".join(parts) + "."


# --- seeds, answers, README ---------------------------------------------------------------------


def _seeds(plan: Plan, out: Path) -> str:
    lines = [f"# Crawl seeds of generated world {plan.seed}: every web site of the world is reachable",
             "# from these by following links, redirects and \"we moved\" notices."]
    for role in ("hub", "forum", "status", "legal"):
        lines += [s.url for s in plan.sites if s.role == role]
    searches = [s for s in plan.sites if s.role in ("piracy", "hard_negative") and s.has_pages
                and any((out / "sites" / s.domain / name).is_file() for name in ("search.html", "search/index.html"))]
    for s in searches[:2]:
        lines.append(f"{s.url}search?q=2026")
    lines += [f"http://{s.domain}/" for s in plan.sites if s.role == "hostile"]
    return "\n".join(lines) + "\n"


def answers(plan: Plan) -> dict:
    """The answer key (see docs/SANDBOX.md, "Generated worlds")."""
    sites: dict[str, dict] = {}
    for s in sorted(plan.sites, key=lambda s: s.domain):
        net = s.network
        sites[s.domain] = {
            "piracy": s.piracy, "category": s.category, "role": s.role, "operator": s.operator,
            "language": s.language, "charset": s.charset, "chain": list(s.chain),
            "hop": s.hop, "moved_to": s.moved_to, "brand": s.brand, "unicode": s.unicode,
            "registrar": s.registrar, "created": _stamp(s.created), "nameservers": list(s.nameservers),
            "hosting": {"ipv4": list(s.ipv4), "ipv6": list(s.ipv6), "cdn": s.cdn,
                        "asn": net.asn if net else 0, "org": net.org if net else "", "kind": s.kind},
            "certificate": s.certificate, "js_only": s.js_only,
            "identifiers": _unique([i.key() for i in s.idents]),
        }
    operators = {}
    for op in plan.operators:
        operators[op.name] = {
            "sites": [s.domain for s in op.sites], "visible": op.visible, "language": op.language,
            "identifiers": _unique([i.key() for s in op.sites for i in s.idents]),
        }
    return {"format": ANSWERS_FORMAT, "seed": plan.seed, "options": dict(plan.options),
            "sites": sites, "operators": operators, "shared_infrastructure": shared_infrastructure(plan)}


def _unique(items: list[dict]) -> list[dict]:
    out: list[dict] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def shared_infrastructure(plan: Plan) -> list[dict]:
    """Every value on >= 3 sites of >= 2 owners that is infrastructure, not an operator tie."""
    groups: dict[tuple[str, str], dict] = {}
    for s in plan.sites:
        for type_, value, what in s.infra:
            entry = groups.setdefault((type_, value), {"type": type_, "value": value, "what": what, "sites": []})
            if s.domain not in entry["sites"]:
                entry["sites"].append(s.domain)
    labels = {s.domain: s.label for s in plan.sites}
    out = []
    for key in sorted(groups):
        entry = groups[key]
        entry["sites"].sort()
        if len(entry["sites"]) >= 3 and len(dict.fromkeys(labels[d] for d in entry["sites"])) >= 2:
            out.append(entry)
    return out


def _readme(plan: Plan, n_seeds: int) -> str:
    sites = plan.sites
    tlds = sorted(dict.fromkeys("." + s.domain.rsplit(".", 1)[-1] for s in sites))
    languages = sorted(dict.fromkeys(s.language for s in sites))
    charsets = sorted(dict.fromkeys(s.charset for s in sites if s.charset != "utf-8"))
    n_domains = len(sites) + len(plan.infra_domains)
    mirrors = ", mirrors" if any(s.mirror_of for s in sites) else ""
    return f"""# Generated sandbox world {plan.seed} - trainee's guide

A **fake mini-internet** generated for this course (seed {plan.seed}). `isop sandbox serve --world
<this folder>` brings it up on 127.0.0.1: DNS, web sites over HTTP and HTTPS, RDAP and WHOIS.
Nothing here touches the real internet; every site, registrant, address, wallet and phone number
is invented (real CDN, cloud and registrar names play themselves, with sandbox-only data).

## Getting started

```
isop sandbox serve --world <this folder>
isop crawl --seeds <this folder>/seeds.txt ...
```

`seeds.txt` holds {n_seeds} starting URLs: link hubs, a forum, a status page and legal
sites. Do not open `answers.json` or the `[truth]` sections of `domains/*.toml`: they are the
instructor's answer key.

## What the world contains

- **{n_domains} registered domains**, {len(sites)} of them with a web site, over {len(tlds)} TLDs:
  {' '.join(tlds)}.
- Piracy sites of several categories, and legal sites that only look suspicious.
- Pages in {len(languages)} languages ({', '.join(languages)}); some use legacy encodings
  ({', '.join(charsets) or 'none'}), and some names are internationalised (punycode on the wire).
- Sites that change domain (redirects and "we moved" notices){mirrors}, a JavaScript-only listing,
  a crawler trap and a hostile test host (seeded explicitly).
- Hosting on CDNs, DDoS-protection services, shared hosts and offshore servers over all five RIRs.

## Exercises

1. Crawl from the seeds: which sites are piracy, in which category, and which are legal?
2. Reconstruct every domain-hopping chain with dates from WHOIS/RDAP.
3. Find the operator networks by chaining **operator-specific** identifiers (analytics and ad
   accounts, wallets, contacts, certificates, favicons, dedicated servers). Explain why sharing a
   CDN address, a name-server pair, a theme, an ad network or a link hub is **not** enough.
4. Which abuse contacts (registrar, host or CDN, video host, cyberlocker) would receive your notices?
"""

