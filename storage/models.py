"""The store's schema: what isop saw, and when.

Everything is history. An *observation* table has a natural key plus the observed facts,
and ``first_seen``/``last_seen``: seeing the same facts again moves ``last_seen``; seeing
different facts adds a row (the facts are part of the key, or hashed into ``fingerprint``).
Nothing seen before is overwritten. Writes go through :mod:`storage.observe`, which turns a
batch of observations into idempotent upserts on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import JSONType, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict: JSONType, list: JSONType}


def _enum(cls: type[enum.Enum]) -> Enum:
    """A portable enum column: stored as its values in a VARCHAR with a CHECK constraint."""
    return Enum(cls, name=cls.__name__.lower(), native_enum=False, create_constraint=True,
                length=24, values_callable=lambda e: [m.value for m in e])


class RunKind(enum.StrEnum):
    DISCOVERY = "discovery"
    TARGETED = "targeted"
    ENRICH = "enrich"
    RECHECK = "recheck"
    OTHER = "other"


class RunOutcome(enum.StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"


class LinkKind(enum.StrEnum):
    ANCHOR = "anchor"
    IFRAME = "iframe"
    SCRIPT = "script"
    REDIRECT = "redirect"
    JS = "js"
    FORM = "form"


class SiteStatus(enum.StrEnum):
    ACTIVE = "active"
    REDIRECTING = "redirecting"
    DOWN = "down"
    PARKED = "parked"


class RelationKind(enum.StrEnum):
    REDIRECT = "redirect"
    """The site's pages redirect (HTTP 3xx, meta refresh, JS) to the other site."""
    ANNOUNCED = "announced"
    """The site announces the other as its new domain ("we moved to ...")."""
    MIRROR = "mirror"
    """The site lists the other as a mirror or proxy."""
    NUMBERED = "numbered"
    """The other is the numbered successor (site101 -> site102) found by probing."""


class Observed:
    """Mixin: when a fact was first and last seen."""

    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# --- crawling -----------------------------------------------------------------------------


class CrawlRun(Base):
    """One run of a command: a crawl, an enrichment pass, a re-check."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RunKind] = mapped_column(_enum(RunKind))
    job: Mapped[str | None] = mapped_column(String(100))
    """The scheduled job's name, if started by ``isop run-due``."""
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[RunOutcome] = mapped_column(_enum(RunOutcome), default=RunOutcome.RUNNING)
    arguments: Mapped[dict] = mapped_column(default=dict)
    counts: Mapped[dict] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    hostname: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None]
    isop_version: Mapped[str | None] = mapped_column(String(40))


class Site(Base, Observed):
    """A registered domain (eTLD+1), the unit analysts classify and take down."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    """Registered domain, lowercase, IDN as punycode."""
    suffix: Mapped[str] = mapped_column(String(100), index=True)
    """Public suffix (``com``, ``co.kr``)."""
    first_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))

    hosts: Mapped[list[Host]] = relationship(back_populates="site")


class SiteStatusObservation(Base, Observed):
    """Whether the site was up, redirecting, down or parked, over time."""

    __tablename__ = "site_statuses"
    __table_args__ = (UniqueConstraint("site_id", "status", "detail"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    status: Mapped[SiteStatus] = mapped_column(_enum(SiteStatus))
    detail: Mapped[str] = mapped_column(String(500), default="")


class Host(Base, Observed):
    """A fully qualified host name seen in a URL, DNS answer or certificate."""

    __tablename__ = "hosts"

    id: Mapped[int] = mapped_column(primary_key=True)
    fqdn: Mapped[str] = mapped_column(String(253), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)

    site: Mapped[Site] = relationship(back_populates="hosts")


class Page(Base):
    """One fetch of one URL in one run (history: a later fetch is a new row)."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("run_id", "url_sha256", "rendered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    url_sha256: Mapped[str] = mapped_column(String(64), index=True)
    final_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None]
    """HTTP status; None when the fetch failed (see ``error``)."""
    error: Mapped[str | None] = mapped_column(String(500))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    depth: Mapped[int] = mapped_column(default=0)
    content_type: Mapped[str | None] = mapped_column(String(200))
    content_length: Mapped[int | None] = mapped_column(BigInteger)
    content_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    title: Mapped[str | None] = mapped_column(String(1000))
    language: Mapped[str | None] = mapped_column(String(16))
    rendered: Mapped[bool] = mapped_column(default=False)
    """Fetched through the browser (JavaScript ran)."""
    redirects: Mapped[list] = mapped_column(default=list)
    """A 3xx answer: [[Location, status]]; a page Scrapy reached through redirects (renders):
    the chain before ``final_url``, [url, status] pairs."""
    warc_file: Mapped[str | None] = mapped_column(String(500))
    warc_record_id: Mapped[str | None] = mapped_column(String(100))
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None] = mapped_column(BigInteger)
    screenshot: Mapped[str | None] = mapped_column(String(500))
    signals: Mapped[list | None] = mapped_column(default=None)
    """The classifier's signals on this page, [name, category, weight, detail] each; None
    for pages that were not analysed (failures, redirects, files)."""
    truncated: Mapped[bool] = mapped_column(default=False, server_default=false())
    """The response was cut at ``[crawl] max_response_bytes`` (an oversized page, a
    decompression bomb, an endless stream): the first bytes are kept, archived with
    ``WARC-Truncated: length``, and ``content_sha256``/``content_length`` are theirs."""


class Link(Base):
    """A link from a page to a URL."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("page_id", "url_sha256", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    url_sha256: Mapped[str] = mapped_column(String(64))
    target_host: Mapped[str | None] = mapped_column(String(253), index=True)
    kind: Mapped[LinkKind] = mapped_column(_enum(LinkKind))
    text: Mapped[str | None] = mapped_column(String(500))


class Download(Base, Observed):
    """A file offered for download: metadata and hash only, the bytes are never kept."""

    __tablename__ = "downloads"
    __table_args__ = (UniqueConstraint("url_sha256", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    url_sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    found_on: Mapped[str | None] = mapped_column(Text)
    truncated: Mapped[bool] = mapped_column(default=False, server_default=false())
    """Not hashed whole: larger than ``[crawl] hash_downloads_up_to``, or the server would
    not serve it in ranges (``sha256`` is then empty, ``size`` what is known)."""


class Classification(Base):
    """A verdict on a site, with the signals behind it (history: one row per verdict)."""

    __tablename__ = "classifications"
    __table_args__ = (Index("ix_classifications_site_at", "site_id", "classified_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    classified_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_piracy: Mapped[bool]
    category: Mapped[str] = mapped_column(String(20), index=True)
    score: Mapped[float] = mapped_column(Float)
    signals: Mapped[list] = mapped_column(default=list)
    """Internal detail with weights, strongest first (the dossier's detail section)."""
    reasons: Mapped[list] = mapped_column(default=list, server_default="[]")
    """Plain-language sentences for an analyst, strongest first ([] on rows before 0008)."""
    delivery: Mapped[list] = mapped_column(default=list, server_default="[]")
    """Delivery mechanisms seen (``spiders.classify.DELIVERY``), strongest first."""
    pages_seen: Mapped[int] = mapped_column(default=0)
    classifier_version: Mapped[str] = mapped_column(String(40))
    cause: Mapped[str | None] = mapped_column(String(200))
    """Why the verdict changed from the site's previous one (None: no change, or the first)."""


class SiteRelation(Base, Observed):
    """Domain hopping and mirrors: which domain replaced or mirrors which."""

    __tablename__ = "site_relations"
    __table_args__ = (UniqueConstraint("from_site_id", "to_site_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    from_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    to_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RelationKind] = mapped_column(_enum(RelationKind))
    evidence_url: Mapped[str | None] = mapped_column(Text)


# --- indicators ---------------------------------------------------------------------------


class Indicator(Base, Observed):
    """An identifier that can tie sites to an operator: analytics IDs, wallets, contacts."""

    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("type", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(30), index=True)
    value: Mapped[str] = mapped_column(String(500))


class IndicatorSighting(Base, Observed):
    """Where and when an indicator was seen: per site, with the first and latest page."""

    __tablename__ = "indicator_sightings"
    __table_args__ = (UniqueConstraint("indicator_id", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    first_page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id", ondelete="SET NULL"))
    last_page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id", ondelete="SET NULL"))
    context: Mapped[str | None] = mapped_column(String(500))


# --- enrichment ---------------------------------------------------------------------------


class Lookup(Base):
    """One enrichment lookup and how it ended, failures included (with the reason)."""

    __tablename__ = "lookups"
    __table_args__ = (Index("ix_lookups_target_service", "target", "service", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    service: Mapped[str] = mapped_column(String(30))
    """dns, cymru, rdap_ip, rdap_domain, whois, tls."""
    target: Mapped[str] = mapped_column(String(300))
    server: Mapped[str | None] = mapped_column(String(300))
    outcome: Mapped[str] = mapped_column(String(20))
    """ok, nxdomain, servfail, timeout, lame, malformed, refused, throttled, not_found, error."""
    detail: Mapped[str | None] = mapped_column(String(1000))
    duration_ms: Mapped[float | None] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class DnsObservation(Base, Observed):
    """One DNS record as answered for a name."""

    __tablename__ = "dns_observations"
    __table_args__ = (UniqueConstraint("name", "rtype", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(253), index=True)
    rtype: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(1000), index=True)
    """Indexed: which names resolved to an address (shared IPs, hosting filters)."""
    ttl: Mapped[int | None]


class IpAddress(Base, Observed):
    __tablename__ = "ip_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(45), unique=True)
    version: Mapped[int]
    reserved: Mapped[str | None] = mapped_column(String(40))
    """Why the address is never looked up (private, loopback, documentation ...), else None."""


class Asn(Base, Observed):
    """An autonomous system as registered (history: a changed name is a new row)."""

    __tablename__ = "asns"
    __table_args__ = (UniqueConstraint("number", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, index=True)
    name: Mapped[str | None] = mapped_column(String(300))
    country: Mapped[str | None] = mapped_column(String(2))
    rir: Mapped[str | None] = mapped_column(String(20))
    allocated: Mapped[str | None] = mapped_column(String(10))
    fingerprint: Mapped[str] = mapped_column(String(64))


class Network(Base, Observed):
    """An IP network with its owner and abuse contact (history: changed facts, new row)."""

    __tablename__ = "networks"
    __table_args__ = (UniqueConstraint("cidr", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cidr: Mapped[str] = mapped_column(String(50), index=True)
    start_address: Mapped[str | None] = mapped_column(String(45))
    end_address: Mapped[str | None] = mapped_column(String(45))
    asn: Mapped[int | None] = mapped_column(BigInteger, index=True)
    name: Mapped[str | None] = mapped_column(String(300))
    handle: Mapped[str | None] = mapped_column(String(100))
    org: Mapped[str | None] = mapped_column(String(300))
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    rir: Mapped[str | None] = mapped_column(String(20))
    abuse_email: Mapped[str | None] = mapped_column(String(320))
    cdn: Mapped[str | None] = mapped_column(String(100))
    raw: Mapped[dict | None]
    fingerprint: Mapped[str] = mapped_column(String(64))


class IpNetwork(Base, Observed):
    """Which network an address was announced from."""

    __tablename__ = "ip_networks"
    __table_args__ = (UniqueConstraint("ip_id", "network_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ip_id: Mapped[int] = mapped_column(ForeignKey("ip_addresses.id", ondelete="CASCADE"))
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"), index=True)


class DomainRegistration(Base, Observed):
    """A domain's WHOIS or RDAP record: parsed fields and the raw answer."""

    __tablename__ = "domain_registrations"
    __table_args__ = (UniqueConstraint("site_id", "source", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(10))
    """rdap or whois."""
    server: Mapped[str | None] = mapped_column(String(300))
    registrar: Mapped[str | None] = mapped_column(String(300), index=True)
    registrar_iana_id: Mapped[int | None]
    created: Mapped[datetime | None]
    updated: Mapped[datetime | None]
    expires: Mapped[datetime | None]
    nameservers: Mapped[list] = mapped_column(default=list)
    statuses: Mapped[list] = mapped_column(default=list)
    registrant_org: Mapped[str | None] = mapped_column(String(300))
    registrant_country: Mapped[str | None] = mapped_column(String(2))
    abuse_email: Mapped[str | None] = mapped_column(String(320))
    abuse_phone: Mapped[str | None] = mapped_column(String(50))
    redacted: Mapped[bool | None] = mapped_column(Boolean)
    raw: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))


class Certificate(Base, Observed):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    issuer: Mapped[str | None] = mapped_column(String(1000))
    subject: Mapped[str | None] = mapped_column(String(1000))
    subject_cn: Mapped[str | None] = mapped_column(String(300))
    sans: Mapped[list] = mapped_column(default=list)
    serial: Mapped[str | None] = mapped_column(String(100))
    not_before: Mapped[datetime | None]
    not_after: Mapped[datetime | None]
    der: Mapped[bytes | None] = mapped_column(LargeBinary)


class HostCertificate(Base, Observed):
    """Which certificate a host presented."""

    __tablename__ = "host_certificates"
    __table_args__ = (UniqueConstraint("host_id", "certificate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"))
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id", ondelete="CASCADE"), index=True)


# --- evidence and analysis ----------------------------------------------------------------


class EvidenceFile(Base):
    """A file of evidence (WARC, manifest, screenshot) with its digest at writing time."""

    __tablename__ = "evidence_files"
    __table_args__ = (UniqueConstraint("path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    """warc, manifest, screenshot."""
    path: Mapped[str] = mapped_column(String(500))
    """Relative to ``[evidence] dir``."""
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Cluster(Base):
    """An operator network: sites tied together by specific shared identifiers."""

    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    """Stable public id (kept across recomputations)."""
    label: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    dissolved_at: Mapped[datetime | None] = mapped_column(default=None)
    """When a computation found none of it any more (its members are then no cluster's
    current members); cleared when a later computation matches it again."""


class ClusterComputation(Base):
    """One computation of the operator networks: what it covered and the store's watermarks
    then, so the next one recomputes only the sites whose identifiers changed since."""

    __tablename__ = "cluster_computations"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    full: Mapped[bool] = mapped_column(default=True)
    """The whole store (True) or the sites around the changed ones (False)."""
    dirty: Mapped[int] = mapped_column(default=0)
    """Sites whose identifiers had changed (incremental) or every site (full)."""
    sites: Mapped[int] = mapped_column(default=0)
    """Sites whose clusters were recomputed."""
    clusters: Mapped[int] = mapped_column(default=0)
    """Clusters written (kept, new or revived)."""
    dissolved: Mapped[int] = mapped_column(default=0)
    """Clusters marked dissolved."""
    state: Mapped[dict] = mapped_column(default=dict)
    """Per-table highest id and row count, and a fingerprint of the rules and lists."""


class ClusterMember(Base, Observed):
    __tablename__ = "cluster_members"
    __table_args__ = (UniqueConstraint("cluster_id", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    strength: Mapped[float] = mapped_column(Float, default=0.0)


# --- takedowns and retention --------------------------------------------------------------


class TakedownRecord(Base):
    """A takedown packet as it was prepared, and the evidence it cited.

    The evidence it lists is held for good: retention (:mod:`storage.retention`) never
    prunes a page, WARC file or screenshot a takedown cited.
    """

    __tablename__ = "takedowns"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    format: Mapped[str] = mapped_column(String(10))
    """md or json: how the packet was handed out."""
    packet_sha256: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the packet as handed out (or of its canonical JSON)."""
    evidence: Mapped[list] = mapped_column(default=list)
    """What the packet cited: [{page_id, url, captured_at, warc_file, warc_record_id,
    warc_file_sha256, screenshot, screenshot_sha256}] (paths relative to ``[evidence] dir``)."""


# Deleting pages (retention) sets these to NULL: without an index each deleted page scans
# every sighting.
Index("ix_indicator_sightings_first_page_id", IndicatorSighting.first_page_id)
Index("ix_indicator_sightings_last_page_id", IndicatorSighting.last_page_id)
