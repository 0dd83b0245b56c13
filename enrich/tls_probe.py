"""The TLS certificate a host presents, through ``[network] proxy``.

The handshake does NOT verify: an invalid, expired or self-signed certificate is evidence
too (and self-signed or shared certificates link sites). Only the leaf is taken and parsed
with ``cryptography``. Protocol code only; mapping to rows lives in the glue.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import ssl
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

from enrich.registration import one_line
from enrich.transport import TransportError, close_stream, open_connection


@dataclass(frozen=True)
class CertInfo:
    """The leaf certificate of one host:port."""

    host: str
    """The host asked (and sent as SNI), lower-case."""
    port: int
    sha256: str
    """SHA-256 of the DER certificate, lower-case hex (64 characters)."""
    subject: str
    """The subject as an RFC 4514 string."""
    issuer: str
    """The issuer as an RFC 4514 string."""
    subject_cn: str | None
    """The subject's common name, if it has one."""
    san_dns: tuple[str, ...]
    """DNS names of the subjectAltName extension, lower-case, in certificate order."""
    san_ip: tuple[str, ...]
    """IP addresses of the subjectAltName extension."""
    serial: str
    """The serial number, lower-case hex."""
    not_before: datetime
    """Start of validity, UTC (aware)."""
    not_after: datetime
    """End of validity, UTC (aware)."""
    der: bytes = field(repr=False)
    """The certificate itself (DER)."""

    @property
    def sans(self) -> tuple[str, ...]:
        """Every subjectAltName: DNS names, then IP addresses."""
        return self.san_dns + self.san_ip

    @property
    def self_signed(self) -> bool:
        """Subject equals issuer (a weak but useful signal)."""
        return self.subject == self.issuer


@dataclass(frozen=True)
class CertError:
    """Why no certificate could be taken from host:port."""

    host: str
    port: int
    reason: str
    """One line: refused, timed out, handshake failed, not TLS, ..."""


def probe_context() -> ssl.SSLContext:
    """A client context that accepts any certificate (and old protocol versions and ciphers
    where the local OpenSSL allows): we want to see the certificate, not to trust it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with contextlib.suppress(ValueError, ssl.SSLError):
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    with contextlib.suppress(ssl.SSLError):
        context.set_ciphers("ALL:@SECLEVEL=0")
    return context


def parse_certificate(der: bytes, host: str, port: int = 443) -> CertInfo:
    """A :class:`CertInfo` from a DER certificate. Raises ``ValueError`` if it does not parse."""
    cert = x509.load_der_x509_certificate(der)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    cn_value = cn[0].value if cn else None
    san_dns: tuple[str, ...] = ()
    san_ip: tuple[str, ...] = ()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        pass
    else:
        san_dns = tuple(n.lower() for n in san.get_values_for_type(x509.DNSName))
        san_ip = tuple(str(ipaddress.ip_address(a)) for a in san.get_values_for_type(x509.IPAddress))
    return CertInfo(
        host=host, port=port,
        sha256=hashlib.sha256(der).hexdigest(),
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        subject_cn=cn_value if isinstance(cn_value, str) else None,
        san_dns=san_dns, san_ip=san_ip,
        serial=format(cert.serial_number, "x"),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        der=der)


async def fetch_certificate(host: str, port: int = 443, *, proxy: str | None,
                            timeout: float) -> CertInfo | CertError:
    """The leaf certificate ``host:port`` presents for SNI ``host``, unverified, within
    ``timeout`` seconds. Never raises for network failures: they come back as
    :class:`CertError`."""
    host = host.strip().lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        sni: str | None = None  # no SNI for addresses (RFC 6066)
    except ValueError:
        sni = host
    writer = None
    try:
        async with asyncio.timeout(timeout):
            _reader, writer = await open_connection(host, port, proxy=proxy, timeout=timeout,
                                                    tls=probe_context(), server_hostname=sni)
            ssl_object = writer.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    except TimeoutError:
        return CertError(host, port, f"timed out after {timeout:g}s")
    except TransportError as e:
        reason = str(e)
        if e.kind == "tls" and ("WRONG_VERSION_NUMBER" in reason or "record layer" in reason.lower()):
            reason = f"not TLS: {reason}"
        return CertError(host, port, one_line(reason))
    except (OSError, ssl.SSLError) as e:
        return CertError(host, port, one_line(f"{type(e).__name__}: {e}"))
    finally:
        if writer is not None:
            await close_stream(writer)
    if not der:
        return CertError(host, port, "the server sent no certificate")
    try:
        return parse_certificate(der, host, port)
    except ValueError as e:
        return CertError(host, port, one_line(f"certificate does not parse: {e}"))
