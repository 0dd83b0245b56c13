"""The sandbox's port-43 WHOIS servers: IANA's referral, each registry's and each registrar's.

:class:`WhoisService` answers a query line sent to a named server (the proxy gives it the
host name of the ``CONNECT``) with the text the real server of that kind writes, after the
captured samples in ``../shared/data/whois/``. The chain a client follows is the real one::

    whois.iana.org           "refer:        whois.verisign-grs.com"
    whois.verisign-grs.com   thin record, "Registrar WHOIS Server: whois.namecheap.com"
    whois.namecheap.com      full 2013-RAA record (registrant organisation and country, abuse contact)

Formats (``Registry.whois_format`` / ``Registrar.whois_format``): ``verisign``, ``pir``,
``kr``, ``tonic``, ``ru``, ``iis``, ``nicio``, ``nicme``, ``centralnic``, ``icann``; plus
``iana`` for whois.iana.org. Not-found answers use each server's real wording.

Redaction follows ICANN's temporary specification: with ``redacted = true`` the registrant's
organisation and country are still published (where the format has those fields) and every
personal field (name, street, city, postal code, phone, e-mail, contact IDs) reads
"REDACTED FOR PRIVACY" ("REDACTED" in the Identity Digital formats); ``ru`` prints
``person: Private Person`` instead of ``org:``, ``kr`` prints ``Publishes : N``.

Faults (``Domain.faults.whois``, on every server but IANA's): ``throttled`` answers the
registry's rate-limit wording, ``malformed`` answers binary-ish garbage without a single
``key: value`` line, ``timeout`` never answers: :meth:`WhoisService.answer` sleeps
``stall_seconds`` (an hour) and then returns ``None`` (close without a byte).
"""

from __future__ import annotations

import asyncio
import random
import re
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from collector.sandbox.world import Domain, Registrar, Registration, Registry, World

IANA_SERVER = "whois.iana.org"
STALL_SECONDS = 3600.0
REDACTED = "REDACTED FOR PRIVACY"
PIR_THROTTLED = "WHOIS LIMIT EXCEEDED - SEE WWW.PIR.ORG/WHOIS FOR DETAILS"
RDDS_EMAIL_NOTE = ("Please query the RDDS service of the Registrar of Record identified in this output "
                   "for information on how to contact the Registrant, Admin, or Tech contact of the "
                   "queried domain name.")
REGISTRY_LOCK = ("serverDeleteProhibited", "serverTransferProhibited", "serverUpdateProhibited")


@dataclass(frozen=True)
class Record:
    """A registered domain with everything its WHOIS answers print."""

    name: str
    registration: Registration
    registrar: Registrar
    registry: Registry


# -- shared helpers (the RDAP service uses them too) -------------------------------------------


def registry_domain_id(name: str, registry: Registry) -> str:
    """A stable registry object ID in the style of the registry's operator."""
    number = zlib.crc32(name.lower().encode())
    tld = name.rsplit(".", 1)[-1].upper()
    if registry.whois_format == "verisign":
        return f"{number}_DOMAIN_{tld}-VRSN"
    if registry.whois_format == "centralnic":
        return f"D{number}-CNIC"
    if registry.whois_format in ("pir", "nicio", "nicme"):
        return f"D{number}-LROR"
    return f"D{number}-{tld}"


def iso(when: datetime) -> str:
    """``2023-04-02T10:11:12Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def registry_locked(registration: Registration) -> bool:
    return all(s in registration.status for s in REGISTRY_LOCK)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def _status_lines(reg: Registration, template: str = "Domain Status: {s} https://icann.org/epp#{s}") -> list[str]:
    return [template.format(s=s) for s in reg.status] or [template.format(s="ok")]


def _dnssec(reg: Registration) -> str:
    return "signedDelegation" if reg.dnssec else "unsigned"


# -- ICANN-style (gTLD registry and registrar) blocks -------------------------------------------


def _contact_block(role: str, reg: Registration, word: str) -> list[str]:
    """The Registrant/Admin/Tech block of the 2013 RAA format (see the module docstring)."""
    hidden = reg.redacted
    personal = word if hidden else ""
    if role == "Registrant" or not hidden:
        org, country = reg.registrant_org, reg.registrant_country
    else:
        org, country = word, word
    name = word if hidden else reg.registrant_org
    email = (RDDS_EMAIL_NOTE if word == REDACTED else word) if hidden else ""
    return [
        f"Registry {role} ID: {personal}",
        f"{role} Name: {name}",
        f"{role} Organization: {org}",
        f"{role} Street: {personal}",
        f"{role} City: {personal}",
        f"{role} State/Province: {'' if role == 'Registrant' else personal}",
        f"{role} Postal Code: {personal}",
        f"{role} Country: {country}",
        f"{role} Phone: {personal}",
        f"{role} Phone Ext: ",
        f"{role} Fax: ",
        f"{role} Fax Ext: ",
        f"{role} Email: {email}",
    ]


def _gtld_head(rec: Record, *, domain_name: str, domain_id: str, expiry_label: str,
               status_template: str = "Domain Status: {s} https://icann.org/epp#{s}") -> list[str]:
    reg, registrar = rec.registration, rec.registrar
    return [
        f"Domain Name: {domain_name}",
        f"Registry Domain ID: {domain_id}",
        f"Registrar WHOIS Server: {registrar.whois_server}",
        f"Registrar URL: {registrar.url}",
        f"Updated Date: {iso(reg.updated)}",
        f"Creation Date: {iso(reg.created)}",
        f"{expiry_label}: {iso(reg.expires)}",
        f"Registrar: {registrar.name}",
        f"Registrar IANA ID: {registrar.iana_id}",
        f"Registrar Abuse Contact Email: {registrar.abuse_email}",
        f"Registrar Abuse Contact Phone: {registrar.abuse_phone}",
        *_status_lines(reg, status_template),
    ]


def _nameserver_lines(reg: Registration, upper: bool = False) -> list[str]:
    return [f"Name Server: {ns.upper() if upper else ns}" for ns in reg.nameservers]


# -- formats: found ------------------------------------------------------------------------------


def found_verisign(rec: Record, now: datetime) -> str:
    reg = rec.registration
    lines = _gtld_head(rec, domain_name=rec.name.upper(),
                       domain_id=registry_domain_id(rec.name, rec.registry),
                       expiry_label="Registry Expiry Date")
    lines += _nameserver_lines(reg, upper=True)
    lines += [f"DNSSEC: {_dnssec(reg)}",
              "URL of the ICANN Whois Inaccuracy Complaint Form: https://www.icann.org/wicf/"]
    cc = rec.name.rsplit(".", 1)[-1] in ("cc", "tv")
    stamp = f">>> Last update of {'WHOIS' if cc else 'whois'} database: {iso(now)} <<<"
    body = "\n".join("   " + line for line in lines)
    return (f"{body}\n{stamp}\n\nFor more information on Whois status codes, please visit "
            f"https://icann.org/epp\n\n{VERISIGN_CC_TERMS if cc else VERISIGN_TERMS}")


def _identity_digital(rec: Record, now: datetime, terms: str, word: str, contacts: bool) -> str:
    reg = rec.registration
    lines = ["This domain is protected by the Registry Lock service. If you are the registrant and "
             "wish to take action on this lock, please contact your registrar.", ""] if registry_locked(reg) else []
    lines += _gtld_head(rec, domain_name=rec.name, domain_id="REDACTED",
                        expiry_label="Registry Expiry Date")
    if contacts:
        for role in ("Registrant", "Admin", "Tech"):
            lines += _contact_block(role, reg, word)
    lines += _nameserver_lines(reg)
    lines += [f"DNSSEC: {_dnssec(reg)}",
              "URL of the ICANN Whois Inaccuracy Complaint Form: https://icann.org/wicf/",
              f">>> Last update of WHOIS database: {iso(now)} <<<", "",
              "For more information on Whois status codes, please visit https://icann.org/epp", "",
              terms]
    return "\n".join(lines)


def found_pir(rec: Record, now: datetime) -> str:
    return _identity_digital(rec, now, PIR_TERMS, "REDACTED", contacts=False)


def found_nicio(rec: Record, now: datetime) -> str:
    return _identity_digital(rec, now, IDENTITY_DIGITAL_TERMS, "REDACTED", contacts=True)


found_nicme = found_nicio


def found_centralnic(rec: Record, now: datetime) -> str:
    reg, registrar = rec.registration, rec.registrar

    def stamp(when: datetime) -> str:
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0Z")

    lines = [
        f"Domain Name: {rec.name.upper()}",
        f"Registry Domain ID: {registry_domain_id(rec.name, rec.registry)}",
        f"Registrar WHOIS Server: {registrar.whois_server}",
        f"Registrar URL: {registrar.url}",
        f"Updated Date: {stamp(reg.updated)}",
        f"Creation Date: {stamp(reg.created)}",
        f"Registry Expiry Date: {stamp(reg.expires)}",
        f"Registrar: {registrar.name}",
        f"Registrar IANA ID: {registrar.iana_id}",
        *_status_lines(reg),
        *_nameserver_lines(reg, upper=True),
        f"DNSSEC: {_dnssec(reg)}",
        f"Registrar Abuse Contact Email: {registrar.abuse_email}",
        f"Registrar Abuse Contact Phone: {registrar.abuse_phone}",
        "URL of the ICANN Whois Inaccuracy Complaint Form: https://www.icann.org/wicf/",
        f">>> Last update of WHOIS database: {stamp(now)} <<<", "",
        "For more information on Whois status codes, please visit https://icann.org/epp", "",
        CENTRALNIC_TERMS,
    ]
    return "\n".join(lines)


def found_icann(rec: Record, now: datetime) -> str:
    """A registrar's own server (2013 RAA): the full record, contacts included."""
    reg = rec.registration
    lines = _gtld_head(rec, domain_name=rec.name,
                       domain_id=registry_domain_id(rec.name, rec.registry),
                       expiry_label="Registrar Registration Expiration Date")
    for role in ("Registrant", "Admin", "Tech"):
        lines += _contact_block(role, reg, REDACTED)
    lines += _nameserver_lines(reg)
    lines += [f"DNSSEC: {_dnssec(reg)}",
              "URL of the ICANN WHOIS Data Problem Reporting System: http://wdprs.internic.net/",
              f">>> Last update of WHOIS database: {iso(now)} <<<", "",
              ICANN_REGISTRAR_TERMS.format(registrar=rec.registrar.name)]
    return "\n".join(lines)


def _kr_pad(label: str, width: int = 28) -> str:
    """Pad a label to ``width`` display columns (Hangul counts two), as KISA aligns them."""
    cols = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in label)
    return label + " " * max(1, width - cols)


def _kr_date(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y. %m. %d.")


def found_kr(rec: Record, now: datetime) -> str:
    reg, registrar = rec.registration, rec.registrar
    agency = f"{registrar.name}({registrar.url})" if registrar.url else registrar.name
    publishes = "N" if reg.redacted else "Y"

    def block(labels: dict[str, str], dnssec: str, ns_titles: tuple[str, str], host: str) -> list[str]:
        rows = [(labels["name"], rec.name), (labels["registrant"], reg.registrant_org)]
        rows += [(labels["created"], _kr_date(reg.created)), (labels["updated"], _kr_date(reg.updated)),
                 (labels["expires"], _kr_date(reg.expires)), (labels["publishes"], publishes),
                 (labels["agency"], agency), ("DNSSEC", dnssec)]
        rows += [(labels["status"], s) for s in reg.status]
        out = [f"{_kr_pad(k)}: {v}" for k, v in rows]
        for i, ns in enumerate(reg.nameservers):
            out += ["", ns_titles[0 if i == 0 else 1].format(n=i + 1), f"   {_kr_pad(host, 25)}: {ns}"]
        return out

    korean = block({"name": "도메인이름", "registrant": "등록인", "created": "등록일",
                    "updated": "최근 정보 변경일", "expires": "사용 종료일", "publishes": "정보공개여부",
                    "agency": "등록대행자", "status": "등록정보 보호"},
                   "서명" if reg.dnssec else "미서명", ("{n}차 네임서버 정보", "{n}차 네임서버 정보"), "호스트이름")
    english = block({"name": "Domain Name", "registrant": "Registrant", "created": "Registered Date",
                     "updated": "Last Updated Date", "expires": "Expiration Date", "publishes": "Publishes",
                     "agency": "Authorized Agency", "status": "Domain Status"},
                    "signed" if reg.dnssec else "unsigned", ("Primary Name Server", "Secondary Name Server"),
                    "Host Name")
    return "\n".join([f"query : {rec.name}", "", "", "# KOREAN(UTF8)", "", *korean, "",
                      "네임서버 이름이 .kr이 아닌 경우는 IP주소가 보이지 않습니다.", "", "",
                      "# ENGLISH", "", *english, "", "", "- KISA/KRNIC WHOIS Service -", ""])


def found_tonic(rec: Record, now: datetime) -> str:
    label = rec.name[: -len(".to")] if rec.name.endswith(".to") else rec.name
    return "\n".join(["Tonic whoisd V1.1", *(f"{label} {ns}" for ns in rec.registration.nameservers)])


def _ru_handle(registrar: Registrar) -> str:
    return f"{_slug(registrar.name)[:12] or 'REGISTRAR'}-RU"


def found_ru(rec: Record, now: datetime) -> str:
    reg = rec.registration
    delegated = "DELEGATED" if reg.nameservers else "NOT DELEGATED"
    lines = [RU_HEADER, "", f"domain:        {rec.name.upper()}"]
    lines += [f"nserver:       {ns}." for ns in reg.nameservers]
    lines.append(f"state:         REGISTERED, {delegated}, {'UNVERIFIED' if reg.redacted else 'VERIFIED'}")
    lines.append("person:        Private Person" if reg.redacted or not reg.registrant_org
                 else f"org:           {reg.registrant_org}")
    lines += [f"registrar:     {_ru_handle(rec.registrar)}",
              f"admin-contact: {rec.registrar.url or 'https://www.nic.ru/whois'}",
              f"created:       {iso(reg.created)}",
              f"paid-till:     {iso(reg.expires)}",
              f"free-date:     {(reg.expires + timedelta(days=32)).strftime('%Y-%m-%d')}",
              "source:        TCI", "", f"Last updated on {iso(now)}"]
    return "\n".join(lines)


def found_iis(rec: Record, now: datetime) -> str:
    reg = rec.registration
    holder = f"{_slug(reg.registrant_org)[:6].lower() or 'hold'}{zlib.crc32(rec.name.encode()) % 10000}-{zlib.crc32(reg.registrant_org.encode()) % 1000000:06d}"
    lines = [IIS_HEADER + "state:            active",
             f"domain:           {rec.name}",
             f"holder:           {holder}",
             f"created:          {reg.created.strftime('%Y-%m-%d')}",
             f"modified:         {reg.updated.strftime('%Y-%m-%d')}",
             f"expires:          {reg.expires.strftime('%Y-%m-%d')}"]
    lines += [f"nserver:          {ns}" for ns in reg.nameservers]
    lines.append(f"dnssec:           {'signed delegation' if reg.dnssec else 'unsigned delegation'}")
    lines.append(f"registry-lock:    {'locked' if registry_locked(reg) else 'unlocked'}")
    lines += [f"status:           {s}" for s in reg.status]
    lines.append(f"registrar:        {rec.registrar.name}")
    return "\n".join(lines)


# -- formats: not found --------------------------------------------------------------------------


def not_found_text(fmt: str, name: str, now: datetime) -> str:
    """The server's real "no such domain" answer for ``name``."""
    if fmt == "verisign":
        cc = name.rsplit(".", 1)[-1] in ("cc", "tv")
        stamp = f">>> Last update of {'WHOIS' if cc else 'whois'} database: {iso(now)} <<<"
        return f'No match for "{name.upper()}".\n{stamp}\n\n{VERISIGN_CC_TERMS if cc else VERISIGN_TERMS}'
    if fmt in ("pir", "nicme"):
        return "NOT FOUND"
    if fmt == "nicio":
        return (f"Domain not found.\n>>> Last update of WHOIS database: {iso(now)} <<<\n\n"
                f"{IDENTITY_DIGITAL_TERMS}")
    if fmt == "centralnic":
        return "DOMAIN NOT FOUND"
    if fmt == "kr":
        return "\n".join([f"query : {name}", "", "", "# KOREAN(UTF8)", "",
                          "상기 도메인이름은 등록되어 있지 않습니다.",
                          "상기 도메인이름의 사용을 원하실 경우 도메인이름 등록대행자를 통해 ",
                          "등록 신청하시기 바랍니다.", "", "", "", "# ENGLISH", "",
                          "The requested domain was not found in the Registry or Registrar\u2019s WHOIS Server.",
                          "", "", "", "- KISA/KRNIC WHOIS Service -", ""])
    if fmt == "tonic":
        label = name[: -len(".to")] if name.endswith(".to") else name
        return f"Tonic whoisd V1.1\nNo match for {label}"
    if fmt == "ru":
        return f"{RU_HEADER}\n\nNo entries found for the selected source(s).\n\nLast updated on {iso(now)}\n"
    if fmt == "iis":
        return f'{IIS_HEADER}domain "{name}" not found.'
    return f"Domain '{name}' not found"  # icann: the registrar servers' wording


def iana_text(query: str, registry: Registry | None) -> str:
    """whois.iana.org's answer: the TLD object with its ``refer:`` line, or no object."""
    head = "% IANA WHOIS server\n% for more information on IANA, visit http://www.iana.org\n"
    if registry is None:
        return (f"{head}%\n% This query returned 0 objects.\n%\n"
                f"% You queried for {query} but this server does not have\n% any data for {query}.\n")
    tld = query.rsplit(".", 1)[-1].upper()
    return (f"{head}% This query returned 1 object\n\n"
            f"refer:        {registry.whois_server}\n\n"
            f"domain:       {tld}\n\n"
            f"organisation: {registry.operator}\n\n"
            f"whois:        {registry.whois_server}\n\n"
            "status:       ACTIVE\n\n"
            "source:       IANA\n")


FOUND: dict[str, Callable[[Record, datetime], str]] = {
    "verisign": found_verisign, "pir": found_pir, "kr": found_kr, "tonic": found_tonic,
    "ru": found_ru, "iis": found_iis, "nicio": found_nicio, "nicme": found_nicme,
    "centralnic": found_centralnic, "icann": found_icann,
}
FORMATS = (*FOUND, "iana")


def throttled_text(fmt: str) -> str:
    """Rate-limit wording. Only PIR's is captured (``whois.pir.org/org/throttled``); every
    format answers it, the way the Identity Digital back-end servers do."""
    return PIR_THROTTLED


def garbage(seed: str, size: int = 700) -> bytes:
    """Deterministic binary-ish junk with no ``key: value`` line, for the "malformed" fault."""
    rng = random.Random(seed)
    data = bytes(b for b in rng.randbytes(size * 2) if b not in b":\r")
    return b"\x00\xff%\x1b[" + data[:size] + b"\n"


def normalise_query(query: str) -> str:
    """The domain name in a query line: strips flags such as Verisign's ``domain `` and ``=``."""
    q = query.strip().lower()
    for prefix in ("domain ", "=", "dom "):
        if q.startswith(prefix):
            q = q[len(prefix):].strip()
    return q.rstrip(".")


# -- the service ---------------------------------------------------------------------------------


class WhoisService:
    """Port-43 answers for every WHOIS server of a world (see the module docstring)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.latency = world.latency_ms.get("whois", 0) / 1000.0
        self.stall_seconds = STALL_SECONDS
        """How long a "timeout" fault keeps the connection silent."""
        self.clock: Callable[[], datetime] = _now

    def hosts(self) -> set[str]:
        """Every WHOIS server name this service answers for."""
        names = {IANA_SERVER}
        names |= {r.whois_server.lower() for r in self.world.registries if r.whois_server}
        names |= {r.whois_server.lower() for r in self.world.registrars.values() if r.whois_server}
        return names

    async def answer(self, server: str, query: str) -> bytes | None:
        """The bytes ``server`` writes back for ``query``; ``None`` after a "timeout" stall."""
        if self.latency:
            await asyncio.sleep(self.latency)
        server = server.lower().rstrip(".")
        name = normalise_query(query)
        if server == IANA_SERVER:
            return _encode(iana_text(name, self.world.registry_for(name.rsplit(".", 1)[-1])))
        domain = self.world.domains.get(name)
        fault = domain.faults.whois if domain else ""
        if fault == "timeout":
            await asyncio.sleep(self.stall_seconds)
            return None
        if fault == "malformed":
            return garbage(name)
        if fault == "throttled":
            return _encode(throttled_text(self._format_of(server, name)))
        return _encode(self.text(server, name, domain))

    def text(self, server: str, name: str, domain: Domain | None) -> str:
        """The fault-free answer of ``server`` for the domain ``name``."""
        now = self.clock()
        record = self._record(domain)
        if record is not None and record.registrar.whois_server.lower() == server:
            return FOUND[record.registrar.whois_format or "icann"](record, now)
        if record is not None and record.registry.whois_server.lower() == server:
            return FOUND[record.registry.whois_format](record, now)
        return not_found_text(self._format_of(server, name), name, now)

    def _record(self, domain: Domain | None) -> Record | None:
        if domain is None or domain.registration is None:
            return None
        registry = self.world.registry_for(domain.tld)
        registrar = self.world.registrars.get(domain.registration.registrar)
        if registry is None or registrar is None:
            return None
        return Record(domain.name, domain.registration, registrar, registry)

    def _format_of(self, server: str, name: str) -> str:
        """The format ``server`` speaks (for a registry serving several TLDs, the one of ``name``)."""
        tld = name.rsplit(".", 1)[-1]
        registries = [r for r in self.world.registries if r.whois_server.lower() == server]
        for registry in registries:
            if tld in registry.tlds:
                return registry.whois_format
        if registries:
            return registries[0].whois_format
        registrars = [r for r in self.world.registrars.values() if r.whois_server.lower() == server]
        return registrars[0].whois_format if registrars else "icann"


def _encode(text: str) -> bytes:
    return (text.rstrip("\n") + "\n").encode("utf-8")


# -- the registries' legal texts, verbatim from the captured answers -----------------------------

VERISIGN_TERMS = """\
NOTICE: The expiration date displayed in this record is the date the
registrar's sponsorship of the domain name registration in the registry is
currently set to expire. This date does not necessarily reflect the expiration
date of the domain name registrant's agreement with the sponsoring
registrar.  Users may consult the sponsoring registrar's Whois database to
view the registrar's reported date of expiration for this registration.

TERMS OF USE: You are not authorized to access or query our Whois
database through the use of electronic processes that are high-volume and
automated except as reasonably necessary to register domain names or
modify existing registrations; the Data in VeriSign Global Registry
Services' ("VeriSign") Whois database is provided by VeriSign for
information purposes only, and to assist persons in obtaining information
about or related to a domain name registration record. VeriSign does not
guarantee its accuracy. By submitting a Whois query, you agree to abide
by the following terms of use: You agree that you may use this Data only
for lawful purposes and that under no circumstances will you use this Data
to: (1) allow, enable, or otherwise support the transmission of mass
unsolicited, commercial advertising or solicitations via e-mail, telephone,
or facsimile; or (2) enable high volume, automated, electronic processes
that apply to VeriSign (or its computer systems). The compilation,
repackaging, dissemination or other use of this Data is expressly
prohibited without the prior written consent of VeriSign. You agree not to
use electronic processes that are automated and high-volume to access or
query the Whois database except as reasonably necessary to register
domain names or modify existing registrations. VeriSign reserves the right
to restrict your access to the Whois database in its sole discretion to ensure
operational stability.  VeriSign may restrict or terminate your access to the
Whois database for failure to abide by these terms of use. VeriSign
reserves the right to modify these terms at any time.

The Registry database contains ONLY .COM, .NET, .EDU domains and
Registrars."""

VERISIGN_CC_TERMS = """\
NOTICE: The expiration date displayed in this record is the date the
registrar's sponsorship of the domain name registration in the registry is
currently set to expire. This date does not necessarily reflect the
expiration date of the domain name registrant's agreement with the
sponsoring registrar.  Users may consult the sponsoring registrar's
Whois database to view the registrar's reported date of expiration
for this registration.

TERMS OF USE: You are not authorized to access or query our Whois
database through the use of electronic processes that are high-volume and
automated except as reasonably necessary to register domain names or
modify existing registrations; the Data in VeriSign's ("VeriSign") Whois
database is provided by VeriSign for information purposes only, and to
assist persons in obtaining information about or related to a domain name
registration record. VeriSign does not guarantee its accuracy.
By submitting a Whois query, you agree to abide by the following terms of
use: You agree that you may use this Data only for lawful purposes and that
under no circumstances will you use this Data to: (1) allow, enable, or
otherwise support the transmission of mass unsolicited, commercial
advertising or solicitations via e-mail, telephone, or facsimile; or
(2) enable high volume, automated, electronic processes that apply to
VeriSign (or its computer systems). The compilation, repackaging,
dissemination or other use of this Data is expressly prohibited without
the prior written consent of VeriSign. You agree not to use electronic
processes that are automated and high-volume to access or query the
Whois database except as reasonably necessary to register domain names
or modify existing registrations. VeriSign reserves the right to restrict
your access to the Whois database in its sole discretion to ensure
operational stability.  VeriSign may restrict or terminate your access to the
Whois database for failure to abide by these terms of use. VeriSign
reserves the right to modify these terms at any time."""

PIR_TERMS = """\
Terms of Use: Access to Public Interest Registry WHOIS information is provided to assist persons in determining the contents of a domain name registration record in the Public Interest Registry registry database. The data in this record is provided by Public Interest Registry for informational purposes only, and Public Interest Registry does not guarantee its accuracy. This service is intended only for query-based access. You agree that you will use this data only for lawful purposes and that, under no circumstances will you use this data to (a) allow, enable, or otherwise support the transmission by e-mail, telephone, or facsimile of mass unsolicited, commercial advertising or solicitations to entities other than the data recipient's own existing customers; or (b) enable high volume, automated, electronic processes that send queries or data to the systems of Registry Operator, a Registrar, or Identity Digital except as reasonably necessary to register domain names or modify existing registrations. All rights reserved. Public Interest Registry reserves the right to modify these terms at any time. By submitting this query, you agree to abide by this policy.  The Registrar of Record identified in this output may have an RDDS service that can be queried for additional information on how to contact the Registrant, Admin, or Tech contact of the queried domain name."""

IDENTITY_DIGITAL_TERMS = """\
Terms of Use: Access to WHOIS information is provided to assist persons in determining the contents of a domain name registration record in the registry database. The data in this record is provided by Identity Digital or the Registry Operator for informational purposes only, and accuracy is not guaranteed. This service is intended only for query-based access. You agree that you will use this data only for lawful purposes and that, under no circumstances will you use this data to (a) allow, enable, or otherwise support the transmission by e-mail, telephone, or facsimile of mass unsolicited, commercial advertising or solicitations to entities other than the data recipient's own existing customers; or (b) enable high volume, automated, electronic processes that send queries or data to the systems of Registry Operator, a Registrar, or Identity Digital except as reasonably necessary to register domain names or modify existing registrations. When using the Whois service, please consider the following: The Whois service is not a replacement for standard EPP commands to the SRS service. Whois is not considered authoritative for registered domain objects. The Whois service may be scheduled for downtime during production or OT&E maintenance periods. Queries to the Whois services are throttled. If too many queries are received from a single IP address within a specified time, the service will begin to reject further queries for a period of time to prevent disruption of Whois service access. Abuse of the Whois system through data mining is mitigated by detecting and limiting bulk query access from single sources. Where applicable, the presence of a [Non-Public Data] tag indicates that such data is not made publicly available due to applicable data privacy laws or requirements. Should you wish to contact the registrant, please refer to the Whois records available through the registrar URL listed above. Access to non-public data may be provided, upon request, where it can be reasonably confirmed that the requester holds a specific legitimate interest and a proper legal basis for accessing the withheld data. Access to this data provided by Identity Digital can be requested by submitting a request via the form found at https://www.identity.digital/about/policies/whois-layered-access/. The Registrar of Record identified in this output may have an RDDS service that can be queried for additional information on how to contact the Registrant, Admin, or Tech contact of the queried domain name. Identity Digital Inc. and Registry Operator reserve the right to modify these terms at any time. By submitting this query, you agree to abide by this policy."""

CENTRALNIC_TERMS = """\
>>> IMPORTANT INFORMATION ABOUT THE DEPLOYMENT OF RDAP: please visit
https://www.centralnicregistry.com/support/information/rdap <<<

The registration data available in this service is limited. Additional
data may be available at https://lookup.icann.org

The Whois and RDAP services are provided by CentralNic, and contain
information pertaining to Internet domain names registered by our
our customers. By using this service you are agreeing (1) not to use any
information presented here for any purpose other than determining
ownership of domain names, (2) not to store or reproduce this data in
any way, (3) not to use any high-volume, automated, electronic processes
to obtain data from this service. Abuse of this service is monitored and
actions in contravention of these terms will result in being permanently
blacklisted. All data is (c) CentralNic Ltd (https://www.centralnicregistry.com)

Access to the Whois and RDAP services is rate limited. For more
information, visit https://centralnicregistry.com/policies/whois-guidance."""

IIS_HEADER = """\
# Copyright (c) 1997- The Swedish Internet Foundation.
# All rights reserved.
# The information obtained through searches, or otherwise, is protected
# by the Swedish Copyright Act (1960:729) and international conventions.
# It is also subject to database protection according to the Swedish
# Copyright Act.
# Any use of this material to target advertising or
# similar activities is forbidden and will be prosecuted.
# If any of the information below is transferred to a third
# party, it must be done in its entirety. This server must
# not be used as a backend for a search engine.
# Result of search for registered domain names under
# the .se top level domain.
# This whois printout is printed with UTF-8 encoding.
#
"""

RU_HEADER = """\
% By submitting a query to RIPN's Whois Service
% you agree to abide by the following terms of use:
% http://www.ripn.net/about/servpol.html#3.2 (in Russian)
% http://www.ripn.net/about/en/servpol.html#3.2 (in English)."""

ICANN_REGISTRAR_TERMS = """\
The Data in {registrar}'s WHOIS database is provided by {registrar} for
information purposes, and to assist persons in obtaining information about or
related to a domain name registration record. {registrar} does not guarantee
its accuracy. By submitting a WHOIS query, you agree that you will use this Data
only for lawful purposes and that, under no circumstances will you use this Data to:
 (1) allow, enable, or otherwise support the transmission of mass unsolicited,
     commercial advertising or solicitations via e-mail (spam); or
 (2) enable high volume, automated, electronic processes that apply to
     {registrar} (or its systems).
{registrar} reserves the right to modify these terms at any time.
By submitting this query, you agree to abide by this policy.

For more information on Whois status codes, please visit
 https://www.icann.org/resources/pages/epp-status-codes-2014-06-16-en"""
