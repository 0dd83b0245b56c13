"""The sandbox's authoritative DNS server: every zone of the world, plus Team Cymru TXT zones.

Two layers:

* :class:`DnsService` is the protocol logic: wire bytes in, wire bytes out (or ``None`` to
  drop the query). It answers authoritatively (AA) for the apex of every domain of the world
  and for ``asn.cymru.com`` (generated from ``world.networks``); any other name gets
  NXDOMAIN with a SOA in the authority section, never REFUSED, so a stub resolver pointed at
  the sandbox simply learns that the name does not exist.
* :func:`start_dns` binds it to UDP and TCP on the same loopback port (:class:`DnsServer`).

Team Cymru formats (see ``docs/SANDBOX.md``)::

    7.41.212.185.origin.asn.cymru.com  TXT "209588 | 185.212.40.0/22 | PA | ripencc | 2019-05-14"
    AS209588.asn.cymru.com             TXT "209588 | PA | ripencc | 2019-05-14 | FLYSERV-AS - Flyservers S.A., PA"

Every network containing the queried address (or the queried reversed prefix: ``41.212.185``
is the /24) answers, most specific first, as the real service does for overlapping
announcements; ipwhois keeps the most specific one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from collector.sandbox.world import Domain, Network, World

TTL = 300
NEGATIVE_TTL = 60
CYMRU_ZONE = "asn.cymru.com"
CYMRU_ORIGIN4 = "origin.asn.cymru.com"
CYMRU_ORIGIN6 = "origin6.asn.cymru.com"
MAX_CNAME_CHAIN = 8
UDP_DEFAULT_PAYLOAD = 512
UDP_BUFFER_BYTES = 4 * 1024 * 1024
SUPPORTED_TYPES = ("A", "AAAA", "CNAME", "NS", "MX", "TXT", "SOA", "SRV", "CAA", "PTR")


@dataclass(frozen=True)
class Zone:
    """An authoritative zone: its apex and the SOA fields synthesised for it."""

    apex: str
    mname: str
    rname: str
    serial: int

    def soa_rrset(self) -> dns.rrset.RRset:
        text = f"{self.mname}. {self.rname}. {self.serial} 7200 3600 1209600 {NEGATIVE_TTL}"
        return _rrset(self.apex, "SOA", [text], NEGATIVE_TTL)


@dataclass
class Lookup:
    """The result of resolving one name inside the world (before it becomes a message)."""

    rcode: int = dns.rcode.NOERROR
    answer: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)


def _rrset(owner: str, rtype: str, values: Iterable[str], ttl: int = TTL) -> dns.rrset.RRset:
    """An RRset from presentation-format values; relative targets are made absolute."""
    name = dns.name.from_text(owner)
    return dns.rrset.from_text_list(name, ttl, dns.rdataclass.IN, rtype,
                                    [_absolute(rtype, v) for v in values])


def _absolute(rtype: str, value: str) -> str:
    """World files may omit the final dot of a target name; DNS needs it absolute."""
    if rtype in ("CNAME", "NS", "PTR") and not value.endswith("."):
        return value + "."
    if rtype == "MX":
        parts = value.split()
        if len(parts) == 2 and not parts[1].endswith("."):
            return f"{parts[0]} {parts[1]}."
    if rtype == "TXT" and not value.startswith('"'):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def _norm(name: str) -> str:
    return name.lower().rstrip(".")


def _parent(name: str) -> str:
    return name.split(".", 1)[1] if "." in name else ""


# -- Team Cymru -------------------------------------------------------------------------------


def cymru_origin_txt(net: Network) -> str:
    """``ASN | CIDR | CC | RIR | allocated`` as Team Cymru's origin zones print it."""
    return f"{net.asn} | {net.network.with_prefixlen} | {net.country} | {net.rir} | {net.allocated}"


def cymru_asn_txt(net: Network) -> str:
    """``ASN | CC | RIR | allocated | AS_NAME - org, CC`` as ``AS<n>.asn.cymru.com`` prints it."""
    return (f"{net.asn} | {net.country} | {net.rir} | {net.allocated} | "
            f"{net.as_name} - {net.org}, {net.country}")


def _reversed_prefix(labels: list[str], version: int) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The prefix spelled by reversed octet (v4) or nibble (v6) labels, or None if invalid."""
    try:
        if version == 4:
            if not 1 <= len(labels) <= 4:
                return None
            if not all(x.isdigit() and int(x) <= 255 for x in labels):
                return None
            octets = [int(x) for x in reversed(labels)]
            padded = octets + [0] * (4 - len(octets))
            return ipaddress.IPv4Network((bytes(padded), 8 * len(octets)))
        if not 1 <= len(labels) <= 32 or any(len(x) != 1 for x in labels):
            return None
        nibbles = "".join(reversed(labels))
        value = int(nibbles, 16) << (4 * (32 - len(nibbles)))
        return ipaddress.IPv6Network((value, 4 * len(nibbles)))
    except ValueError:
        return None


def cymru_origins(networks: Iterable[Network], labels: list[str], version: int) -> list[Network]:
    """Networks answering for a reversed-prefix query, most specific first.

    A network answers when the queried prefix lies inside it. For IPv6, clients such as
    ipwhois strip trailing all-zero groups before reversing, so a query ending on a group
    boundary also matches the network containing its first address.
    """
    prefix = _reversed_prefix(labels, version)
    if prefix is None:
        return []
    nets = [n for n in networks if n.network.version == version]
    found = [n for n in nets if prefix.subnet_of(n.network)]  # type: ignore[arg-type]
    if not found and version == 6 and len(labels) % 4 == 0:
        found = [n for n in nets if prefix.network_address in n.network]
    return sorted(found, key=lambda n: -n.network.prefixlen)


# -- the service -------------------------------------------------------------------------------


class DnsService:
    """Authoritative answers for a :class:`World` (see the module docstring)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.latency = world.latency_ms.get("dns", 0) / 1000.0
        self.records: dict[str, dict[str, tuple[str, ...]]] = {}
        self.zones: dict[str, Zone] = {}
        self.zone_domain: dict[str, Domain] = {}
        self.names: set[str] = set()
        """Every existing owner name, including empty non-terminals."""
        for domain in world.domains.values():
            self._add_zone(domain)
        self.zones[CYMRU_ZONE] = Zone(CYMRU_ZONE, "ns1.cymru.com", "hostmaster.cymru.com", 1)
        self.names.update({CYMRU_ZONE, CYMRU_ORIGIN4, CYMRU_ORIGIN6})
        self.networks = world.networks
        self.asns: dict[int, list[Network]] = {}
        for net in world.networks:
            self.asns.setdefault(net.asn, []).append(net)

    def _add_zone(self, domain: Domain) -> None:
        apex = domain.name
        for owner, rrsets in domain.records.items():
            self.records.setdefault(owner, {}).update(rrsets)
            name = owner
            while name and name != apex and name.endswith("." + apex):
                self.names.add(name)
                name = _parent(name)
        self.names.add(apex)
        apex_records = self.records.setdefault(apex, {})
        reg = domain.registration
        if "NS" not in apex_records:
            servers = reg.nameservers if reg and reg.nameservers else (f"ns1.{apex}", f"ns2.{apex}")
            apex_records["NS"] = tuple(s + "." for s in servers)
        mname = _norm(apex_records["NS"][0])
        serial = int(reg.updated.strftime("%Y%m%d01")) if reg else 1
        self.zones[apex] = Zone(apex, mname, f"hostmaster.{apex}", serial)
        self.zone_domain[apex] = domain

    # -- public -----------------------------------------------------------------------------

    async def answer(self, wire: bytes) -> bytes | None:
        """Answer one DNS message; ``None`` means drop it (no answer at all)."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return _formerr(wire)
        if self.latency:
            await asyncio.sleep(self.latency)
        return self.respond(query)

    def respond(self, query: dns.message.Message, max_size: int = 65535) -> bytes | None:
        """The wire answer to a parsed query (synchronous core of :meth:`answer`)."""
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        response.flags &= ~dns.flags.RA
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
            return response.to_wire()
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        qname = _norm(question.name.to_text())
        fault = self._fault(qname)
        if fault == "timeout":
            return None
        if fault == "malformed":
            return garble(response.to_wire())
        if fault == "servfail":
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        if fault == "nxdomain":
            result = Lookup(dns.rcode.NXDOMAIN, authority=self._negative_soa(qname))
        else:
            result = self.lookup(qname, question.rdtype)
        response.set_rcode(result.rcode)
        response.answer.extend(result.answer)
        response.authority.extend(result.authority)
        return _to_wire(response, max_size)

    def lookup(self, qname: str, rdtype: int) -> Lookup:
        """Resolve ``qname``/``rdtype`` inside the world, following in-world CNAME chains."""
        result = Lookup()
        seen: set[str] = set()
        name = qname
        for _ in range(MAX_CNAME_CHAIN):
            seen.add(name)
            zone = self.zone_of(name)
            if zone is None:
                result.rcode = dns.rcode.NXDOMAIN
                result.authority = self._negative_soa(name)
                return result
            if zone.apex == CYMRU_ZONE:
                step = self._cymru(name, rdtype, zone)
                result.rcode, result.authority = step.rcode, step.authority
                result.answer.extend(step.answer)
                return result
            rrsets = self._rrsets_for(name, zone)
            if rrsets is None:
                result.rcode = dns.rcode.NXDOMAIN
                result.authority = [zone.soa_rrset()]
                return result
            cname = rrsets.get("CNAME")
            if cname and rdtype not in (dns.rdatatype.CNAME, dns.rdatatype.ANY):
                result.answer.append(_rrset(name, "CNAME", cname[:1]))
                target = _norm(cname[0])
                if target in seen or self.zone_of(target) is None:
                    return result
                name = target
                continue
            wanted = self._select(name, rrsets, rdtype)
            if wanted:
                result.answer.extend(wanted)
                result.authority = []
            else:
                result.authority = [zone.soa_rrset()]
            return result
        return result

    def zone_of(self, name: str) -> Zone | None:
        """The most specific zone this server is authoritative for that contains ``name``."""
        labels = name.split(".")
        for i in range(len(labels)):
            zone = self.zones.get(".".join(labels[i:]))
            if zone is not None:
                return zone
        return None

    # -- internals --------------------------------------------------------------------------

    def _fault(self, qname: str) -> str:
        zone = self.zone_of(qname)
        domain = self.zone_domain.get(zone.apex) if zone else None
        return domain.faults.dns if domain else ""

    def _rrsets_for(self, name: str, zone: Zone) -> dict[str, tuple[str, ...]] | None:
        """Records owned by ``name`` (``{}`` for an empty non-terminal), via wildcards if
        needed, or None when the name does not exist."""
        if name in self.names:
            records = dict(self.records.get(name, {}))
            if name == zone.apex:
                records["SOA"] = ()
            return records
        # RFC 4592: the closest existing ancestor's "*" child synthesises the answer.
        encloser = _parent(name)
        while encloser and encloser not in self.names:
            if encloser == zone.apex or not encloser.endswith("." + zone.apex):
                break
            encloser = _parent(encloser)
        wildcard = self.records.get(f"*.{encloser}")
        return dict(wildcard) if wildcard is not None else None

    def _select(self, name: str, rrsets: dict[str, tuple[str, ...]], rdtype: int) -> list[dns.rrset.RRset]:
        zone = self.zones.get(name)
        out = []
        for rtype, values in rrsets.items():
            if rdtype != dns.rdatatype.ANY and rdtype != dns.rdatatype.from_text(rtype):
                continue
            if rtype == "SOA" and zone is not None:
                soa = zone.soa_rrset()  # shared with negative answers (TTL = SOA minimum): copy
                out.append(dns.rrset.from_rdata_list(soa.name, TTL, list(soa)))
            elif values and rtype in SUPPORTED_TYPES:
                out.append(_rrset(name, rtype, values))
        return out

    def _negative_soa(self, name: str) -> list[dns.rrset.RRset]:
        """SOA for the authority section of a negative answer, like the real hierarchy gives:
        the zone's own, else the TLD's (for a TLD the world has a registry for), else the root's."""
        zone = self.zone_of(name)
        if zone is not None:
            return [zone.soa_rrset()]
        tld = name.rsplit(".", 1)[-1]
        if tld and self.world.registry_for(tld) is not None:
            return [Zone(tld, f"a.nic.{tld}", f"hostmaster.nic.{tld}", 1).soa_rrset()]
        return [_rrset(".", "SOA", [f"a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 {NEGATIVE_TTL}"],
                       NEGATIVE_TTL)]

    def _cymru(self, name: str, rdtype: int, zone: Zone) -> Lookup:
        texts: list[str] = []
        exists = name in self.names
        if name.endswith("." + CYMRU_ORIGIN4):
            labels = name[: -len(CYMRU_ORIGIN4) - 1].split(".")
            texts = [cymru_origin_txt(n) for n in cymru_origins(self.networks, labels, 4)]
        elif name.endswith("." + CYMRU_ORIGIN6):
            labels = name[: -len(CYMRU_ORIGIN6) - 1].split(".")
            texts = [cymru_origin_txt(n) for n in cymru_origins(self.networks, labels, 6)]
        elif name.endswith("." + CYMRU_ZONE) and name.count(".") == 3 and name.startswith("as"):
            number = name[2:].split(".", 1)[0]
            nets = self.asns.get(int(number), []) if number.isdigit() else []
            texts = [cymru_asn_txt(nets[0])] if nets else []
        if not texts and not exists:
            return Lookup(dns.rcode.NXDOMAIN, authority=[zone.soa_rrset()])
        if texts and rdtype in (dns.rdatatype.TXT, dns.rdatatype.ANY):
            return Lookup(answer=[_rrset(name, "TXT", texts, 14400)])
        return Lookup(authority=[zone.soa_rrset()])


def _to_wire(response: dns.message.Message, max_size: int) -> bytes:
    """Render (records keep their order: most specific Cymru prefix first), setting TC and
    dropping the records when the answer does not fit."""
    try:
        return response.to_wire(max_size=max_size, want_shuffle=False)
    except dns.exception.TooBig:
        response.answer.clear()
        response.authority.clear()
        response.additional.clear()
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=max_size, want_shuffle=False)


def garble(wire: bytes) -> bytes:
    """A broken answer for the "malformed" fault: the header announces more records than
    follow, and the message ends inside a compression pointer. dnspython fails to parse it."""
    if len(wire) < 12:
        return b"\x00" * 3
    ident, flags = struct.unpack("!HH", wire[:4])
    header = struct.pack("!HHHHHH", ident, flags, 1, 3, 0, 0)
    question_end = 12
    while question_end < len(wire) and wire[question_end] != 0:
        question_end += wire[question_end] + 1
    return header + wire[12: question_end + 5] + b"\xc0"


def _formerr(wire: bytes) -> bytes | None:
    """FORMERR for a message that cannot be parsed (if at least its header is there)."""
    if len(wire) < 12:
        return None
    ident, flags = struct.unpack("!HH", wire[:4])
    if flags & dns.flags.QR:
        return None  # never answer an answer
    return struct.pack("!HHHHHH", ident, dns.flags.QR | dns.rcode.FORMERR, 0, 0, 0, 0)


def _udp_limit(wire: bytes) -> int:
    """The UDP payload size the client allows (EDNS0), or 512."""
    try:
        query = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        return UDP_DEFAULT_PAYLOAD
    return max(query.payload, UDP_DEFAULT_PAYLOAD) if query.edns >= 0 else UDP_DEFAULT_PAYLOAD


# -- the sockets -------------------------------------------------------------------------------


class _UdpProtocol(asyncio.DatagramProtocol):
    """One task per datagram so slow (latency) answers never hold up the next query."""

    def __init__(self, service: DnsService) -> None:
        self.service = service
        self.transport: asyncio.DatagramTransport | None = None
        self.tasks: set[asyncio.Task] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        task = asyncio.get_running_loop().create_task(self._reply(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _reply(self, data: bytes, addr: tuple) -> None:
        wire = await _answer_sized(self.service, data, _udp_limit(data))
        if wire is not None and self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(wire, addr)


async def _answer_sized(service: DnsService, data: bytes, limit: int) -> bytes | None:
    """``service.answer`` with UDP truncation (TC) when the answer exceeds ``limit``."""
    wire = await service.answer(data)
    if wire is None or len(wire) <= limit:
        return wire
    try:
        message = dns.message.from_wire(wire)
    except dns.exception.DNSException:
        return wire[:limit]  # a garbled answer stays garbled
    return _to_wire(message, limit)


@dataclass
class DnsServer:
    """A running DNS server: UDP and TCP on ``host``:``port``."""

    service: DnsService
    host: str
    port: int
    udp: asyncio.DatagramTransport
    tcp: asyncio.Server
    protocol: _UdpProtocol
    connections: set[asyncio.Task] = field(default_factory=set)

    async def close(self) -> None:
        """Stop listening and cancel queries still in flight."""
        self.udp.close()
        self.tcp.close()
        pending = [*self.protocol.tasks, *self.connections]
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.tcp.wait_closed()


async def _serve_tcp(service: DnsService, server_tasks: set[asyncio.Task],
                     reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Length-prefixed messages (RFC 1035 4.2.2), answered concurrently, until EOF."""
    current = asyncio.current_task()
    if current is not None:
        server_tasks.add(current)
    lock = asyncio.Lock()
    inflight: set[asyncio.Task] = set()

    async def one(data: bytes) -> None:
        wire = await service.answer(data)
        if wire is None:
            return
        async with lock:
            writer.write(struct.pack("!H", len(wire)) + wire)
            await writer.drain()

    try:
        while True:
            try:
                size = struct.unpack("!H", await reader.readexactly(2))[0]
                data = await reader.readexactly(size)
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            task = asyncio.get_running_loop().create_task(one(data))
            inflight.add(task)
            task.add_done_callback(inflight.discard)
        if inflight:
            await asyncio.gather(*inflight, return_exceptions=True)
    finally:
        for task in inflight:
            task.cancel()
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        if current is not None:
            server_tasks.discard(current)


def _enlarge_buffers(sock: socket.socket | None) -> None:
    """Bursts of thousands of datagrams overflow the default receive buffer: ask for more
    (the kernel caps it at net.core.rmem_max)."""
    if sock is None:
        return
    for option in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, option, UDP_BUFFER_BYTES)


async def start_dns(world: World, host: str = "127.0.0.1", port: int = 0) -> DnsServer:
    """Serve ``world`` over UDP and TCP on the same port (a free one when ``port`` is 0)."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"the sandbox DNS server binds to loopback only, not {host}")
    service = DnsService(world)
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task] = set()
    attempts = 50 if port == 0 else 1
    last_error: OSError | None = None
    for _ in range(attempts):
        udp, protocol = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(service), local_addr=(host, port))
        _enlarge_buffers(udp.get_extra_info("socket"))
        bound = udp.get_extra_info("sockname")[1]
        try:
            tcp = await asyncio.start_server(
                lambda r, w: _serve_tcp(service, tasks, r, w), host, bound, reuse_address=True)
        except OSError as e:  # the TCP side of that port is taken: try another port
            udp.close()
            last_error = e
            continue
        return DnsServer(service, host, bound, udp, tcp, protocol, tasks)
    raise OSError(f"could not bind DNS on {host}:{port} for UDP and TCP: {last_error}")
