"""WhoisService: the IANA referral, each registry format, the registrar's full record, faults."""

from __future__ import annotations

import asyncio
import re
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.sandbox.whois import FOUND, WhoisService, garbage
from collector.sandbox.world import World, load_world

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "whois"

REGISTRIES = [
    ("com", "whois.verisign-grs.com", "verisign", True),
    ("org", "whois.pir.org", "pir", False),
    ("kr", "whois.kr", "kr", False),
    ("to", "whois.tonic.to", "tonic", False),
    ("ru", "whois.tcinet.ru", "ru", False),
    ("se", "whois.iis.se", "iis", False),
    ("io", "whois.nic.io", "nicio", False),
    ("me", "whois.nic.me", "nicme", False),
    ("xyz", "whois.nic.xyz", "centralnic", False),
]

REGISTRATION = """
[registration]
registrar = "NameCheap, Inc."
created = "2023-04-02T10:11:12Z"
updated = "2025-03-01T08:00:00Z"
expires = "2026-04-02T10:11:12Z"
status = {status}
nameservers = ["ns1.example-dns.net", "ns2.example-dns.net"]
registrant_org = "{org}"
registrant_country = "IS"
redacted = {redacted}
"""


def build_world(root: Path, latency_ms: float = 0) -> World:
    (root / "domains").mkdir(parents=True)
    (root / "world.toml").write_text(f'[world]\nname = "w"\n[latency]\nwhois = {latency_ms}\n')
    (root / "registries.toml").write_text("".join(
        f'[[registry]]\ntlds = ["{tld}"]\noperator = "Registry of .{tld}"\nwhois_server = "{server}"\n'
        f'whois_format = "{fmt}"\nthin = {str(thin).lower()}\n\n' for tld, server, fmt, thin in REGISTRIES))
    (root / "registrars.toml").write_text(textwrap.dedent("""
        [[registrar]]
        name = "NameCheap, Inc."
        iana_id = 1068
        url = "http://www.namecheap.com"
        whois_server = "whois.namecheap.com"
        rdap_base = "https://rdap.namecheap.com/"
        abuse_email = "abuse@namecheap.com"
        abuse_phone = "+1.6613102107"
        country = "US"
    """))
    for tld, *_ in REGISTRIES:
        (root / "domains" / f"pirate.{tld}.toml").write_text(REGISTRATION.format(
            status='["clientTransferProhibited"]', org="Privacy service provided by Withheld for Privacy ehf",
            redacted="true"))
    (root / "domains" / "open.com.toml").write_text(REGISTRATION.format(
        status='["serverDeleteProhibited", "serverTransferProhibited", "serverUpdateProhibited"]',
        org="Open Media Ltd", redacted="false"))
    for fault in ("throttled", "malformed", "timeout"):
        (root / "domains" / f"{fault}.org.toml").write_text(
            REGISTRATION.format(status="[]", org="X", redacted="true") + f'[faults]\nwhois = "{fault}"\n')
    (root / "domains" / "unregistered.com.toml").write_text('[dns]\n"@" = { A = ["185.212.41.7"] }\n')
    return load_world(root)


@pytest.fixture
def service(tmp_path: Path) -> WhoisService:
    svc = WhoisService(build_world(tmp_path))
    svc.clock = lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return svc


def ask(service: WhoisService, server: str, query: str) -> str:
    answer = asyncio.run(service.answer(server, query))
    assert answer is not None
    return answer.decode("utf-8")


def fields(text: str) -> dict[str, list[str]]:
    """``Key: value`` lines (any indentation), the way simple WHOIS parsers read them."""
    out: dict[str, list[str]] = {}
    for key, value in re.findall(r"^[ \t]*([A-Za-z][\w /()-]*?)[ \t]*:[ \t]*(.*?)[ \t]*$", text, re.M):
        out.setdefault(key.lower(), []).append(value)
    return out


def test_hosts(service: WhoisService) -> None:
    assert service.hosts() == {"whois.iana.org", "whois.namecheap.com", *(s for _, s, _, _ in REGISTRIES)}


def test_iana_refers_to_the_registry(service: WhoisService) -> None:
    text = ask(service, "whois.iana.org", "pirate.com")
    assert re.search(r"^refer:\s+whois\.verisign-grs\.com$", text, re.M)
    assert re.search(r"^domain:\s+COM$", text, re.M) and "organisation: Registry of .com" in text
    assert re.search(r"^whois:\s+whois\.verisign-grs\.com$", text, re.M)
    assert "refer:" not in ask(service, "whois.iana.org", "example.unknowntld")
    assert "refer:        whois.kr" in ask(service, "whois.iana.org", "kr")


def test_thin_verisign_points_to_the_registrar(service: WhoisService) -> None:
    text = ask(service, "whois.verisign-grs.com", "PIRATE.COM")
    f = fields(text)
    assert text.startswith("   Domain Name: PIRATE.COM\n")
    assert f["registrar whois server"] == ["whois.namecheap.com"]
    assert f["registrar url"] == ["http://www.namecheap.com"]
    assert f["registrar iana id"] == ["1068"] and f["registrar"] == ["NameCheap, Inc."]
    assert f["registrar abuse contact email"] == ["abuse@namecheap.com"]
    assert f["creation date"] == ["2023-04-02T10:11:12Z"] and f["registry expiry date"] == ["2026-04-02T10:11:12Z"]
    assert f["name server"] == ["NS1.EXAMPLE-DNS.NET", "NS2.EXAMPLE-DNS.NET"]
    assert f["dnssec"] == ["unsigned"]
    assert f["domain status"] == ["clientTransferProhibited https://icann.org/epp#clientTransferProhibited"]
    assert "registrant organization" not in f  # thin
    assert ">>> Last update of whois database: 2026-01-02T03:04:05Z <<<" in text
    assert text.rstrip().endswith("The Registry database contains ONLY .COM, .NET, .EDU domains and\nRegistrars.")


def test_registrar_gives_the_full_record(service: WhoisService) -> None:
    f = fields(ask(service, "whois.namecheap.com", "pirate.com"))
    assert f["registrant organization"] == ["Privacy service provided by Withheld for Privacy ehf"]
    assert f["registrant country"] == ["IS"]
    assert f["registrant name"] == ["REDACTED FOR PRIVACY"]
    assert f["registrar registration expiration date"] == ["2026-04-02T10:11:12Z"]
    assert f["registrar abuse contact phone"] == ["+1.6613102107"]
    assert f["registry domain id"][0].endswith("_DOMAIN_COM-VRSN")
    opened = fields(ask(service, "whois.namecheap.com", "open.com"))
    assert opened["registrant name"] == ["Open Media Ltd"] and "REDACTED" not in str(opened)
    assert ask(service, "whois.namecheap.com", "nope.com").strip() == "Domain 'nope.com' not found"


def test_every_registry_format_round_trips(service: WhoisService) -> None:
    for tld, server, fmt, _ in REGISTRIES:
        text = ask(service, server, f"pirate.{tld}")
        assert "pirate" in text.lower(), fmt
        f = fields(text)
        if fmt in ("verisign", "pir", "nicio", "nicme", "centralnic"):
            assert f["registrar"] == ["NameCheap, Inc."], fmt
            assert f["registrar iana id"] == ["1068"], fmt
            assert f["registrar abuse contact email"] == ["abuse@namecheap.com"], fmt
            assert len(f["name server"]) == 2, fmt
            assert f["dnssec"] == ["unsigned"], fmt
    io = fields(ask(service, "whois.nic.io", "pirate.io"))
    assert io["registrant organization"] == ["Privacy service provided by Withheld for Privacy ehf"]
    assert io["registrant country"] == ["IS"] and io["registrant email"] == ["REDACTED"]
    assert fields(ask(service, "whois.nic.xyz", "pirate.xyz"))["creation date"] == ["2023-04-02T10:11:12.0Z"]


def test_kr_korean_and_english_blocks(service: WhoisService) -> None:
    text = ask(service, "whois.kr", "pirate.kr")
    assert text.startswith("query : pirate.kr\n") and "# KOREAN(UTF8)" in text and "# ENGLISH" in text
    assert "도메인이름                  : pirate.kr" in text  # aligned on display width like KISA
    f = fields(text.split("# ENGLISH")[1])
    assert f["domain name"] == ["pirate.kr"] and f["registered date"] == ["2023. 04. 02."]
    assert f["authorized agency"] == ["NameCheap, Inc.(http://www.namecheap.com)"]
    assert f["publishes"] == ["N"] and f["host name"] == ["ns1.example-dns.net", "ns2.example-dns.net"]


def test_small_registry_formats(service: WhoisService) -> None:
    assert ask(service, "whois.tonic.to", "pirate.to") == (
        "Tonic whoisd V1.1\npirate ns1.example-dns.net\npirate ns2.example-dns.net\n")
    ru = fields(ask(service, "whois.tcinet.ru", "pirate.ru"))
    assert ru["domain"] == ["PIRATE.RU"] and ru["nserver"] == ["ns1.example-dns.net.", "ns2.example-dns.net."]
    assert ru["person"] == ["Private Person"] and ru["paid-till"] == ["2026-04-02T10:11:12Z"]
    assert ru["state"] == ["REGISTERED, DELEGATED, UNVERIFIED"] and ru["source"] == ["TCI"]
    se = fields(ask(service, "whois.iis.se", "pirate.se"))
    assert se["domain"] == ["pirate.se"] and se["state"] == ["active"] and se["expires"] == ["2026-04-02"]
    assert se["registrar"] == ["NameCheap, Inc."] and se["dnssec"] == ["unsigned delegation"]


def test_registry_lock_banner(service: WhoisService, tmp_path: Path) -> None:
    assert "Registry Lock" not in ask(service, "whois.pir.org", "pirate.org")


@pytest.mark.parametrize(("server", "query", "sample"), [
    ("whois.pir.org", "nothere.org", "whois.pir.org/org/not-found/not_found.txt"),
    ("whois.nic.me", "nothere.me", "whois.nic.me/me/not-found/not_found.txt"),
    ("whois.nic.xyz", "nothere.xyz", "whois.nic.xyz/xyz/not-found/not_found.txt"),
])
def test_not_found_wording_matches_real_samples(service: WhoisService, server: str, query: str,
                                                sample: str) -> None:
    if not (DATA / sample).is_file():
        pytest.skip("shared samples not present")
    assert ask(service, server, query).strip() == (DATA / sample).read_text().strip()


def test_not_found_wordings(service: WhoisService) -> None:
    assert ask(service, "whois.verisign-grs.com", "nothere.com").startswith('No match for "NOTHERE.COM".\n>>> ')
    assert ask(service, "whois.verisign-grs.com", "unregistered.com").startswith('No match for "UNREGISTERED.COM"')
    assert ask(service, "whois.tonic.to", "nothere.to") == "Tonic whoisd V1.1\nNo match for nothere\n"
    assert "No entries found for the selected source(s)." in ask(service, "whois.tcinet.ru", "nothere.ru")
    assert 'domain "nothere.se" not found.' in ask(service, "whois.iis.se", "nothere.se")
    assert ask(service, "whois.nic.io", "nothere.io").startswith("Domain not found.\n")
    kr = ask(service, "whois.kr", "nothere.kr")
    assert "The requested domain was not found in the Registry or Registrar\u2019s WHOIS Server." in kr
    # a registry only knows its own TLDs
    assert ask(service, "whois.pir.org", "pirate.com").strip() == "NOT FOUND"


def test_faults(service: WhoisService) -> None:
    assert ask(service, "whois.pir.org", "throttled.org").strip() == \
        "WHOIS LIMIT EXCEEDED - SEE WWW.PIR.ORG/WHOIS FOR DETAILS"
    junk = asyncio.run(service.answer("whois.pir.org", "malformed.org"))
    assert junk is not None and b":" not in junk and junk == garbage("malformed.org")
    assert not fields(junk.decode("utf-8", "replace"))
    service.stall_seconds = 0.05
    assert asyncio.run(service.answer("whois.pir.org", "timeout.org")) is None

    async def stalls() -> None:
        service.stall_seconds = 3600
        await asyncio.wait_for(service.answer("whois.pir.org", "timeout.org"), 0.2)

    with pytest.raises(TimeoutError):
        asyncio.run(stalls())
    # faults follow the domain to the registrar's server, but IANA still refers
    assert ask(service, "whois.namecheap.com", "throttled.org").startswith("WHOIS LIMIT EXCEEDED")
    assert "refer:" in ask(service, "whois.iana.org", "throttled.org")


def test_latency(tmp_path: Path) -> None:
    service = WhoisService(build_world(tmp_path, latency_ms=150))

    async def many() -> float:
        start = time.monotonic()
        await asyncio.gather(*(service.answer("whois.pir.org", "pirate.org") for _ in range(10)))
        return time.monotonic() - start

    assert 0.15 <= asyncio.run(many()) < 1.0


def test_query_flags_are_stripped(service: WhoisService) -> None:
    assert "PIRATE.COM" in ask(service, "whois.verisign-grs.com", "domain pirate.com\r\n")
    assert "PIRATE.COM" in ask(service, "whois.verisign-grs.com", "=pirate.com")


def test_all_formats_are_covered() -> None:
    assert set(FOUND) == {fmt for _, _, fmt, _ in REGISTRIES} | {"icann"}
