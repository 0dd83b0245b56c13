"""A tiny scripted DNS server on loopback for what the sandbox never does (REFUSED, lame
servers, odd record data, odd Team Cymru answers): answers chosen by the question's name.
Shared by tests/test_dns_lookup.py and tests/test_cymru.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

from collector.sandbox.dns import garble


def rrset(name: str, rtype: str, *values: str) -> dns.rrset.RRset:
    return dns.rrset.from_text_list(name, 300, "IN", rtype, list(values))


def scripted(query: dns.message.Message) -> bytes | None:
    """Answers chosen by the question's name."""
    q = query.question[0]
    name = q.name.to_text().lower()
    response = dns.message.make_response(query)
    response.flags &= ~(dns.flags.AA | dns.flags.RA)
    if name == "refused.fake.":
        response.set_rcode(dns.rcode.REFUSED)
    elif name == "lame.fake.":  # neither authoritative nor recursive
        response.answer.append(rrset(name, "A", "185.212.41.7"))
    elif name == "nxlame.fake.":
        response.set_rcode(dns.rcode.NXDOMAIN)
    elif name == "upward.fake.":  # the classic lame answer: a referral to the root
        response.authority.append(rrset(".", "NS", "a.root-servers.net."))
    elif name == "down.fake.":  # a delegation: an answer for an iterative resolver, not for us
        response.authority.append(rrset("down.fake.", "NS", "ns1.elsewhere.example."))
    elif name == "recursive.fake.":  # a recursive resolver's answer: RA, no AA
        response.flags |= dns.flags.RA
        response.answer.append(rrset(name, "A", "185.212.41.7"))
    elif name == "garbage.fake.":
        return garble(response.to_wire())
    elif name == "values.fake.":
        response.flags |= dns.flags.AA
        data = {
            "TXT": ['"v=spf1 " "-all"', '"caf\\195\\169"', '"\\255\\254ok"'],
            "MX": ["20 MX.Example.NET.", "0 .", "5 b.example.net."],
            "NS": ["NS2.Example.NET.", "ns1.example.net."],
            "AAAA": ["2001:DB8:0:0::1"],
            "SOA": ["NS1.Example.NET. Hostmaster.Example.NET. 7 3600 600 86400 300"],
        }[dns.rdatatype.to_text(q.rdtype)]
        response.answer.append(rrset(name, dns.rdatatype.to_text(q.rdtype), *data))
    elif name.endswith(".origin.asn.cymru.com."):
        response.flags |= dns.flags.AA
        lines = {
            "7.41.212.185.origin.asn.cymru.com.": [
                "209588 | 185.212.40.0/22 | PA | ripencc | 2019-05-14",
                "64501 64502 | 185.212.41.0/24 | GB | ripencc | 2020-01-02",
                "not a cymru line",
                "64999 | 10.0.0.0/8 | ZZ | arin | 2020-01-01"],
            "8.41.212.185.origin.asn.cymru.com.": [
                "AS1 | 185.212.41.0/24 | GB | ripencc | 2020-01-02",
                "64500 | 91.0.0.0/8 | DE | ripencc | 2020-01-02"],
        }.get(name)
        if lines is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        else:
            response.answer.append(rrset(name, "TXT", *(f'"{x}"' for x in lines)))
    elif name == "as64501.asn.cymru.com.":
        response.flags |= dns.flags.AA
        response.answer.append(rrset(name, "TXT", '"64999 | GB | ripencc | 2020-01-02 | WRONG - Wrong, GB"'))
    else:
        response.flags |= dns.flags.AA
        response.set_rcode(dns.rcode.NXDOMAIN)
    return response.to_wire()


class _Scripted(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        wire = scripted(dns.message.from_wire(data))
        if wire is not None:
            self.transport.sendto(wire, addr)  # type: ignore[attr-defined]


def with_scripted_dns(body: Callable[[list[str]], Awaitable[object]]) -> object:
    async def main() -> object:
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            _Scripted, local_addr=("127.0.0.1", 0))
        try:
            return await body([f"127.0.0.1:{transport.get_extra_info('sockname')[1]}"])
        finally:
            transport.close()
    return asyncio.run(main())
