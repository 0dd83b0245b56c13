"""enrich.cdn: the CDN file (config/enrich/cdn.toml) and how providers are recognised."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrich.cdn import DEFAULT_CDN_FILE, CdnList, CdnListError


@pytest.fixture(scope="module")
def cdn() -> CdnList:
    return CdnList.load()


def test_cdn_file_lists_the_providers(cdn: CdnList) -> None:
    names = {p.name for p in cdn.providers}
    for wanted in ("Cloudflare", "Akamai", "Fastly", "Amazon CloudFront", "Google Cloud CDN",
                   "Azure Front Door", "DDoS-Guard", "StackPath/Highwinds", "Imperva/Incapsula",
                   "Sucuri", "BunnyCDN", "CDN77", "G-Core Labs", "Qrator", "StormWall",
                   "Edgio/Limelight", "QUIC.cloud", "ArvanCloud"):
        assert wanted in names
    assert any("Tencent" in n for n in names) and any("Alibaba" in n for n in names)
    for p in cdn.providers:
        assert p.asns or p.cidrs or p.cnames or p.nameservers, p.name
    assert CdnList.load(DEFAULT_CDN_FILE).providers == cdn.providers


def test_cdn_match_by_asn_and_cidr(cdn: CdnList) -> None:
    assert cdn.match(asn=13335) == "Cloudflare"
    assert cdn.match(asn=209242) == "Cloudflare"
    assert cdn.match(asn=20940) == "Akamai"
    assert cdn.match(asn=54113) == "Fastly"
    assert cdn.match(asn=57724) == "DDoS-Guard"
    assert cdn.match(asn=262254) == "DDoS-Guard"
    assert cdn.match(asn=200449) == "Qrator"
    assert cdn.match(asn=59796) == "StormWall"
    assert cdn.match(asn=16509) is None  # Amazon's shared ASN is not CloudFront
    assert cdn.match(asn=24940) is None
    assert cdn.match(ip="104.16.1.1") == "Cloudflare"
    assert cdn.match(ip="2606:4700:3030::1") == "Cloudflare"
    assert cdn.match(ip="::ffff:104.16.1.1") == "Cloudflare"
    assert cdn.match(ip="151.101.1.1") == "Fastly"
    assert cdn.match(ip="52.84.10.10") == "Amazon CloudFront"
    assert cdn.match(ip="88.198.1.1") is None
    assert cdn.match(ip="not an address") is None
    assert cdn.match() is None


def test_cdn_match_by_names(cdn: CdnList) -> None:
    assert cdn.match(cnames=["example.com.cdn.cloudflare.net."]) == "Cloudflare"
    assert cdn.match(cnames=["e1234.a.AKAMAIEDGE.net"]) == "Akamai"
    assert cdn.match(cnames=["www.example.com.edgekey.net"]) == "Akamai"
    assert cdn.match(cnames=["x.edgesuite.net"]) == "Akamai"
    assert cdn.match(cnames=["dualstack.x.global.fastly.net"]) == "Fastly"
    assert cdn.match(cnames=["d111111abcdef8.cloudfront.net"]) == "Amazon CloudFront"
    assert cdn.match(cnames=["site.azureedge.net"]) == "Azure Front Door"
    assert cdn.match(cnames=["zone.b-cdn.net"]) == "BunnyCDN"
    assert cdn.match(cnames=["abc.x.incapdns.net"]) == "Imperva/Incapsula"
    assert cdn.match(nameservers=["elsa.ns.cloudflare.com."]) == "Cloudflare"
    assert cdn.match(nameservers=["ns1.ddos-guard.net"]) == "DDoS-Guard"
    assert cdn.match(as_name="CLOUDFLARENET - Cloudflare, Inc., US") == "Cloudflare"
    # look-alikes do not match: suffixes match on label boundaries only
    assert cdn.match(cnames=["notcloudflare.net", "cdn.cloudflare.net.evil.example"]) is None
    assert cdn.match(cnames=["xcloudfront.net", "fastly.net.example.org"]) is None
    assert cdn.match(nameservers=["ns.notcloudflare.com", "ns.cloudflare.com.example"]) is None
    assert cdn.match(as_name="CLOUDFLARENETWORKS") is None
    assert cdn.match(cnames=[""], nameservers=["."]) is None


def test_cdn_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "cdn.toml"
    for text, words in [('[[provider]]\nname = "X"\nasns = ["13335"]\n', "asns"),
                        ('[[provider]]\nname = "X"\ncidrs = ["1.2.3.4/33"]\n', "bad CIDR"),
                        ('[[provider]]\nasns = [1]\n', "name"),
                        ('[[provider]]\nname = "X"\ncname = ["a.net"]\n', "unknown keys"),
                        ("[[provider]\n", "cdn.toml")]:
        bad.write_text(text)
        with pytest.raises(CdnListError) as info:
            CdnList.load(bad)
        assert words in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(CdnListError):
        CdnList.load(tmp_path / "missing.toml")
