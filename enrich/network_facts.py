"""What hosting enrichment learns about one IP address: :class:`NetworkFacts`, the result
of :class:`enrich.hosting.HostingLookup` and what :class:`enrich.network_cache.NetworkCache`
keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["ok", "reserved", "asn_failed", "rdap_failed", "timeout", "error"]


@dataclass(frozen=True)
class NetworkFacts:
    """Who announces and who holds one IP address."""

    ip: str
    """The address asked, normalised (IPv6 compressed; IPv4-mapped IPv6 as IPv4)."""
    reserved: str | None = None
    """The kind of special-purpose address (``private``, ``loopback``, ``documentation``, ...;
    see :func:`storage.addresses.is_reserved`); such addresses are never looked up."""
    asn: int | None = None
    """The origin AS number (the first one of a multi-origin prefix)."""
    asn_cidr: str | None = None
    """The announced prefix, as Team Cymru gives it."""
    asn_country: str | None = None
    """The country code Team Cymru gives for the prefix."""
    asn_registry: str | None = None
    """The RIR Team Cymru names: ``arin``, ``ripencc``, ``apnic``, ``lacnic``, ``afrinic``."""
    asn_date: str | None = None
    """The prefix's allocation date, ``YYYY-MM-DD``."""
    asn_name: str | None = None
    """The short AS name from ``AS<n>.asn.cymru.com`` (``CLOUDFLARENET``: the text before
    ``" - "`` of Cymru's ``"CLOUDFLARENET - Cloudflare, Inc., US"``)."""
    cidr: str | None = None
    """The RDAP network as a CIDR block: of several, the one holding :attr:`ip`, else the first."""
    start_address: str | None = None
    """First address of the RDAP network."""
    end_address: str | None = None
    """Last address of the RDAP network."""
    handle: str | None = None
    """The RIR's handle for the network (``NET-104-21-0-0-1``)."""
    name: str | None = None
    """The network's name (``CLOUDFLARENET``)."""
    org: str | None = None
    """The network's holder (the registrant organisation)."""
    country: str | None = None
    """The network's country (ISO 3166 alpha-2), else its holder's."""
    abuse_email: str | None = None
    """The abuse contact's e-mail address, lower-case."""
    rir: str | None = None
    """The RIR whose RDAP answered (from the answer's links), else Cymru's registry."""
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    """The RDAP network object as received, notices dropped, trimmed to
    :data:`enrich.hosting.MAX_RAW_CHARS` of JSON."""
    status: Status = "ok"
    """``ok``: both the ASN and the network are known; ``reserved``: a special-purpose address,
    nothing sent; ``asn_failed``: Team Cymru had no origin (network facts may still be there,
    from the RDAP bootstrap); ``rdap_failed``: the ASN is known, the RDAP lookup failed;
    ``timeout``: a query timed out; ``error``: anything else (not an IP address, a bug)."""
    error: str | None = None
    """What went wrong, one line (None when ``ok``)."""
    reused: bool = False
    """Answered from the network cache (or the failure cache): no query was sent."""
    cdn: str | None = None
    """The CDN or DDoS-protection provider the address belongs to (see :class:`enrich.cdn.CdnList`)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"
