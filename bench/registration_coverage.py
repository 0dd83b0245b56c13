"""How often each registration field is found: on the real registry answers in
``../shared/data/`` (WHOIS text, RDAP JSON) and on a sandbox world asked end to end
(RDAP and WHOIS through the sandbox proxy, as ``isop enrich`` asks them).

    .venv/bin/python bench/registration_coverage.py [--world config/sandbox/default]

Prints, per source, the share of "found" answers that carry each field. A field a format
does not publish (a redacted registrant, .kr without a registrar abuse line) stays
missing; the figures say how close the parsers get to what the answers hold.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"
FIELDS = ("registrar", "registrar_iana_id", "created", "updated", "expires", "nameservers", "statuses",
          "registrant_org", "registrant_country", "abuse_email")


def has(reg, field: str) -> bool:
    value = getattr(reg, field)
    return bool(value) if not isinstance(value, int) else True


def report(title: str, regs: list) -> None:
    found = [r for r in regs if r.status == "found"]
    print(f"\n{title}: {len(found)} found of {len(regs)} answers")
    if not found:
        return
    counts = Counter(f for r in found for f in FIELDS if has(r, f))
    for field in FIELDS:
        n = counts[field]
        print(f"  {field:<20} {n:>3}/{len(found):<3} {100 * n / len(found):5.0f}%")


def shared_whois() -> list:
    from enrich.whois_parse import parse_whois

    out = []
    for path in sorted((SHARED / "whois").glob("*/*/found/*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        m = re.search(r"(?im)^\s*(?:domain name|domain|도메인이름)\s*[:.]*\s*([a-z0-9.-]+\.[a-z]{2,})", text)
        domain = m.group(1) if m else path.stem
        out.append(parse_whois(text, domain, path.parts[-4]))
    return out


def shared_rdap() -> list:
    from enrich.rdap_parse import parse_rdap_domain

    out = []
    for path in sorted((SHARED / "rdap").glob("rdap_response_domain*.json")):
        data = json.loads(path.read_text())
        out.append(parse_rdap_domain(data, data.get("ldhName", "example.com")))
    return out


async def world_answers(world: Path) -> tuple[list, list]:
    """Every registered domain of ``world``, asked over RDAP and over WHOIS."""
    from collector.sandbox.server import ThreadedSandbox
    from collector.sandbox.world import load_world
    from enrich.rdap_client import Bootstrap, RdapClient
    from enrich.rdap_parse import parse_rdap_domain
    from enrich.transport import ssl_context
    from enrich.whois_client import WhoisClient
    from enrich.whois_parse import parse_whois

    loaded = load_world(world)
    domains = sorted(d.name for d in loaded.domains.values() if d.registration is not None)
    with tempfile.TemporaryDirectory() as state, ThreadedSandbox(world, state_dir=state) as sb:
        rdap = RdapClient(proxy=sb.proxy_url, tls_context=ssl_context(str(sb.ca_path)), timeout=5,
                          bootstrap=Bootstrap.load(), per_host=(20, 50.0))
        whois = WhoisClient(proxy=sb.proxy_url, timeout=5, per_server=(20, 50.0))
        rdap_regs, whois_regs = [], []
        for name in domains:
            answer = await rdap.domain(name)
            if answer.data is not None:
                rdap_regs.append(parse_rdap_domain(answer.data, name))
            w = await whois.query(name)
            if w.status == "ok":
                whois_regs.append(parse_whois(w.text, name, w.server or ""))
        return rdap_regs, whois_regs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, default=ROOT / "config" / "sandbox" / "default")
    args = parser.parse_args()
    if SHARED.is_dir():
        report("shared WHOIS samples (../shared/data/whois, found/)", shared_whois())
        report("shared RDAP samples (../shared/data/rdap, domain answers)", shared_rdap())
    else:
        print(f"no {SHARED}: shared samples skipped")
    rdap_regs, whois_regs = asyncio.run(world_answers(args.world))
    report(f"sandbox world {args.world.name}: RDAP", rdap_regs)
    report(f"sandbox world {args.world.name}: WHOIS (registry, then registrar for thin registries)", whois_regs)


if __name__ == "__main__":
    main()
