"""Identifiers an operator leaves on its sites, generated valid and rendered as HTML snippets.

Every value made here must survive isop's own validators (base58check, bech32, EIP-55,
Monero's keccak checksum, libphonenumber), because a world whose wallets fail their
checksums would teach nothing about telling a real address from a look-alike. The
encoders are written from the specifications (BIP-13/173, EIP-55, Monero base58), not
borrowed from isop's extractor, so the tests that run the extractor on generated pages
check two independent implementations against each other.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

import phonenumbers
from Crypto.Hash import keccak

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
XMR_ENCODED = (0, 2, 3, 5, 6, 7, 9, 10, 11)
"""Monero base58: characters that encode a block of 0..8 bytes."""
_ALNUM_UP = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_ALNUM = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

LANGUAGE_COUNTRY = {"ko": "KR", "en": "US", "fr": "FR", "es": "ES", "ar": "EG", "ru": "RU",
                    "zh": "CN", "ja": "JP", "pt": "BR", "vi": "VN", "id": "ID", "tr": "TR",
                    "de": "DE", "it": "IT"}
"""The country an operator writing in a language has its phone number in."""
NATIONAL_BY_LANGUAGE = {"ko": "KR", "ja": "JP", "vi": "VN", "id": "ID", "tr": "TR", "ru": "RU",
                        "it": "IT", "de": "DE", "fr": "FR"}
"""Languages whose page alone tells a reader which country a national number is in
(the same single-country languages isop reads numbers by; en, es, pt, ar, zh do not)."""
VANITY_TLDS = frozenset("to tv io me cc ws co la sx ag gg fm ai ly so sh nu tk".split())


@dataclass(frozen=True)
class Ident:
    """One identifier: its indicator type and canonical value (what isop extracts)."""

    type: str
    value: str

    def key(self) -> dict[str, str]:
        return {"type": self.type, "value": self.value}


# --- encoders -------------------------------------------------------------------------


def _b58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58check(payload: bytes) -> str:
    return _b58(payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4])


def _polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def bech32_segwit(program: bytes, hrp: str = "bc", version: int = 0) -> str:
    """A BIP-173 (version 0) segwit address."""
    acc = bits = 0
    data = [version]
    for b in program:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    mod = _polymod(expanded + data + [0] * 6) ^ 1
    checksum = [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32[d] for d in data + checksum)


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def eip55(raw: bytes) -> str:
    hexed = raw.hex()
    digest = keccak256(hexed.encode()).hex()
    return "0x" + "".join(c.upper() if int(d, 16) >= 8 else c for c, d in zip(hexed, digest, strict=False))


def xmr_base58(data: bytes) -> str:
    out = []
    for i in range(0, len(data), 8):
        block = data[i:i + 8]
        n = int.from_bytes(block, "big")
        chars = ""
        while n:
            n, r = divmod(n, 58)
            chars = B58[r] + chars
        out.append(chars.rjust(XMR_ENCODED[len(block)], "1"))
    return "".join(out)


# --- values ---------------------------------------------------------------------------


def btc(rng: random.Random, kind: str) -> str:
    """A mainnet address: ``legacy`` (1...), ``p2sh`` (3...) or ``bech32`` (bc1q...)."""
    body = rng.randbytes(20)
    if kind == "bech32":
        return bech32_segwit(body)
    return b58check((b"\x05" if kind == "p2sh" else b"\x00") + body)


def eth(rng: random.Random) -> str:
    return eip55(rng.randbytes(20))


def trx(rng: random.Random) -> str:
    return b58check(b"\x41" + rng.randbytes(20))


def xmr(rng: random.Random) -> str:
    raw = b"\x12" + rng.randbytes(64)
    return xmr_base58(raw + keccak256(raw)[:4])


def ga_account(rng: random.Random) -> str:
    return str(rng.randint(10**5, 10**9 - 1))


def ga4(rng: random.Random) -> str:
    return "G-" + "".join(rng.choice(_ALNUM_UP) for _ in range(10))


def gtm(rng: random.Random) -> str:
    return "GTM-" + "".join(rng.choice(_ALNUM_UP) for _ in range(7))


def adsense(rng: random.Random) -> str:
    return "pub-" + str(rng.randint(10**15, 10**16 - 1))


def yandex(rng: random.Random) -> str:
    return str(rng.randint(10**7, 10**8 - 1))


def discord(rng: random.Random) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(rng.randint(7, 10)))


def phone(rng: random.Random, country: str) -> phonenumbers.PhoneNumber:
    """A valid mobile number of ``country`` (the example number with its tail redrawn)."""
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    digits = str(example.national_number)
    for _ in range(200):
        tail = "".join(str(rng.randint(0, 9)) for _ in range(5))
        candidate = phonenumbers.parse(f"+{example.country_code}{digits[:-5]}{tail}", None)
        if phonenumbers.is_valid_number(candidate):
            return candidate
    return example


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def page_region(host: str, language: str) -> str | None:
    """The country a national-format number on this page reads in, or None.

    The ccTLD when it is a country's (not a vanity one like .io), else a single-country
    language: how a reader, and isop, place a number written without ``+``.
    """
    tld = host.rsplit(".", 1)[-1]
    if len(tld) == 2 and tld not in VANITY_TLDS:
        return tld.upper()
    return NATIONAL_BY_LANGUAGE.get(language)


# --- snippets -------------------------------------------------------------------------


def snippet(rng: random.Random, ident: Ident, *, host: str = "", language: str = "",
            number: phonenumbers.PhoneNumber | None = None, ga_display: str = "") -> str:
    """An ASCII HTML fragment carrying ``ident`` the way real sites show it (variant drawn)."""
    t, v = ident.type, ident.value
    variant = rng.randrange(2)
    if t == "ga" and v.startswith("UA-"):
        if variant:
            return f"<script>ga('create', '{v}', 'auto'); ga('send', 'pageview');</script>"
        return (f"<script>var _gaq = _gaq || []; _gaq.push(['_setAccount', '{v}']); "
                "_gaq.push(['_trackPageview']);</script>")
    if t == "ga":
        if variant:
            return (f'<script async src="https://www.googletagmanager.com/gtag/js?id={v}"></script>'
                    "<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}"
                    f" gtag('js', new Date()); gtag('config', '{v}');</script>")
        return f"<script>gtag('config', '{v}', {{ 'anonymize_ip': true }});</script>"
    if t == "gtm":
        return ("<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),"
                "event:'gtm.js'});var f=d.getElementsByTagName(s)[0],j=d.createElement(s);j.async=true;"
                f"j.src='https://www.googletagmanager.com/gtm.js?id='+i;f.parentNode.insertBefore(j,f);}})"
                f"(window,document,'script','dataLayer','{v}');</script>")
    if t == "adsense":
        if variant:
            return (f'<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?'
                    f'client=ca-{v}" crossorigin="anonymous"></script>')
        return (f'<ins class="adsbygoogle" style="display:block" data-ad-client="ca-{v}" '
                f'data-ad-slot="{rng.randint(10**9, 10**10 - 1)}"></ins>')
    if t == "yandex_metrica":
        if variant:
            return (f'<script>ym({v}, "init", {{clickmap:true, trackLinks:true, accurateTrackBounce:true}});'
                    f'</script><noscript><img src="https://mc.yandex.ru/watch/{v}" alt=""></noscript>')
        return f'<noscript><div><img src="https://mc.yandex.ru/watch/{v}" style="position:absolute" alt=""></div></noscript>'
    if t in ("btc", "eth", "trx", "xmr"):
        label = {"btc": "BTC", "eth": "ETH (ERC-20)", "trx": "USDT TRC-20", "xmr": "XMR"}[t]
        if variant:
            return f'<p class="donate">{label}: <code>{v}</code></p>'
        return f'<li>{label} <span class="wallet">{v}</span></li>'
    if t == "telegram":
        if variant:
            return f'<a href="https://{v}" rel="nofollow">Telegram</a>'
        return f'<p>Telegram: <a href="https://{v}">@{v.split("/", 1)[1]}</a></p>'
    if t == "discord":
        return f'<a href="https://{v}">Discord</a>'
    if t == "whatsapp":
        return f'<a href="https://{v}">WhatsApp</a>'
    if t == "email":
        if variant:
            return f'<a href="mailto:{v}">{v}</a>'
        return f"<p>Contact: {v}</p>"
    if t == "paypal":
        return f'<a href="https://www.{v}">PayPal</a>'
    if t == "phone":
        assert number is not None
        national = page_region(host, language) == phonenumbers.region_code_for_number(number)
        fmt = phonenumbers.PhoneNumberFormat.NATIONAL if national and variant else \
            phonenumbers.PhoneNumberFormat.INTERNATIONAL
        shown = phonenumbers.format_number(number, fmt)
        if rng.randrange(2):
            return f'<p>Phone: <a href="tel:{v}">{shown}</a></p>'
        return f"<p>Phone: {shown}</p>"
    raise ValueError(f"no snippet for {t}")
