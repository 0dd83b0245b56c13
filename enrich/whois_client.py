"""WHOIS over port 43 (RFC 3912) through ``[network] proxy``: IANA's referral, the TLD's
server, and for thin registries the registrar's server.

Protocol code only: :class:`WhoisClient` returns the text and the chain of servers asked in
a :class:`WhoisAnswer`; :func:`enrich.whois_parse.parse_whois` reads it. Caching answers and
mapping them to rows live in the glue (the TLD -> server referral is cached here, per client).

Queries are the bare name (``"<domain>\\r\\n"``): every server of the captured samples
(``../shared/data/whois/``) answers it, Verisign's thin registries included.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from enrich.ratelimit import RateLimiter
from enrich.registration import normalise_domain, normalise_hostname, one_line
from enrich.transport import TransportError, close_stream, open_connection
from enrich.whois_parse import parse_whois

IANA_WHOIS = "whois.iana.org"
WHOIS_PORT = 43
MAX_ANSWER = 1024 * 1024
"""Bytes kept from one answer; the rest is not read."""

Status = Literal["ok", "timeout", "error", "refused"]

_REFER = re.compile(r"^\s*(refer|whois)\s*:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class WhoisAnswer:
    """The outcome of one domain lookup, referrals included."""

    domain: str
    """The domain asked about: lower-case, no trailing dot."""
    status: Status
    """``ok`` (a server answered; the text may still say "not found", "throttled" or be
    garbage: that is the parser's call); ``timeout``; ``refused`` (connection refused, or
    the proxy has no route to the server); ``error`` (anything else, e.g. no WHOIS server
    known for the TLD, an empty answer)."""
    text: str = ""
    """The most complete answer: the registrar's when a thin registry referred to one that
    answered with a registration, else the registry's."""
    server: str | None = None
    """The server that wrote :attr:`text` (or, on failure, the one that failed)."""
    chain: tuple[str, ...] = ()
    """Servers asked for this lookup, in order (``whois.iana.org`` only when the TLD's
    server was not already cached)."""
    error: str | None = None
    """One line: why the lookup failed, or why a referral was not used."""
    texts: tuple[tuple[str, str], ...] = ()
    """Every (server, text) received for the domain (registry then registrar)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def decode_whois(data: bytes, tld: str = "") -> str:
    """An answer's text: UTF-8 if it is valid UTF-8; for .kr then CP949 (a superset of
    EUC-KR); finally latin-1, which never fails (garbage stays visible as garbage)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if tld == "kr":
        try:
            return data.decode("cp949")
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def referral_from_iana(text: str) -> str | None:
    """The server named by whois.iana.org's ``refer:`` line (else its ``whois:`` line)."""
    found = {key.lower(): value for key, value in reversed(_REFER.findall(text))}
    for key in ("refer", "whois"):
        host = normalise_hostname(found.get(key))
        if host:
            return host
    return None


class WhoisError(Exception):
    """One server that did not answer; ``str(e)`` is one line, :attr:`status` the
    :attr:`WhoisAnswer.status` it stands for."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status: Status = status


class WhoisClient:
    """Port-43 lookups with one rate limiter per WHOIS server (``per_server``:
    ``(max_concurrent, per_second)``; ``per_second``, e.g. ``[enrich] whois_rate``, overrides
    its rate), through ``proxy`` when set. :attr:`sent` counts
    queries per server."""

    def __init__(self, proxy: str | None, timeout: float,
                 per_server: tuple[int, float] = (1, 1.0), iana: str = IANA_WHOIS, *,
                 per_second: float | None = None, port: int = WHOIS_PORT,
                 max_bytes: int = MAX_ANSWER) -> None:
        self.proxy = proxy
        self.timeout = timeout
        self.per_server = per_server if per_second is None else (per_server[0], per_second)
        self.iana = iana
        self.port = port
        self.max_bytes = max_bytes
        self.sent: Counter[str] = Counter()
        """Queries sent, per server."""
        self._limiters: dict[str, RateLimiter] = {}
        self._tld_servers: dict[str, str] = {}
        self._tld_locks: dict[str, asyncio.Lock] = {}

    def limiter(self, server: str) -> RateLimiter:
        limiter = self._limiters.get(server)
        if limiter is None:
            limiter = self._limiters[server] = RateLimiter(*self.per_server)
        return limiter

    async def ask(self, server: str, query: str, tld: str = "") -> str:
        """Send one query line to ``server`` and read its answer to EOF (at most
        :attr:`max_bytes`, within :attr:`timeout`). Raises :class:`WhoisError`."""
        async with self.limiter(server):
            self.sent[server] += 1
            data = await self._exchange(server, query)
        if not data.strip():
            raise WhoisError("error", f"{server} closed the connection without answering")
        return decode_whois(data, tld)

    async def _exchange(self, server: str, query: str) -> bytes:
        writer = None
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await open_connection(server, self.port, proxy=self.proxy,
                                                       timeout=self.timeout)
                writer.write(query.encode("idna" if not query.isascii() else "ascii") + b"\r\n")
                await writer.drain()
                parts: list[bytes] = []
                total = 0
                while total < self.max_bytes:
                    chunk = await reader.read(min(65536, self.max_bytes - total))
                    if not chunk:
                        break
                    parts.append(chunk)
                    total += len(chunk)
                return b"".join(parts)
        except TimeoutError:
            raise WhoisError("timeout", f"{server}: no answer within {self.timeout:g}s") from None
        except TransportError as e:
            status: Status = {"timeout": "timeout", "refused": "refused"}.get(e.kind, "error")  # type: ignore[assignment]
            raise WhoisError(status, f"{server}: {e}") from None
        except ConnectionRefusedError as e:
            raise WhoisError("refused", f"{server}: {type(e).__name__}: {e}") from None
        except (OSError, UnicodeError) as e:
            raise WhoisError("error", one_line(f"{server}: {type(e).__name__}: {e}")) from None
        finally:
            if writer is not None:
                await close_stream(writer)

    async def tld_server(self, tld: str, chain: list[str] | None = None) -> str:
        """The WHOIS server of ``tld`` according to IANA (cached per TLD; failures are not
        cached). Appends to ``chain`` when IANA is asked. Raises :class:`WhoisError`."""
        tld = tld.lower().strip(".")
        cached = self._tld_servers.get(tld)
        if cached:
            return cached
        lock = self._tld_locks.setdefault(tld, asyncio.Lock())
        async with lock:  # one IANA query per TLD, however many lookups wait for it
            cached = self._tld_servers.get(tld)
            if cached:
                return cached
            if chain is not None:
                chain.append(self.iana)
            text = await self.ask(self.iana, tld)
            server = referral_from_iana(text)
            if server is None:
                raise WhoisError("error", f"{self.iana} names no WHOIS server for .{tld}")
            self._tld_servers[tld] = server
            return server

    async def query(self, domain: str) -> WhoisAnswer:
        """Look ``domain`` up: IANA (once per TLD), the registry, then the registrar a thin
        registry refers to. Never raises for network or server failures."""
        name = normalise_domain(domain)
        tld = name.rsplit(".", 1)[-1]
        chain: list[str] = []
        texts: list[tuple[str, str]] = []
        server: str | None = None
        try:
            server = await self.tld_server(tld, chain)
            chain.append(server)
            text = await self.ask(server, name, tld)
        except WhoisError as e:
            return WhoisAnswer(name, e.status, "", server or (chain[-1] if chain else None),
                               tuple(chain), one_line(str(e)))
        texts.append((server, text))
        referral = parse_whois(text, name, server).referral_server
        if not referral or referral in (server, self.iana):
            return WhoisAnswer(name, "ok", text, server, tuple(chain), None, tuple(texts))
        from spiders.destinations import DestinationPolicy

        if (refused := DestinationPolicy().host_refusal(referral)) is not None:  # a hostile registry's referral
            return WhoisAnswer(name, "ok", text, server, tuple(chain), f"referral not followed: {refused[0]}",
                               tuple(texts))
        chain.append(referral)
        try:
            registrar_text = await self.ask(referral, name, tld)
        except WhoisError as e:  # the registry's answer still stands
            return WhoisAnswer(name, "ok", text, server, tuple(chain),
                               one_line(f"referral not followed: {e}"), tuple(texts))
        texts.append((referral, registrar_text))
        if parse_whois(registrar_text, name, referral).status == "found":
            return WhoisAnswer(name, "ok", registrar_text, referral, tuple(chain), None, tuple(texts))
        return WhoisAnswer(name, "ok", text, server, tuple(chain),
                           f"{referral} gave no registration; kept {server}'s answer", tuple(texts))
