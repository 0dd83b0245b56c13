"""The straightforward way, for bench/enrich.py to beat: one lookup after another.

dnspython's blocking resolver for the DNS records, ipwhois ``lookup_rdap`` for each
address (Cymru over DNS, RDAP over HTTP), and the domain's RDAP record with urllib — or
WHOIS through the proxy where the TLD has no RDAP. No cache, no concurrency; the same
proxy, resolvers and CA as isop.
"""

from __future__ import annotations

import json
import socket
import ssl
from collections import Counter
from typing import Any
from urllib.parse import urlsplit
from urllib.request import HTTPSHandler, ProxyHandler, build_opener

import dns.exception
from ipwhois import IPWhois

from enrich.rdap_client import Bootstrap
from spiders.resolver import make_resolver


def _whois(proxy: str, server: str, query: str, timeout: float) -> str:
    parts = urlsplit(proxy)
    with socket.create_connection((parts.hostname, parts.port or 8080), timeout=timeout) as s:
        s.sendall(f"CONNECT {server}:43 HTTP/1.1\r\nHost: {server}:43\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                return ""
            head += chunk
        rest = head.split(b"\r\n\r\n", 1)[1]
        s.sendall(query.encode() + b"\r\n")
        data = [rest]
        while chunk := s.recv(65536):
            data.append(chunk)
    return b"".join(data).decode("utf-8", "replace")


def sequential(config: Any, domains: list[str]) -> Counter:
    """Look everything up for ``domains``, one query at a time; returns queries per service."""
    net = config.network
    resolver = make_resolver(list(net.resolvers), net.timeout)
    context = ssl.create_default_context()
    if net.ca_bundle:
        context.load_verify_locations(net.ca_bundle)
    opener = build_opener(ProxyHandler({"http": net.proxy, "https": net.proxy}), HTTPSHandler(context=context))
    bootstrap = Bootstrap.load()
    sent: Counter = Counter()
    for domain in domains:
        ips = []
        for name, rtype in [(domain, t) for t in ("A", "AAAA", "NS", "MX", "TXT", "SOA")] + [(f"www.{domain}", "A")]:
            sent["dns"] += 1
            try:
                answer = resolver.resolve(name, rtype)
            except dns.exception.DNSException:
                continue
            if rtype in ("A", "AAAA"):
                ips += [r.to_text() for r in answer]
        for ip in dict.fromkeys(ips):
            obj = IPWhois(ip, timeout=net.timeout, proxy_opener=opener)
            obj.net.dns_resolver = resolver
            sent["hosting"] += 1
            try:
                obj.lookup_rdap(asn_methods=["dns"], depth=0, inc_nir=False, retry_count=1)
            except Exception:  # noqa: BLE001 - the baseline only times the work
                pass
        urls = bootstrap.base_urls(domain)
        if urls:
            sent["rdap"] += 1
            try:
                with opener.open(urls[0].rstrip("/") + f"/domain/{domain}", timeout=net.timeout) as r:
                    json.loads(r.read())
            except Exception:  # noqa: BLE001
                pass
        else:
            sent["whois"] += 2
            try:
                iana = _whois(net.proxy, "whois.iana.org", domain.rsplit(".", 1)[1], net.timeout)
                server = next((ln.split(":", 1)[1].strip() for ln in iana.splitlines()
                               if ln.lower().startswith(("refer:", "whois:"))), "")
                if server:
                    _whois(net.proxy, server, domain, net.timeout)
            except OSError:
                pass
    return sent
