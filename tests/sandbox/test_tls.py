"""SandboxCA: a persistent CA, per-host leaf certificates verified by stock clients."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from helpers.sandbox_worlds import build_world

from collector.sandbox.tls import SandboxCA, wildcard_parents

HOSTS = ["pirate.test", "www.pirate.test", "rdap.arin.net", "data.iana.org", "a.b.c.example.com"]


def handshake(ca: SandboxCA, server_ctx: ssl.SSLContext, sni: str | None,
              client_ctx: ssl.SSLContext) -> x509.Certificate:
    """Run a TLS server on loopback, connect with ``client_ctx``; the server's certificate."""

    async def main() -> x509.Certificate:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"hello")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_ctx)
        port = server.sockets[0].getsockname()[1]
        try:
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=client_ctx, server_hostname=sni)
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            assert await reader.read() == b"hello"
            writer.close()
            return x509.load_der_x509_certificate(der)
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(main())


def names(cert: x509.Certificate) -> list[str]:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)


@pytest.fixture
def ca(tmp_path: Path) -> SandboxCA:
    return SandboxCA(tmp_path / "state", wildcards=["example.com"])


def test_ca_files_persist(tmp_path: Path) -> None:
    ca = SandboxCA(tmp_path / "state")
    assert ca.ca_path == tmp_path / "state" / "ca.pem" and ca.ca_path.is_file()
    assert stat.S_IMODE(ca.key_path.stat().st_mode) == 0o600
    again = SandboxCA(tmp_path / "state")
    assert again.certificate == ca.certificate
    basic = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert basic.ca
    other = SandboxCA(tmp_path / "other")
    assert other.certificate != ca.certificate


def test_every_host_verifies_with_cafile(ca: SandboxCA) -> None:
    client = ssl.create_default_context(cafile=str(ca.ca_path))
    assert client.verify_mode == ssl.CERT_REQUIRED and client.check_hostname
    server = ca.server_context()
    for host in HOSTS:
        cert = handshake(ca, server, host, client)
        assert host in names(cert)


def test_strict_verification(ca: SandboxCA) -> None:
    client = ssl.create_default_context(cafile=str(ca.ca_path))
    client.verify_flags |= getattr(ssl, "VERIFY_X509_STRICT", 0)
    cert = handshake(ca, ca.server_context(), "pirate.test", client)
    assert names(cert) == ["pirate.test"]


def test_wildcard_names(ca: SandboxCA) -> None:
    assert ca.names_for("www.example.com") == ["www.example.com", "*.example.com"]
    assert ca.names_for("example.com") == ["example.com", "*.example.com"]
    assert ca.names_for("pirate.test") == ["pirate.test"]
    world = build_world(Path(ca.state_dir).parent / "world")
    assert wildcard_parents(world) == {"pirate.test"}


def test_default_host_without_sni(ca: SandboxCA) -> None:
    client = ssl.create_default_context(cafile=str(ca.ca_path))
    client.check_hostname = False
    cert = handshake(ca, ca.server_context("pirate.test"), None, client)
    assert names(cert) == ["pirate.test"]


def test_untrusting_client_fails(ca: SandboxCA, tmp_path: Path) -> None:
    stranger = SandboxCA(tmp_path / "stranger")
    client = ssl.create_default_context(cafile=str(stranger.ca_path))
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(ca, ca.server_context(), "pirate.test", client)


def test_wrong_name_fails(ca: SandboxCA) -> None:
    client = ssl.create_default_context(cafile=str(ca.ca_path))
    ctx = ca._make_context("pirate.test", sni=False)  # always pirate.test's certificate
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(ca, ctx, "other.test", client)


def test_contexts_cached_and_spki(ca: SandboxCA) -> None:
    assert ca.context_for("pirate.test") is ca.context_for("PIRATE.test.")
    assert ca.server_context("pirate.test") is ca.context_for("pirate.test")
    spki = ca.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert ca.spki_sha256_base64 == base64.b64encode(hashlib.sha256(spki).digest()).decode()
