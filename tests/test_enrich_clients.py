"""The network clients of enrichment (transport, RDAP, WHOIS, TLS) against the sandbox world,
plus unit tests of the HTTP reader against tiny servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from helpers.enrich_servers import http_routes, local_server, run

from enrich.rdap_client import (
    DEFAULT_BOOTSTRAP,
    Bootstrap,
    BootstrapError,
    RdapClient,
    fetch_bootstrap,
    retry_after_seconds,
)
from enrich.rdap_parse import parse_rdap_domain
from enrich.registration import is_placeholder
from enrich.tls_probe import CertError, CertInfo, fetch_certificate
from enrich.transport import TransportError, http_get, open_connection, ssl_context
from enrich.whois_client import WhoisClient, decode_whois, referral_from_iana
from enrich.whois_parse import parse_whois

NO_RDAP_TLDS = ("kr", "to", "ru", "io", "se", "me")
"""TLDs without an RDAP service in the 2022 bootstrap snapshot (../shared/data/README.md)."""




def rdap_client(sandbox, **kwargs) -> RdapClient:
    options = {"proxy": sandbox.proxy_url, "tls_context": ssl_context(str(sandbox.ca_path)),
               "timeout": 10.0, "bootstrap": Bootstrap.load(), "per_host": (4, 100.0)}
    options.update(kwargs)
    return RdapClient(**options)


def whois_client(sandbox, **kwargs) -> WhoisClient:
    options = {"proxy": sandbox.proxy_url, "timeout": 10.0, "per_server": (4, 100.0)}
    options.update(kwargs)
    return WhoisClient(**options)


def registered(sandbox, tld: str) -> list[str]:
    """The world's registered domains of ``tld`` without RDAP or WHOIS faults."""
    return sorted(d.name for d in sandbox.world.domains.values()
                  if d.tld == tld and d.registration is not None
                  and not d.faults.rdap and not d.faults.whois)


def forget_429(sandbox, name: str) -> None:
    """Let the sandbox answer its one 429 for ``name`` again (its state is per session)."""
    async def forget() -> None:
        sandbox.running.rdap.rate_limited.discard(name)
    asyncio.run_coroutine_threadsafe(forget(), sandbox.loop).result(5)


# -- tiny local servers ------------------------------------------------------------------------------







def json_reply(status: int, obj: object, extra: str = "") -> bytes:
    body = json.dumps(obj).encode()
    return (f"HTTP/1.1 {status} X\r\nContent-Type: application/rdap+json\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


# -- transport: http_get ---------------------------------------------------------------------------


def test_http_get_decodes_chunked_bodies_with_extensions_and_trailers() -> None:
    raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Dup: a\r\nx-dup: b\r\n\r\n"
           b"5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n")

    async def main() -> None:
        async with local_server(http_routes({"/c": raw})) as port:
            r = await http_get(f"http://127.0.0.1:{port}/c", proxy=None, tls_context=None, timeout=5)
        assert (r.status, r.body) == (200, b"hello 0123456789")
        assert r.headers["x-dup"] == "a, b" and r.headers["transfer-encoding"] == "chunked"
        assert r.history == ()
    run(main())


def test_http_get_reads_content_length_and_to_close_bodies() -> None:
    routes = {"/len": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcTRAILING-JUNK",
              "/close": b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 100_000,
              "/continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"}

    async def main() -> None:
        async with local_server(http_routes(routes)) as port:
            base = f"http://127.0.0.1:{port}"
            assert (await http_get(f"{base}/len", proxy=None, tls_context=None, timeout=5)).body == b"abc"
            assert (await http_get(f"{base}/close", proxy=None, tls_context=None,
                                   timeout=5)).body == b"x" * 100_000
            assert (await http_get(f"{base}/continue", proxy=None, tls_context=None,
                                   timeout=5)).status == 204
    run(main())


@pytest.mark.parametrize(("raw", "kind", "words"), [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000, "too_large", "over 1000"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"200\r\n" + b"y" * 512 + b"\r\n"
     + b"300\r\n" + b"y" * 768 + b"\r\n0\r\n\r\n", "too_large", "over 1000"),
    (b"HTTP/1.1 200 OK\r\n\r\n" + b"z" * 5000, "too_large", "over 1000"),
    (b"HTTP/1.1 200 OK\r\n" + b"X-Big: " + b"h" * 70_000 + b"\r\n\r\n", "too_large", "bytes"),
    (b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 300 + b"\r\n", "too_large", "lines"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc", "protocol", "chunk size"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort", "protocol", "ended early"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "protocol", "3 of 10"),
    (b"SSH-2.0-OpenSSH_9.2\r\n", "protocol", "did not answer HTTP"),
    (b"", "protocol", "without answering"),
])
def test_http_get_bounds_and_rejects_bad_responses(raw: bytes, kind: str, words: str) -> None:
    async def main() -> None:
        async with local_server(http_routes({"/": raw})) as port:
            with pytest.raises(TransportError) as caught:
                await http_get(f"http://127.0.0.1:{port}/", proxy=None, tls_context=None,
                               timeout=5, max_bytes=1000)
        assert caught.value.kind == kind
        assert words in str(caught.value) and "\n" not in str(caught.value)
    run(main())


def test_http_get_follows_redirects_up_to_five() -> None:
    def hop(n: int) -> bytes:
        return f"HTTP/1.1 302 Found\r\nLocation: /r{n}\r\nContent-Length: 0\r\n\r\n".encode()

    routes: dict[str, bytes | Callable[[], bytes]] = {f"/r{i}": hop(i + 1) for i in range(10)}
    routes["/r5"] = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone"
    routes["/abs"] = lambda: b""  # replaced below once the port is known

    async def main() -> None:
        async with local_server(http_routes(routes)) as port:
            base = f"http://127.0.0.1:{port}"
            routes["/abs"] = f"HTTP/1.1 301 Moved\r\nLocation: {base}/r5\r\n\r\n".encode()
            r = await http_get(f"{base}/r0", proxy=None, tls_context=None, timeout=5)
            assert (r.status, r.body, r.url) == (200, b"done", f"{base}/r5")
            assert r.history == tuple(f"{base}/r{i}" for i in range(5))
            r = await http_get(f"{base}/abs", proxy=None, tls_context=None, timeout=5)
            assert r.body == b"done" and r.history == (f"{base}/abs",)
            routes["/r5"] = hop(6)
            with pytest.raises(TransportError, match="more than 5 redirects"):
                await http_get(f"{base}/r0", proxy=None, tls_context=None, timeout=5)
    run(main())


def test_http_get_times_out_on_a_silent_server() -> None:
    async def main() -> None:
        async with local_server(http_routes({"/": b"STALL"})) as port:
            started = asyncio.get_running_loop().time()
            with pytest.raises(TransportError) as caught:
                await http_get(f"http://127.0.0.1:{port}/", proxy=None, tls_context=None, timeout=0.3)
            assert asyncio.get_running_loop().time() - started < 3
        assert caught.value.kind == "timeout" and "timed out" in str(caught.value)
    run(main())


def test_open_connection_reports_a_refused_port_and_a_non_http_proxy() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"\x00\x01 no http here\r\n")

    async def main() -> None:
        async with local_server(garbage) as port:
            with pytest.raises(TransportError) as caught:
                await open_connection("example.com", 443, proxy=f"http://127.0.0.1:{port}", timeout=5)
            assert caught.value.kind == "proxy"
        with pytest.raises(TransportError) as refused:  # the server is gone: port closed
            await open_connection("127.0.0.1", port, proxy=None, timeout=5)
        assert refused.value.kind == "refused"
    run(main())


# -- transport through the sandbox proxy -------------------------------------------------------------


def test_proxy_refusal_is_one_clean_line(sandbox) -> None:
    async def main() -> None:
        with pytest.raises(TransportError) as caught:
            await open_connection("no-such-host.example", 443, proxy=sandbox.proxy_url, timeout=5)
        message = str(caught.value)
        assert caught.value.kind == "refused" and caught.value.status == 502
        assert "502" in message and "no-such-host.example:443" in message and "\n" not in message
    run(main())


def test_verified_tls_trusts_the_ca_bundle_and_only_with_it(sandbox) -> None:
    url = "https://data.iana.org/rdap/dns.json"

    async def main() -> None:
        r = await http_get(url, proxy=sandbox.proxy_url, tls_context=ssl_context(str(sandbox.ca_path)),
                           timeout=10)
        assert r.status == 200 and json.loads(r.body)["services"]
        with pytest.raises(TransportError) as caught:
            await http_get(url, proxy=sandbox.proxy_url, tls_context=ssl_context(None), timeout=10)
        assert caught.value.kind == "tls" and "not trusted" in str(caught.value)
    run(main())


# -- RDAP bootstrap ------------------------------------------------------------------------------


def test_shipped_bootstrap_is_the_2022_snapshot() -> None:
    bootstrap = Bootstrap.load()
    assert bootstrap.source == str(DEFAULT_BOOTSTRAP)
    assert bootstrap.publication == "2022-07-06T16:00:02Z"
    assert bootstrap.base_urls("Example.COM.") == ["https://rdap.verisign.com/com/v1/"]
    assert bootstrap.base_urls("a.b.example.org") == ["https://rdap.publicinterestregistry.org/rdap/"]
    for tld in NO_RDAP_TLDS:
        assert bootstrap.base_urls(f"example.{tld}") == [], tld


def test_bootstrap_longest_suffix_https_first_and_round_trip(tmp_path: Path) -> None:
    doc = {"version": "1.0", "publication": "2024-01-01T00:00:00Z", "services": [
        [["uk"], ["http://rdap.uk.example/", "https://rdap.uk.example/"]],
        [["co.uk"], ["https://rdap.co-uk.example/"]],
        [["xn--p1ai"], ["https://rdap.rf.example/"]],
    ]}
    bootstrap = Bootstrap(doc)
    assert bootstrap.base_urls("shop.example.co.uk") == ["https://rdap.co-uk.example/"]
    assert bootstrap.base_urls("example.org.uk") == ["https://rdap.uk.example/", "http://rdap.uk.example/"]
    assert bootstrap.base_urls("пример.рф") == ["https://rdap.rf.example/"]
    assert bootstrap.base_urls("example.nowhere") == []
    bootstrap.save(tmp_path / "dns.json")
    assert Bootstrap.load(tmp_path / "dns.json").doc == doc
    (tmp_path / "bad.json").write_text('{"services": "nope"}')
    with pytest.raises(BootstrapError, match="services"):
        Bootstrap.load(tmp_path / "bad.json")
    with pytest.raises(BootstrapError, match="cannot read"):
        Bootstrap.load(tmp_path / "missing.json")


def test_fetch_bootstrap_from_the_sandbox_agrees_with_the_snapshot(sandbox) -> None:
    doc = run(fetch_bootstrap(proxy=sandbox.proxy_url, tls_context=ssl_context(str(sandbox.ca_path)),
                              timeout=10))
    live, shipped = Bootstrap(doc), Bootstrap.load()
    for registry in sandbox.world.registries:
        for tld in registry.tlds:
            expected = [registry.rdap_base] if registry.rdap_base else []
            assert live.base_urls(f"x.{tld}") == expected, tld
            assert shipped.base_urls(f"x.{tld}") == expected, tld


# -- RDAP domain lookups -------------------------------------------------------------------------


RDAP_TLDS = ("com", "net", "org", "xyz", "cc", "tv")


def test_rdap_answers_parse_to_the_world_registration(sandbox) -> None:
    client = rdap_client(sandbox)
    names = [name for tld in RDAP_TLDS for name in registered(sandbox, tld)[:2]]
    assert {n.rsplit(".", 1)[1] for n in names} == set(RDAP_TLDS)

    async def main():
        return await asyncio.gather(*(client.domain(n) for n in names))

    for name, answer in zip(names, run(main()), strict=True):
        truth = sandbox.world.domains[name].registration
        assert (answer.status, answer.http_status, answer.queries, answer.error) == ("ok", 200, 1, None), name
        assert answer.url and answer.url.endswith(f"/domain/{name}")
        reg = parse_rdap_domain(answer.data, name)
        assert reg.status == "found", (name, reg.error)
        assert reg.registrar == truth.registrar
        assert (reg.created, reg.expires) == (truth.created, truth.expires)
    expected = Counter(urlsplit(client.domain_url(n) or "").hostname for n in names)
    assert client.sent == expected and sum(client.sent.values()) == len(names)
    assert client.sent["rdap.verisign.com"] == 4  # .com and .net, two each
    assert set(client._limiters) == set(client.sent)  # one limiter per RDAP host


def test_rdap_unknown_domain_is_not_found_with_its_error_object(sandbox) -> None:
    answer = run(rdap_client(sandbox).domain("never-registered-here.com"))
    assert (answer.status, answer.http_status, answer.error) == ("not_found", 404, None)
    assert answer.data is not None and answer.data.get("errorCode") == 404
    assert parse_rdap_domain(answer.data, "never-registered-here.com").status == "not_found"


@pytest.mark.parametrize("tld", NO_RDAP_TLDS)
def test_rdap_tlds_without_service_are_no_rdap(sandbox, tld: str) -> None:
    client = rdap_client(sandbox)
    name = (registered(sandbox, tld) or [f"example.{tld}"])[0]
    answer = run(client.domain(name))
    assert (answer.status, answer.queries, answer.data) == ("no_rdap", 0, None)
    assert f".{tld}" in (answer.error or "") and not client.sent


@pytest.mark.parametrize("name", ["vidtape.xyz", "ddalgitoon102.com"])
def test_rdap_429_is_retried_after_retry_after(sandbox, name: str) -> None:
    domain = sandbox.world.domains[name]
    assert domain.faults.rdap == "429"
    forget_429(sandbox, name)
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    client = rdap_client(sandbox, sleep=fake_sleep)
    answer = run(client.domain(name))
    assert (answer.status, answer.http_status, answer.queries) == ("ok", 200, 2)
    assert slept == [float(domain.faults.retry_after)]
    reg = parse_rdap_domain(answer.data, name)
    assert reg.registrar == domain.registration.registrar and reg.created == domain.registration.created
    host = client.waits[0][0]
    assert client.sent[host] == 2


def test_rdap_429_without_retries_left_is_throttled(sandbox) -> None:
    forget_429(sandbox, "vidtape.xyz")

    async def no_sleep(seconds: float) -> None:
        raise AssertionError("must not wait when no retry is left")

    answer = run(rdap_client(sandbox, max_retries=0, sleep=no_sleep).domain("vidtape.xyz"))
    assert (answer.status, answer.http_status, answer.queries) == ("throttled", 429, 1)
    assert answer.data is not None and answer.data["errorCode"] == 429


def test_retry_after_values() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90.0
    assert retry_after_seconds(format_datetime(now - timedelta(days=1), usegmt=True), now) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_rdap_client_against_a_misbehaving_local_server() -> None:
    """Faults the default world does not have: bad JSON, 500, HTTP-date Retry-After (capped),
    429 forever, a stall, a redirect to another host name."""
    tries: dict[str, int] = {}

    def throttled_once() -> bytes:
        tries["once"] = tries.get("once", 0) + 1
        if tries["once"] == 1:
            when = format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
            return json_reply(429, {"errorCode": 429}, f"Retry-After: {when}\r\n")
        return json_reply(200, {"objectClassName": "domain", "ldhName": "once.test"})

    routes: dict[str, bytes | Callable[[], bytes]] = {
        "/domain/bad.test": b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{\"ldhName",
        "/domain/list.test": json_reply(200, [1, 2]),
        "/domain/broken.test": json_reply(500, {"errorCode": 500, "title": "oops"}),
        "/domain/once.test": throttled_once,
        "/domain/always.test": json_reply(429, {"errorCode": 429}),
        "/domain/slow.test": b"STALL",
    }
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    async def main() -> None:
        async with local_server(http_routes(routes)) as port:
            base = f"http://127.0.0.1:{port}/"
            routes["/domain/moved.test"] = (f"HTTP/1.1 301 Moved\r\nLocation: http://localhost:{port}"
                                            "/domain/bad.test\r\nContent-Length: 0\r\n\r\n").encode()
            bootstrap = Bootstrap({"services": [[["test"], [base]]]})
            client = RdapClient(proxy=None, tls_context=None, timeout=0.5, bootstrap=bootstrap,
                                per_host=(2, 0), max_retries=2, max_retry_wait=5.0, sleep=fake_sleep)
            bad = await client.domain("bad.test")
            assert (bad.status, bad.http_status, bad.data) == ("malformed", 200, None)
            assert "invalid JSON" in (bad.error or "")
            assert (await client.domain("list.test")).status == "malformed"
            broken = await client.domain("broken.test")
            assert (broken.status, broken.http_status) == ("error", 500)
            assert broken.data == {"errorCode": 500, "title": "oops"}
            once = await client.domain("once.test")
            assert (once.status, once.queries) == ("ok", 2) and slept == [5.0]  # 2 h capped at 5 s
            always = await client.domain("always.test")
            assert (always.status, always.queries) == ("throttled", 3)
            assert slept[1:] == [1.0, 2.0]  # no Retry-After: exponential back-off
            slow = await client.domain("slow.test")
            assert slow.status == "timeout" and "timed out" in (slow.error or "")
            moved = await client.domain("moved.test")
            assert moved.status == "malformed" and moved.queries == 2
            assert moved.url == f"http://localhost:{port}/domain/bad.test"
            assert client.sent["localhost"] == 1 and client.sent["127.0.0.1"] == 10
    run(main())


# -- WHOIS -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("tld", NO_RDAP_TLDS)
def test_whois_for_tlds_without_rdap_matches_the_world(sandbox, tld: str) -> None:
    name = registered(sandbox, tld)[0]
    truth = sandbox.world.domains[name].registration
    registry = sandbox.world.registry_for(tld)
    client = whois_client(sandbox)
    answer = run(client.query(name))
    assert answer.status == "ok", answer.error
    assert answer.chain[:2] == ("whois.iana.org", registry.whois_server)
    assert client.sent["whois.iana.org"] == 1 and client.sent[registry.whois_server] == 1
    reg = parse_whois(answer.text, name, answer.server or "")
    assert reg.status == "found", reg.error
    assert set(reg.nameservers) == {n.rstrip(".").lower() for n in truth.nameservers}
    if tld == "to":  # Tonic publishes name servers only
        return
    assert reg.created is not None and reg.created.date() == truth.created.date()
    assert reg.expires is not None and reg.expires.date() == truth.expires.date()
    if tld != "ru":  # TCI prints the registrar's handle (REGISTRAROFD-RU), not its name
        assert reg.registrar == truth.registrar


def test_whois_kr_text_is_decoded(sandbox) -> None:
    name = registered(sandbox, "kr")[0]
    answer = run(whois_client(sandbox).query(name))
    truth = sandbox.world.domains[name].registration
    assert truth.registrant_org and not truth.registrant_org.isascii()
    assert truth.registrant_org in answer.text
    assert parse_whois(answer.text, name).registrant_org == truth.registrant_org


def test_decode_whois_falls_back_by_tld() -> None:
    korean = "등록인 : 박정호\n"
    assert decode_whois(korean.encode("utf-8"), "kr") == korean
    assert decode_whois(korean.encode("euc-kr"), "kr") == korean
    assert decode_whois(korean.encode("cp949"), "kr") == korean
    assert decode_whois("Åsa Öberg".encode("latin-1"), "se") == "Åsa Öberg"
    assert decode_whois(b"\xff\xfe\x00junk", "kr") == "\xff\xfe\x00junk"  # latin-1 never fails


@pytest.mark.parametrize("tld", ["com", "net"])
def test_whois_thin_registries_follow_the_registrar_referral(sandbox, tld: str) -> None:
    name = registered(sandbox, tld)[0]
    truth = sandbox.world.domains[name].registration
    registrar = sandbox.world.registrars[truth.registrar]
    registry = sandbox.world.registry_for(tld)
    client = whois_client(sandbox)
    answer = run(client.query(name))
    assert answer.status == "ok" and answer.error is None
    assert answer.chain == ("whois.iana.org", registry.whois_server, registrar.whois_server)
    assert answer.server == registrar.whois_server
    assert [server for server, _ in answer.texts] == [registry.whois_server, registrar.whois_server]
    thin = parse_whois(answer.texts[0][1], name)
    assert thin.referral_server == registrar.whois_server
    reg = parse_whois(answer.text, name, answer.server or "")
    assert reg.status == "found" and reg.registrar == truth.registrar
    assert (reg.created, reg.expires) == (truth.created, truth.expires)
    # only the registrar's answer has the registrant
    assert reg.registrant_country == (truth.registrant_country or None)
    if truth.registrant_org and not is_placeholder(truth.registrant_org):
        assert reg.registrant_org == truth.registrant_org
    assert dict(client.sent) == {"whois.iana.org": 1, registry.whois_server: 1,
                                 registrar.whois_server: 1}


def test_whois_caches_the_tld_server(sandbox) -> None:
    client = whois_client(sandbox)
    names = registered(sandbox, "com")[:3]

    async def main():
        return await asyncio.gather(*(client.query(n) for n in names))

    answers = run(main())
    assert all(a.status == "ok" for a in answers)
    assert client.sent["whois.iana.org"] == 1
    assert client.sent["whois.verisign-grs.com"] == len(names)
    assert sum(a.chain.count("whois.iana.org") for a in answers) == 1


def test_whois_malformed_answer_is_returned_and_parses_as_an_error(sandbox) -> None:
    assert sandbox.world.domains["ddalgitoon101.com"].faults.whois == "malformed"
    answer = run(whois_client(sandbox).query("ddalgitoon101.com"))
    assert answer.status == "ok" and answer.text and answer.server == "whois.verisign-grs.com"
    reg = parse_whois(answer.text, "ddalgitoon101.com", answer.server)
    assert reg.status in ("error", "not_found")


def test_whois_unknown_server_is_refused(sandbox) -> None:
    answer = run(whois_client(sandbox, iana="whois.nowhere.example").query("example.com"))
    assert answer.status == "refused" and answer.chain == ("whois.nowhere.example",)
    assert "502" in (answer.error or "") and "\n" not in (answer.error or "")


def test_whois_timeout_and_referral_parsing_with_a_local_server() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\n")
        await asyncio.sleep(3600)

    async def main() -> None:
        async with local_server(silent) as port:
            client = WhoisClient(proxy=None, timeout=0.3, iana="127.0.0.1", port=port)
            answer = await client.query("example.com")
        assert answer.status == "timeout" and answer.chain == ("127.0.0.1",)
    run(main())
    assert referral_from_iana("domain: COM\nwhois:  whois.verisign-grs.com\n") == "whois.verisign-grs.com"
    assert referral_from_iana("refer: whois.a.example\n\nwhois: whois.b.example\n") == "whois.a.example"
    assert referral_from_iana("% This query returned 0 objects.\n") is None


# -- TLS certificates ------------------------------------------------------------------------------


def test_certificates_of_sandbox_hosts(sandbox) -> None:
    hosts = ["fmovix.xyz", "cinemadispatch.com", "jusoya.kr", "lumenos.org"]
    assert all(sandbox.world.sites[h].https for h in hosts)
    ca = x509.load_pem_x509_certificate(Path(sandbox.ca_path).read_bytes())

    async def main():
        return await asyncio.gather(*(fetch_certificate(h, proxy=sandbox.proxy_url, timeout=10)
                                      for h in hosts))

    certs = run(main())
    assert all(isinstance(c, CertInfo) for c in certs), certs
    for host, cert in zip(hosts, certs, strict=True):
        assert isinstance(cert, CertInfo)
        assert host in cert.san_dns and host in cert.sans and cert.host == host
        assert cert.issuer == ca.subject.rfc4514_string()
        assert len(cert.sha256) == 64 and cert.sha256 == cert.sha256.lower()
        assert cert.not_before.tzinfo is not None and cert.not_before < cert.not_after
        assert int(cert.serial, 16) > 0 and not cert.self_signed
    assert len({c.sha256 for c in certs}) == len(hosts)


def test_certificate_errors_are_one_line(sandbox) -> None:
    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(3600)

    async def main() -> None:
        unknown = await fetch_certificate("no-such-host.example", proxy=sandbox.proxy_url, timeout=5)
        assert isinstance(unknown, CertError) and "502" in unknown.reason
        async with local_server(plain) as port:
            not_tls = await fetch_certificate("127.0.0.1", port, proxy=None, timeout=5)
        assert isinstance(not_tls, CertError) and "TLS" in not_tls.reason
        async with local_server(silent) as port:
            stalled = await fetch_certificate("127.0.0.1", port, proxy=None, timeout=0.3)
        assert isinstance(stalled, CertError) and "timed out" in stalled.reason
        for error in (unknown, not_tls, stalled):
            assert "\n" not in error.reason
    run(main())


def test_clients_take_positional_settings_and_a_rate_override() -> None:
    rdap = RdapClient(None, None, 1.0, Bootstrap({"services": []}), (3, 5.0), per_second=0.5)
    assert (rdap.limiter("h").max_concurrent, rdap.limiter("h").per_second) == (3, 0.5)
    assert rdap.limiter("h") is rdap.limiter("h") and rdap.limiter("h") is not rdap.limiter("i")
    whois = WhoisClient(None, 1.0, per_second=0.25)
    assert whois.limiter("whois.example").per_second == 0.25
