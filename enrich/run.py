"""An enrichment run: which sites are due, the lookups in phases, the results into the store.

Phases, each over every due site at once (bounded by ``[enrich]`` limits), running side
by side (DNS then hosting; registration; TLS) and each committed as it ends, so an interrupted run keeps what finished and the next run picks
up the rest (a site is due per service until that service's marker lookup is stored):

1. **dns** — A, AAAA, CNAME chain, NS, MX, TXT, SOA of the domain and its crawled hosts.
2. **hosting** — every public IP from phase 1: ASN (Team Cymru DNS) and network owner,
   country and abuse contact (RDAP via ipwhois), one lookup per network; CDNs marked.
3. **whois** — registration: RDAP through the IANA bootstrap, WHOIS on port 43 where a
   TLD has no RDAP (or RDAP failed).
4. **tls** — the certificate of each HTTPS host; SAN names of unknown sites are leads.

Network work is asyncio (blocking libraries run in threads); store writes run in a thread
with their own session, never on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from enrich.services import SERVICES


@dataclass
class EnrichRequest:
    domains: Sequence[str] = ()
    stale_after: float | None = None
    """Seconds; None: ``[enrich] stale_after``."""
    only: Sequence[str] = SERVICES
    progress: Callable[[str, int, int], None] | None = None


@dataclass
class EnrichResult:
    run_id: int
    outcome: str
    sites: int = 0
    counts: Counter = field(default_factory=Counter)
    sent: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    leads: list[str] = field(default_factory=list)
    error: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _proxy_where(proxy: str | None) -> str:
    """How transport.py names the proxy in its errors (``proxy host:port``)."""
    if not proxy:
        return "\0no proxy"
    from urllib.parse import urlsplit

    u = urlsplit(proxy)
    return f"proxy {u.hostname}:{u.port or (443 if u.scheme == 'https' else 80)}"


class Enricher:
    """Holds the clients, limiters and the store for one run."""

    def __init__(self, config: Any, session_factory: Any, run_id: int,
                 progress: Callable[[str, int, int], None] | None = None) -> None:
        from enrich.dns_lookup import make_resolver
        from enrich.ratelimit import RateLimiter

        self.config = config
        self.Session = session_factory
        self.run_id = run_id
        net, enr = config.network, config.enrich
        self.timeout = min(net.timeout, 10.0)
        self.resolver = make_resolver(list(net.resolvers), self.timeout)
        self.dns_limiter = RateLimiter(max_concurrent=enr.concurrency, per_second=enr.dns_rate)
        self.sent: Counter = Counter()
        self.counts: Counter = Counter()
        self.leads: list[str] = []
        self.unreachable: Counter = Counter()
        """Sites per service left due because the proxy or the resolvers could not be reached."""
        self.proxy_where = _proxy_where(net.proxy)
        self._write_lock = asyncio.Lock()
        self.progress = progress

    # --- store -----------------------------------------------------------------------

    async def _write(self, fn: Callable[..., Any], *args: Any) -> Any:
        def work() -> Any:
            with self.Session() as session, session.begin():
                return fn(session, *args)

        async with self._write_lock:  # phases run concurrently; their writes take turns
            return await asyncio.to_thread(work)

    def _path_down(self, service: str, details: list[str | None]) -> bool:
        """Whether these failures are the way out being down (the proxy refusing or not
        answering connections), not the far end's answer. A site whose lookups failed so is
        left due: no ``site:`` marker, so the next run does it again."""
        w = self.proxy_where
        down = bool(details) and all(d and (f"{w} refused the connection" in d or f"cannot reach {w}" in d
                                            or f"via {w} failed" in d or "ConnectionRefusedError" in d)
                                     for d in details)
        if down:
            self.unreachable[service] += 1
        return down

    def _marker(self, service: str, domain: str, outcome: str, detail: str | None = None) -> dict:
        return {"service": f"site:{service}", "target": domain, "outcome": outcome, "detail": detail, "at": _now()}

    # --- phase 1: DNS ----------------------------------------------------------------

    async def dns_phase(self, sites: list[tuple[int, str]], hosts: dict[int, list[str]]) -> dict[int, set[str]]:
        from enrich.dns_lookup import lookup_domain

        ips: dict[int, set[str]] = {}
        records: list[tuple[str, str, str, int | None]] = []
        lookups: list[dict] = []

        async def one(site_id: int, domain: str) -> None:
            started = time.monotonic()
            answers = await lookup_domain(self.resolver, domain, hosts.get(site_id, []), self.timeout, self.dns_limiter)
            self.sent["dns"] += len(answers)
            failed = [a for a in answers if a.status not in ("ok", "nodata")]
            for a in answers:
                if a.status == "ok":
                    records.extend((a.name, a.rtype, v, a.ttl) for v in a.values)
                    if a.rtype in ("A", "AAAA"):
                        ips.setdefault(site_id, set()).update(a.values)
                elif a.status != "nodata":
                    lookups.append({"service": "dns", "target": f"{a.name} {a.rtype}", "outcome": a.status,
                                    "detail": a.error, "at": _now(), "server": None})
            apex = next((a for a in answers if a.name == domain and a.rtype == "SOA"), None)
            outcome = apex.status if apex is not None and apex.status not in ("ok", "nodata") else \
                ("partial" if failed else "ok")
            lookups.append({**self._marker("dns", domain, outcome, f"{len(failed)} failed of {len(answers)}"),
                            "duration_ms": round(1000 * (time.monotonic() - started), 1)})
            self.counts[f"dns/{outcome}"] += 1

        await self._gather([one(sid, d) for sid, d in sites], "dns")
        markers = [x for x in lookups if x["service"] == "site:dns"]
        if markers and all(x["outcome"] == "timeout" for x in lookups):
            # not one answer from any resolver: they are down, not the sites lame
            lookups = [x for x in lookups if x["service"] != "site:dns"]
            self.unreachable["dns"] += len(markers)

        def write(session: Any) -> None:
            from storage.enrichment import record_dns, record_lookups

            record_dns(session, records, _now())
            record_lookups(session, lookups, self.run_id)

        await self._write(write)
        return ips

    # --- phase 2: hosting ------------------------------------------------------------

    async def hosting_phase(self, ips_by_site: dict[int, set[str]]) -> None:
        """Hosting for every due site, in batches of at most ``[enrich] hosting_batch``
        addresses (each batch's networks are cached for the next), at most
        ``max_addresses_per_site`` of each site."""
        enr = self.config.enrich
        remaining = {sid: ips for sid, ips in ips_by_site.items() if ips}
        while remaining:
            plan = plan_hosting(remaining, enr.max_addresses_per_site, enr.hosting_batch)
            await self._hosting_batch({sid: remaining[sid] for sid in plan.chosen}, replace(plan, deferred=set()))
            remaining = {sid: remaining[sid] for sid in plan.deferred}

    async def _hosting_batch(self, ips_by_site: dict[int, set[str]], plan: HostingPlan) -> None:
        from enrich.cdn import CdnList
        from enrich.hosting import HostingLookup
        from storage.addresses import is_reserved

        all_ips = sorted({ip for ips in ips_by_site.values() for ip in ips})
        net, enr = self.config.network, self.config.enrich
        ips_by_site = plan.chosen
        looked_up = sorted({ip for ips in ips_by_site.values() for ip in ips})
        self.counts["hosting/skipped_addresses"] += sum(plan.skipped.values())
        ttl = enr.network_ttl_seconds
        lookup = HostingLookup(list(net.resolvers), net.proxy or None, net.ca_bundle or None, self.timeout,
                               workers=enr.hosting_workers, cdn=CdnList.load(), max_age=ttl,
                               user_agent=net.effective_user_agent)
        await self._write(lambda s: self._seed_networks(s, lookup, ttl))
        # lookups within one /16 run one after another, so the second address of a network
        # is answered from the cache: one query per network, not per address
        try:
            facts = list(await lookup.lookup_many(looked_up))
        finally:
            lookup.close()
        self.sent.update({f"hosting/{k}": v for k, v in lookup.sent.items()})
        reserved = {ip: is_reserved(ip) for ip in all_ips}

        def write(session: Any) -> None:
            from storage.enrichment import (
                link_ip_network,
                record_asn,
                record_ips,
                record_lookups,
                record_network,
            )

            now = _now()
            ip_ids = record_ips(session, reserved, now)
            lookups = []
            for f in facts:
                self.counts[f"hosting/{'reused' if f.reused else f.status}"] += 1
                if f.status != "ok":
                    if f.status != "reserved":
                        lookups.append({"service": "hosting", "target": f.ip, "outcome": f.status[:20],
                                        "detail": f.error, "at": now})
                    continue
                if f.asn:
                    record_asn(session, f.asn, f.asn_name, f.asn_country, f.asn_registry, f.asn_date, now)
                if f.cidr:
                    network_id = record_network(session, {
                        "cidr": f.cidr, "start_address": f.start_address, "end_address": f.end_address,
                        "asn": f.asn, "name": f.name, "handle": f.handle, "org": f.org, "country": f.country,
                        "rir": f.rir, "abuse_email": f.abuse_email, "cdn": f.cdn}, f.raw, now)
                    link_ip_network(session, ip_ids[f.ip], network_id, now)
            # per-site markers
            by_ip = {f.ip: f for f in facts}
            from sqlalchemy import select

            from storage.models import Site

            names = dict(session.execute(select(Site.id, Site.domain)
                                         .where(Site.id.in_([*ips_by_site, *plan.deferred]))).all())
            for sid, (total, skipped, why) in sorted(plan.skipped_detail().items()):
                lookups.append({"service": "hosting", "target": names.get(sid, str(sid)), "outcome": "skipped",
                                "detail": f"{skipped} of {total} addresses not looked up ({why})", "at": now})
            for sid, ips in ips_by_site.items():
                bad = [ip for ip in ips if by_ip.get(ip) is not None and by_ip[ip].status not in ("ok", "reserved")]
                if bad and self._path_down("hosting", [by_ip[ip].error for ip in bad]):
                    continue
                cdn = sorted({by_ip[ip].cdn for ip in ips if by_ip.get(ip) is not None and by_ip[ip].cdn})
                notes = [("behind " + ", ".join(cdn)) if cdn else "",
                         f"{plan.skipped[sid]} addresses skipped" if plan.skipped.get(sid) else ""]
                lookups.append(self._marker("hosting", names.get(sid, str(sid)), "partial" if bad else "ok",
                                            "; ".join(n for n in notes if n) or None))
            record_lookups(session, lookups, self.run_id)

        await self._write(write)

    @staticmethod
    def _seed_networks(session: Any, lookup: Any, ttl: float) -> None:
        """Known networks (fresh ones) answer for the IPs inside them without a lookup."""
        from sqlalchemy import select

        from storage.models import Network

        cutoff = _now() - timedelta(seconds=ttl)
        for n in session.scalars(select(Network).where(Network.last_seen >= cutoff)):
            lookup.cache.add_stored(n)

    # --- phase 3: registration -------------------------------------------------------

    async def registration_phase(self, sites: list[tuple[int, str]]) -> None:
        from enrich.rdap_client import Bootstrap, RdapClient
        from enrich.rdap_parse import parse_rdap_domain
        from enrich.transport import ssl_context
        from enrich.whois_client import WhoisClient
        from enrich.whois_parse import parse_whois

        net, enr = self.config.network, self.config.enrich
        tls = ssl_context(net.ca_bundle or None)
        from spiders.destinations import DestinationPolicy, parse_networks

        destinations = DestinationPolicy(parse_networks(net.allow_destinations))
        rdap = RdapClient(proxy=net.proxy or None, tls_context=tls, timeout=self.timeout, bootstrap=Bootstrap.load(),
                          per_host=(max(1, int(enr.rdap_rate)), enr.rdap_rate), user_agent=net.effective_user_agent,
                          refuse_host=lambda host: (refused := destinations.host_refusal(host)) and refused[0])
        whois = WhoisClient(proxy=net.proxy or None, timeout=self.timeout,
                            per_server=(max(1, int(enr.whois_rate)), enr.whois_rate))
        results: list[tuple[int, str, str | None, Any, str]] = []
        lookups: list[dict] = []

        async def one(site_id: int, domain: str) -> None:
            started = time.monotonic()
            first = len(lookups)
            answer = await rdap.domain(domain)
            reg, source, server, raw = None, "rdap", answer.url, ""
            if answer.status in ("ok", "not_found") and answer.data is not None:
                reg = parse_rdap_domain(answer.data, domain)
                raw = json.dumps(answer.data, ensure_ascii=False)[:200_000]
            elif answer.status != "no_rdap":
                lookups.append({"service": "rdap_domain", "target": domain, "server": answer.url,
                                "outcome": answer.status, "detail": answer.error, "at": _now()})
            rdap_missed = reg is not None and reg.status == "not_found" and await self._delegated(domain)
            if rdap_missed:
                # Some registries' RDAP lags or misses names that WHOIS and DNS know: keep
                # RDAP's "not found" as a lookup and ask WHOIS as well.
                lookups.append({"service": "rdap_domain", "target": domain, "server": answer.url,
                                "outcome": "not_found", "detail": "RDAP has no record; DNS shows the domain "
                                                                  "delegated, WHOIS asked as well", "at": _now()})
                self.counts["whois/rdap/not_found_but_delegated"] += 1
            if reg is None or reg.status == "error" or rdap_missed:
                w = await whois.query(domain)
                source, server, raw = "whois", w.server, w.text or ""
                if w.status == "ok":
                    reg = parse_whois(w.text, domain, w.server or "")
                else:
                    lookups.append({"service": "whois", "target": domain, "server": w.server,
                                    "outcome": w.status, "detail": w.error, "at": _now()})
            outcome = reg.status if reg is not None else "error"
            if reg is not None and reg.status == "found":
                results.append((site_id, source, server, reg, raw))
                outcome = "ok"
            elif reg is not None and reg.error:
                lookups.append({"service": source, "target": domain, "server": server, "outcome": reg.status,
                                "detail": reg.error, "at": _now()})
            self.counts[f"whois/{source}/{outcome}"] += 1
            if outcome != "ok" and self._path_down("whois", [x["detail"] for x in lookups[first:]
                                                             if x["target"] == domain]):
                return
            lookups.append({**self._marker("whois", domain, outcome, source),
                            "duration_ms": round(1000 * (time.monotonic() - started), 1)})

        await self._gather([one(sid, d) for sid, d in sites], "registration")
        self.sent.update({f"rdap/{k}": v for k, v in rdap.sent.items()})
        self.sent.update({f"whois/{k}": v for k, v in whois.sent.items()})

        def write(session: Any) -> None:
            from storage.enrichment import record_lookups, record_registration

            now = _now()
            for site_id, source, server, reg, raw in results:
                record_registration(session, site_id, source, server, {
                    "registrar": reg.registrar, "registrar_iana_id": reg.registrar_iana_id, "created": reg.created,
                    "updated": reg.updated, "expires": reg.expires, "nameservers": reg.nameservers,
                    "statuses": reg.statuses, "registrant_org": reg.registrant_org,
                    "registrant_country": reg.registrant_country, "abuse_email": reg.abuse_email,
                    "redacted": reg.redacted}, raw, now)
            record_lookups(session, lookups, self.run_id)

        await self._write(write)

    async def _delegated(self, domain: str) -> bool:
        """Whether DNS knows ``domain``: an NS answer for it, or an address."""
        import dns.exception

        for rtype in ("NS", "A", "AAAA"):
            try:
                async with self.dns_limiter:
                    await self.resolver.resolve(domain, rtype)
                return True
            except (dns.exception.DNSException, OSError):
                continue
        return False

    # --- phase 4: TLS ----------------------------------------------------------------

    async def tls_phase(self, hosts: dict[int, list[str]], domains: dict[int, str]) -> None:
        from enrich.tls_probe import fetch_certificate

        net = self.config.network
        limiter = asyncio.Semaphore(self.config.enrich.concurrency)
        certs: list[tuple[str, dict]] = []
        lookups: list[dict] = []
        got_one: set[int] = set()
        failures: dict[int, list[str | None]] = {}

        from spiders.destinations import DestinationPolicy, parse_networks

        destinations = DestinationPolicy(parse_networks(net.allow_destinations))

        async def one(site_id: int, host: str) -> None:
            if (refused := destinations.host_refusal(host)) is not None:  # 10.0.0.1, localhost: never probed
                lookups.append({"service": "tls", "target": host, "outcome": "error", "detail": refused[0],
                                "at": _now()})
                self.counts["tls/refused"] += 1
                return
            async with limiter:
                got = await fetch_certificate(host, 443, proxy=net.proxy or None, timeout=self.timeout)
            self.sent["tls"] += 1
            if hasattr(got, "sha256"):
                cert = {k: getattr(got, k, None) for k in (
                    "sha256", "issuer", "subject", "subject_cn", "serial", "not_before", "not_after", "der")}
                cert["sans"] = [*got.san_dns, *got.san_ip]
                certs.append((host, cert))
                got_one.add(site_id)
                self.counts["tls/ok"] += 1
            else:
                lookups.append({"service": "tls", "target": host, "outcome": "error",
                                "detail": getattr(got, "reason", str(got)), "at": _now()})
                failures.setdefault(site_id, []).append(lookups[-1]["detail"])
                self.counts["tls/failed"] += 1

        await self._gather([one(sid, h) for sid, hs in hosts.items() for h in hs], "tls")
        left_due = {sid for sid, details in failures.items()
                    if sid not in got_one and self._path_down("tls", details)}

        def write(session: Any) -> None:
            from storage.enrichment import record_certificate, record_lookups

            now = _now()
            for host, cert in certs:
                for lead in record_certificate(session, host, cert, now, self.run_id):
                    if lead not in self.leads:
                        self.leads.append(lead)
            markers = [self._marker("tls", d, "ok" if sid in got_one else ("error" if hosts.get(sid) else "ok"),
                                    None if hosts.get(sid) else "no host crawled over HTTPS")
                       for sid, d in domains.items() if sid not in left_due]
            record_lookups(session, lookups + markers, self.run_id)

        await self._write(write)

    # --- helpers ---------------------------------------------------------------------

    async def _gather(self, coros: list, phase: str) -> None:
        total = len(coros)
        done = 0
        for fut in asyncio.as_completed(coros):
            await fut
            done += 1
            if self.progress:
                self.progress(phase, done, total)


@dataclass
class HostingPlan:
    """Which addresses the hosting phase looks up, per site, within its caps."""

    chosen: dict[int, list[str]]
    """Site id -> the addresses looked up for it."""
    total: dict[int, int]
    """Site id -> how many addresses DNS gave it."""
    skipped: dict[int, int]
    """Site id -> addresses over ``[enrich] max_addresses_per_site``: never looked up."""
    deferred: set[int]
    """Sites that did not fit in this batch (``[enrich] hosting_batch``): for the next batch."""
    per_site: int = 16
    batch: int = 256

    def skipped_detail(self) -> dict[int, tuple[int, int, str]]:
        """Site id -> (addresses, addresses not looked up, why), for every site with some skipped."""
        out = {sid: (self.total[sid], n, f"[enrich] max_addresses_per_site = {self.per_site}")
               for sid, n in self.skipped.items() if n}
        for sid in self.deferred:
            out[sid] = (self.total[sid], self.total[sid],
                        f"[enrich] hosting_batch = {self.batch} was full; in a later batch")
        return out


def _address_key(ip: str) -> tuple[int, int]:
    import ipaddress

    try:
        addr = ipaddress.ip_address(ip)
        return addr.version, int(addr)
    except ValueError:
        return 9, 0


def plan_hosting(ips_by_site: dict[int, set[str]], per_site: int, batch: int) -> HostingPlan:
    """At most ``per_site`` addresses of each site (the lowest, IPv4 first: the same ones
    every run) and at most ``batch`` addresses in all; a site whose addresses do not fit in
    the batch is deferred whole (at least one site is always looked up)."""
    chosen: dict[int, list[str]] = {}
    total: dict[int, int] = {}
    skipped: dict[int, int] = {}
    deferred: set[int] = set()
    in_batch: set[str] = set()
    for sid in sorted(ips_by_site):
        ips = sorted(ips_by_site[sid], key=_address_key)
        total[sid] = len(ips)
        mine = ips[:per_site]
        skipped[sid] = len(ips) - len(mine)
        new = [ip for ip in mine if ip not in in_batch]
        if len(in_batch) + len(new) > batch:
            if in_batch:
                deferred.add(sid)
                continue
            skipped[sid] += len(mine) - batch  # one site alone over the batch: its first ``batch``
            mine = new = mine[:batch]
        in_batch.update(new)
        chosen[sid] = mine
    return HostingPlan(chosen, total, skipped, deferred, per_site, batch)


@dataclass
class PhaseInput:
    """What the phases read from the store, read before they start (they then only write)."""

    due: dict[str, list[tuple[int, str]]]
    """Per service, the due ``(site id, domain)``; ``dns`` also holds the sites due for
    hosting only (their addresses are needed again)."""
    hosts: dict[int, list[str]]
    tls_hosts: dict[int, list[str]]

    @property
    def sites(self) -> set[int]:
        return {sid for per in self.due.values() for sid, _ in per}


def read_phase_input(session: Any, due: dict[str, list[tuple[int, str]]], only: Sequence[str]) -> PhaseInput:
    """:class:`PhaseInput` for the sites ``due`` per service (for the services in ``only``)."""
    from storage.enrichment import crawled_hosts, has_pages, https_hosts

    due = {s: list(due.get(s, [])) for s in only}
    if "dns" in only and "hosting" in only:  # a site left due for hosting only gets its DNS again
        known = {sid for sid, _ in due["dns"]}
        due["dns"] += [(sid, d) for sid, d in due["hosting"] if sid not in known]
    dns_sites = due.get("dns", []) if "dns" in only else due.get("hosting", [])
    hosts = {sid: crawled_hosts(session, sid) for sid, _ in dns_sites}
    # HTTPS hosts seen in the crawl; a site crawled over plain HTTP only has none, a site
    # named but never crawled gets its apex tried
    tls_hosts = {sid: https_hosts(session, sid) or ([] if has_pages(session, sid) else [d])
                 for sid, d in due.get("tls", [])}
    return PhaseInput(due, hosts, tls_hosts)


async def run_phases(enricher: Enricher, batch: PhaseInput, only: Sequence[str]) -> None:
    """DNS then hosting, registration, and TLS, side by side: different services,
    different servers, each bounded by its own limits, each committing what it finished."""
    due = batch.due

    async def dns_and_hosting() -> None:
        dns_sites = due.get("dns", []) if "dns" in only else due.get("hosting", [])
        if not dns_sites:
            return
        ips = await enricher.dns_phase(dns_sites, batch.hosts)
        if "hosting" in only:
            await enricher.hosting_phase(ips)

    async def registration() -> None:
        if due.get("whois"):
            await enricher.registration_phase(due["whois"])

    async def tls() -> None:
        if due.get("tls"):
            await enricher.tls_phase(batch.tls_hosts, dict(due["tls"]))

    await asyncio.gather(dns_and_hosting(), registration(), tls())


def unreachable_error(config: Any, enricher: Enricher) -> str | None:
    """The run's error when the proxy or the resolvers could not be reached, else None."""
    if not enricher.unreachable:
        return None
    left = ", ".join(f"{k} {v}" for k, v in sorted(enricher.unreachable.items()))
    ways = " and ".join(w for w, on in ((f"the proxy {config.network.proxy}", set(enricher.unreachable) - {"dns"}),
                                        ("the resolvers " + " ".join(config.network.resolvers),
                                         "dns" in enricher.unreachable)) if on)
    return f"{ways} could not be reached; sites left due for the next run: {left}"


async def run_enrichment(config: Any, request: EnrichRequest, session_factory: Any, run_id: int) -> EnrichResult:
    """Enrich the due (or named) sites; the caller opened the run record and closes it."""
    from storage.enrichment import sites_due

    started = time.monotonic()
    enricher = Enricher(config, session_factory, run_id, request.progress)
    stale = request.stale_after if request.stale_after is not None else config.enrich.stale_after_seconds
    only = [s for s in SERVICES if s in request.only]
    cutoff = _now() - timedelta(seconds=stale)

    if request.domains:  # named sites are enriched even if no crawl has seen them yet
        from storage.sites import record_hosts

        await enricher._write(lambda s: record_hosts(s, list(request.domains), _now(), run_id))

    with session_factory() as session:
        due = {service: sites_due(session, [service], cutoff, list(request.domains) or None) for service in only}
        batch = read_phase_input(session, due, only)
    await run_phases(enricher, batch, only)
    error = unreachable_error(config, enricher)
    return EnrichResult(run_id=run_id, outcome="failed" if error else "ok", sites=len(batch.sites),
                        counts=enricher.counts, sent=enricher.sent, seconds=time.monotonic() - started,
                        leads=enricher.leads, error=error)
