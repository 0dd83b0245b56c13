"""Cryptocurrency addresses: BTC, ETH, TRX and XMR, each validated, never just pattern-matched.

A string that looks like an address but fails its checksum (a typo, a hash, a random
token) is rejected: an analyst links operators by these values, so a false one is worse
than a missed one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from Crypto.Hash import keccak

from spiders.classify.terms import Gated
from spiders.indicators.document import Document
from spiders.indicators.model import Hit, hit

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(B58_ALPHABET)}
_B58 = "1-9A-HJ-NP-Za-km-z"

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3

XMR_BLOCK_SIZES = (0, 2, 3, 5, 6, 7, 9, 10, 11)
"""Characters of Monero base58 that encode a block of 0..8 bytes."""
XMR_PREFIXES = {0x12: "standard", 0x13: "integrated", 0x2A: "subaddress"}
"""Mainnet network bytes (one-byte varints)."""

BTC_BASE58_RE = re.compile(rf"(?<![0-9A-Za-z])[13][{_B58}]{{25,34}}(?![0-9A-Za-z])")
BTC_BECH32_RE = re.compile(r"bc1(?<![0-9a-z]bc1)[02-9ac-hj-np-z]{11,71}(?![0-9a-z])")
"""Run on the lower-cased page; the original's case is then checked (mixed case is invalid)."""
ETH_RE = re.compile(r"0x(?<![0-9a-z]0x)[0-9a-f]{40}(?![0-9a-z])")
"""Run on the lower-cased page; the original's case then decides the EIP-55 check."""
TRX_RE = re.compile(rf"(?<![0-9A-Za-z])T[{_B58}]{{33}}(?![0-9A-Za-z])")
XMR_RE = re.compile(rf"(?<![0-9A-Za-z])[48][{_B58}]{{94}}(?:[{_B58}]{{11}})?(?![0-9A-Za-z])")

_ETH_REJECT = {"0" * 40, "f" * 40}


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum and Monero use it (not NIST SHA3-256: the padding differs)."""
    return keccak.new(digest_bits=256, data=data).digest()


def b58decode(s: str) -> bytes | None:
    """Bitcoin base58 to bytes (leading ``1`` are zero bytes); ``None`` on a bad character."""
    n = 0
    for c in s:
        i = _B58_INDEX.get(c)
        if i is None:
            return None
        n = n * 58 + i
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * (len(s) - len(s.lstrip("1"))) + body


def b58check_decode(s: str) -> bytes | None:
    """The payload (version byte included) of a base58check string, or ``None`` if invalid."""
    raw = b58decode(s)
    if raw is None or len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


def _bech32_polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= _BECH32_GEN[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def bech32_decode(s: str) -> tuple[str, list[int], int] | None:
    """``(hrp, data, constant)`` of a bech32/bech32m string (BIP-173/350), or ``None``."""
    if any(ord(x) < 33 or ord(x) > 126 for x in s) or (s.lower() != s and s.upper() != s):
        return None
    s = s.lower()
    pos = s.rfind("1")
    if pos < 1 or pos + 7 > len(s) or len(s) > 90:
        return None
    if any(x not in BECH32_CHARSET for x in s[pos + 1:]):
        return None
    hrp = s[:pos]
    data = [BECH32_CHARSET.find(x) for x in s[pos + 1:]]
    const = _bech32_polymod(_hrp_expand(hrp) + data)
    if const not in (BECH32_CONST, BECH32M_CONST):
        return None
    return hrp, data[:-6], const


def _convertbits(data: list[int], frombits: int, tobits: int) -> list[int] | None:
    acc = bits = 0
    ret: list[int] = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            return None
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            ret.append((acc >> bits) & maxv)
    if bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return ret


def segwit_decode(addr: str, hrp: str = "bc") -> tuple[int, bytes] | None:
    """``(witness version, program)`` of a segwit address (BIP-173/350 rules), or ``None``."""
    decoded = bech32_decode(addr)
    if decoded is None or decoded[0] != hrp or not decoded[1]:
        return None
    _, data, const = decoded
    version = data[0]
    program = _convertbits(data[1:], 5, 8)
    if program is None or version > 16 or not 2 <= len(program) <= 40:
        return None
    if version == 0 and len(program) not in (20, 32):
        return None
    if (version == 0) != (const == BECH32_CONST):
        return None
    return version, bytes(program)


def is_btc_base58(addr: str) -> bool:
    """A mainnet P2PKH (``1…``) or P2SH (``3…``) address with a valid checksum."""
    payload = b58check_decode(addr)
    return payload is not None and len(payload) == 21 and payload[0] in (0x00, 0x05)


def is_trx(addr: str) -> bool:
    """A TRON address: base58check, 21 bytes, version byte 0x41."""
    payload = b58check_decode(addr)
    return payload is not None and len(payload) == 21 and payload[0] == 0x41


def eth_checksum(addr: str) -> str:
    """The EIP-55 mixed-case form of a ``0x`` + 40 hex address."""
    lower = addr[2:].lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(d, 16) >= 8 else c for c, d in zip(lower, digest[:40], strict=True))


def is_eth(addr: str) -> bool:
    """``0x`` + 40 hex, not all zero; a mixed-case address must carry a valid EIP-55 checksum."""
    body = addr[2:]
    if len(addr) != 42 or not addr.startswith("0x") or body.lower() in _ETH_REJECT:
        return False
    if body.islower() or body.isupper() or body.isdigit():
        return all(c in "0123456789abcdefABCDEF" for c in body)
    return eth_checksum(addr) == addr


def xmr_b58decode(s: str) -> bytes | None:
    """Monero's block base58 (11 characters per 8 bytes) to bytes, or ``None``."""
    full, rest = divmod(len(s), 11)
    if rest not in XMR_BLOCK_SIZES:
        return None
    out = bytearray()
    chunks = [(s[i * 11:(i + 1) * 11], 8) for i in range(full)]
    if rest:
        chunks.append((s[full * 11:], XMR_BLOCK_SIZES.index(rest)))
    for chunk, size in chunks:
        n = 0
        for c in chunk:
            i = _B58_INDEX.get(c)
            if i is None:
                return None
            n = n * 58 + i
        if n >> (8 * size):
            return None
        out += n.to_bytes(size, "big")
    return bytes(out)


def xmr_kind(addr: str) -> str | None:
    """``standard``, ``subaddress`` or ``integrated`` for a valid mainnet Monero address."""
    raw = xmr_b58decode(addr)
    if raw is None or len(raw) not in (69, 77):
        return None
    kind = XMR_PREFIXES.get(raw[0])
    if kind is None or (kind == "integrated") != (len(raw) == 77):
        return None
    if keccak256(raw[:-4])[:4] != raw[-4:]:
        return None
    return kind


# The same patterns, their leading look-behind checked per candidate (a fast scan; see Gated).
_BTC_BASE58, _TRX, _XMR = (Gated(rx, ()) for rx in (BTC_BASE58_RE, TRX_RE, XMR_RE))


def find_crypto(doc: Document) -> Iterator[Hit]:
    """BTC (base58 and bech32/bech32m), ETH (EIP-55 form), TRX and XMR addresses."""
    text, low = doc.text, doc.lower
    for m in _BTC_BASE58.finditer(text):
        if is_btc_base58(m.group()):
            yield hit(text, m.start(), m.end(), "btc", m.group())
    for m in BTC_BECH32_RE.finditer(low):
        if segwit_decode(text[m.start():m.end()]) is not None:
            yield hit(text, m.start(), m.end(), "btc", m.group())
    for m in ETH_RE.finditer(low):
        addr = text[m.start():m.end()]
        if is_eth(addr):
            yield hit(text, m.start(), m.end(), "eth", eth_checksum(addr))
    for m in _TRX.finditer(text):
        if is_trx(m.group()):
            yield hit(text, m.start(), m.end(), "trx", m.group())
    for m in _XMR.finditer(text):
        if xmr_kind(m.group()) is not None:
            yield hit(text, m.start(), m.end(), "xmr", m.group())
