"""The sandbox certificate authority: one CA per state folder, a leaf certificate per host.

A world may also name shared certificates (``certificates.toml``, a site's
``certificate``): every host naming one presents the same leaf (same DER, so the same
SHA-256), made once per CA, with that entry's SANs.

Clients that trust ``ca.pem`` (``[network] ca_bundle``) verify every HTTPS host of the world
through the sandbox proxy. The CA key pair lives in the state folder (``data/sandbox/`` by
default) and is reused across runs, so a CA installed once in a browser profile keeps
working. Leaf certificates are made on demand in memory (EC P-256, fast), one per host name
the client asks for by SNI, and cached for the life of the :class:`SandboxCA`.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
import re
import ssl
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_STATE_DIR = Path("data/sandbox")
CA_CERT_NAME = "ca.pem"
CA_KEY_NAME = "ca.key"
CA_COMMON_NAME = "isop sandbox CA"
FALLBACK_HOST = "sandbox.invalid"
"""Subject of the certificate shown to clients that send no (or an unusable) SNI name."""
MAX_CACHED_HOSTS = 10_000

_HOST_RE = re.compile(r"^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?$")


def _valid_host(name: str) -> bool:
    return len(name) <= 253 and bool(_HOST_RE.match(name))


def _write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically (temp file + rename) with ``mode``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def shared_certificates(world: object) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Host -> (certificate name, SANs) for every site of ``world`` naming a shared certificate."""
    certs = getattr(world, "certificates", {})
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for domain in getattr(world, "domains", {}).values():
        for site in domain.sites:
            name = getattr(site, "certificate", "")
            if name and name in certs:
                out[site.host] = (name, tuple(certs[name].sans))
    return out


def wildcard_parents(world: object) -> set[str]:
    """Domains ``D`` for which the world has a ``*.D`` DNS record (a wildcard host)."""
    parents: set[str] = set()
    for domain in getattr(world, "domains", {}).values():
        for owner in domain.records:
            if owner.startswith("*."):
                parents.add(owner[2:])
    return parents


class SandboxCA:
    """A certificate authority kept in ``state_dir`` (``ca.pem`` + ``ca.key``).

    ``SandboxCA(state_dir)`` loads the CA found there or creates a new one.
    ``wildcards`` are domains with a wildcard DNS record: a host ``h.D`` (or ``D`` itself)
    then gets ``*.D`` in its subject alternative names as well as ``h.D``.
    ``shared`` maps a host to ``(certificate name, SANs)`` (see :func:`shared_certificates`):
    hosts naming the same certificate present one leaf, made once.
    """

    def __init__(self, state_dir: Path | str = DEFAULT_STATE_DIR,
                 wildcards: Iterable[str] = (),
                 shared: Mapping[str, tuple[str, Sequence[str]]] | None = None) -> None:
        self.state_dir = Path(state_dir)
        self._wildcards = {w.lower().strip(".") for w in wildcards}
        self._shared = {h.lower().rstrip("."): (name, tuple(sans))
                        for h, (name, sans) in (shared or {}).items()}
        self._shared_pem: dict[str, bytes] = {}
        self._shared_lock = threading.Lock()
        self._lock = threading.Lock()
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._ca_cert, self._ca_key = self._load_or_create()
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        self._leaf_key_pem = self._leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        self._ca_pem = self._ca_cert.public_bytes(serialization.Encoding.PEM)

    # --- the CA -----------------------------------------------------------------------

    @property
    def ca_path(self) -> Path:
        """The CA certificate (PEM) clients must trust."""
        return self.state_dir / CA_CERT_NAME

    @property
    def key_path(self) -> Path:
        return self.state_dir / CA_KEY_NAME

    @property
    def certificate(self) -> x509.Certificate:
        return self._ca_cert

    @property
    def spki_sha256_base64(self) -> str:
        """Base64 SHA-256 of the CA's SubjectPublicKeyInfo.

        Chromium accepts it in ``--ignore-certificate-errors-spki-list`` (see docs).
        """
        spki = self._ca_cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return base64.b64encode(hashlib.sha256(spki).digest()).decode()

    def _load_or_create(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        cert_path, key_path = self.ca_path, self.key_path
        if cert_path.is_file() and key_path.is_file():
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{key_path}: not an EC private key")
            still_valid = cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
            if still_valid and cert.public_key().public_numbers() == key.public_key().public_numbers():
                return cert, key
        return self._create()

    def _create(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "isop sandbox (local test CA, not trusted)"),
        ])
        now = dt.datetime.now(dt.UTC)
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                           critical=False)
            .sign(key, hashes.SHA256())
        )
        _write_private(self.key_path, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        _write_private(self.ca_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        return cert, key

    # --- leaf certificates ---------------------------------------------------------------

    def names_for(self, host: str) -> list[str]:
        """The DNS names a leaf certificate for ``host`` covers."""
        host = host.lower().rstrip(".")
        names = [host]
        parent = host.split(".", 1)[1] if "." in host else ""
        for candidate in (host, parent):
            if candidate and candidate in self._wildcards and f"*.{candidate}" not in names:
                names.append(f"*.{candidate}")
        return names

    def certificate_pem(self, host: str) -> bytes:
        """The PEM leaf ``host`` presents: its shared certificate (the same bytes for every
        host naming it) or a fresh one of its own."""
        host = host.lower().rstrip(".")
        shared = self._shared.get(host)
        if shared is None:
            return self.leaf_pem(host)
        name, sans = shared
        with self._shared_lock:  # context_for holds self._lock while it calls here
            pem = self._shared_pem.get(name)
            if pem is None:
                pem = self._shared_pem[name] = self.leaf_pem(sans[0], list(sans))
        return pem

    def leaf_pem(self, host: str, names: list[str] | None = None) -> bytes:
        """A fresh PEM certificate for ``host`` signed by the CA (key: :meth:`leaf_key_pem`);
        ``names``: the SANs (default :meth:`names_for`)."""
        now = dt.datetime.now(dt.UTC)
        names = names or self.names_for(host)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])]))
            .issuer_name(self._ca_cert.subject)
            .public_key(self._leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=90))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=False, crl_sign=False,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._leaf_key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self._ca_key.public_key()), critical=False)
            .sign(self._ca_key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM)

    def context_for(self, host: str) -> ssl.SSLContext:
        """A server context presenting ``host``'s certificate (cached per host).

        An unusable name gets the certificate of :data:`FALLBACK_HOST`. The context switches
        to another host's context when the client's SNI names another host.
        """
        host = host.lower().rstrip(".")
        if not _valid_host(host):
            host = FALLBACK_HOST
        ctx = self._contexts.get(host)
        if ctx is not None:
            return ctx
        with self._lock:
            ctx = self._contexts.get(host)
            if ctx is None:
                ctx = self._make_context(host)
                if len(self._contexts) >= MAX_CACHED_HOSTS:
                    self._contexts.clear()
                self._contexts[host] = ctx
        return ctx

    def _make_context(self, host: str, sni: bool = True) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if sni:
            ctx.sni_callback = self._on_sni
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_alpn_protocols(["http/1.1"])
        # The ssl module loads certificates from files only: write, load, delete.
        chain = self.certificate_pem(host) + self._ca_pem
        fd, tmp = tempfile.mkstemp(prefix="isop-sandbox-leaf-", suffix=".pem")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(chain + self._leaf_key_pem)
            ctx.load_cert_chain(tmp)
        finally:
            os.unlink(tmp)
        return ctx

    def prepare(self, hosts: Iterable[str]) -> None:
        """Make the contexts of ``hosts`` now (call off the event loop, e.g. at start)."""
        for host in hosts:
            self.context_for(host)

    def server_context(self, default_host: str | None = None) -> ssl.SSLContext:
        """A context that picks the certificate by SNI.

        Clients that send no SNI get ``default_host``'s certificate (the proxy passes the
        CONNECT host), or :data:`FALLBACK_HOST`'s. Every per-host context carries the SNI
        callback, so this is :meth:`context_for` of ``default_host``.
        """
        return self.context_for(default_host or FALLBACK_HOST)

    def _on_sni(self, sslobj: ssl.SSLObject | ssl.SSLSocket, server_name: str | None,
                _ctx: ssl.SSLContext) -> None:
        if server_name:
            sslobj.context = self.context_for(server_name)
        return None
