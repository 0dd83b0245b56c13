"""Brand and domain names composed per language, so every seed has names of its own.

A brand is two or three romanised syllables or words of its language plus, often, a word
that says what the site is (kino, toon, dizi, phim, torrent...); its display name may add
a word in the language's own script. Nothing here is a real site's name except by chance.
"""

from __future__ import annotations

import random

SYLLABLES: dict[str, tuple[str, ...]] = {
    "ko": ("nuri", "bam", "kkul", "haru", "dal", "byeol", "sori", "mir", "gana", "dado", "joa", "tto",
           "hana", "mong", "pado", "saem"),
    "en": ("star", "moon", "flix", "bay", "hub", "nova", "pix", "max", "zen", "fox", "lux", "ray",
           "wave", "box", "jet", "owl"),
    "fr": ("cine", "lune", "soleil", "belle", "etoile", "zone", "papillon", "reve", "ciel", "gris",
           "vague", "miel"),
    "es": ("luna", "sol", "pelis", "cuevana", "estrella", "rio", "fuego", "cielo", "mar", "oro",
           "tigre", "vida"),
    "ar": ("shahid", "aflam", "qamar", "nour", "sama", "bahr", "layali", "najm", "sahra", "zahra",
           "fajr", "reem"),
    "ru": ("kino", "baza", "zvezda", "luna", "volna", "les", "solnce", "sneg", "ogon", "most",
           "sever", "tayga"),
    "zh": ("dian", "ying", "tian", "long", "xing", "yun", "feng", "hai", "jin", "shan", "hua", "mei"),
    "ja": ("sakura", "tsuki", "hoshi", "kaze", "yume", "sora", "hana", "umi", "kumo", "neko", "mori",
           "yoru"),
    "pt": ("filmes", "brasa", "lua", "sol", "mar", "rio", "estrela", "fogo", "vento", "onda", "serra",
           "ouro"),
    "vi": ("phim", "sao", "trang", "mai", "hoa", "song", "bien", "gio", "ngoc", "lua", "vang", "xanh"),
    "id": ("nonton", "bintang", "bulan", "laut", "awan", "pelangi", "hujan", "kilat", "rimba",
           "senja", "mega", "surya"),
    "tr": ("dizi", "yildiz", "ay", "deniz", "gunes", "ruzgar", "bulut", "kartal", "lale", "yol",
           "dag", "nehir"),
    "de": ("stern", "mond", "welle", "wald", "berg", "licht", "kino", "blitz", "fluss", "nebel",
           "falke", "sonne"),
    "it": ("stella", "luna", "sole", "mare", "cielo", "vento", "fiume", "onda", "lampo", "nebbia",
           "aquila", "monte"),
}

CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "streaming": ("kino", "flix", "tv", "film", "movies", "stream", "play", "watch"),
    "torrent": ("torrent", "bay", "tracker", "seed", "magnet", "rarbg"),
    "ddl": ("dl", "files", "down", "share", "warez", "rls"),
    "manga": ("toon", "manga", "comic", "scan", "manhwa"),
    "iptv": ("iptv", "tvbox", "channels", "live"),
    "warez": ("crack", "soft", "keygen", "apps", "full"),
    "ebook": ("books", "lib", "pdf", "read", "epub"),
    "music": ("mp3", "music", "lagu", "tracks", "flac"),
    "counterfeit": ("outlet", "replica", "store", "luxe", "shop"),
    "none": ("news", "blog", "media", "online", "info"),
}

NATIVE: dict[str, tuple[str, ...]] = {
    "ko": ("영화", "웹툰", "티비", "무료", "다시보기"),
    "ru": ("кино", "фильмы", "онлайн", "сериалы", "торрент"),
    "zh": ("电影", "影视", "在线", "高清", "资源"),
    "ja": ("映画", "無料", "動画", "漫画", "アニメ"),
    "ar": ("أفلام", "مسلسلات", "مشاهدة", "سينما"),
}
"""Words in the language's own script for display names (encodable in its legacy charset)."""

IDN_WORDS: dict[str, tuple[str, ...]] = {
    "ru": ("кино", "фильмы", "смотреть", "сериалы", "торрент", "онлайн", "книги", "музыка"),
    "de": ("bücher", "hörbuch", "filmgerät", "grün", "märchen", "übersicht", "blüte", "läden"),
}
"""Labels for internationalised domain names (Cyrillic under .рф, umlauts under .com)."""

CYRILLIC_TLD = "xn--p1ai"
"""The .рф TLD in its ASCII form."""


def idna(label: str) -> str:
    """The ASCII (punycode) form of one Unicode label."""
    return label.encode("idna").decode("ascii")


def brand(rng: random.Random, language: str, category: str) -> tuple[str, str]:
    """``(slug, display name)``: the slug is ASCII letters for domain names."""
    syll = SYLLABLES[language]
    parts = [rng.choice(syll)]
    if rng.random() < 0.5:
        parts.append(rng.choice(syll))
    if rng.random() < 0.7:
        parts.append(rng.choice(CATEGORY_WORDS[category]))
    else:
        parts.append(rng.choice(syll))
    slug = "".join(dict.fromkeys(parts))  # drop a repeated word, keep the order
    if len(slug) < 5:
        slug += rng.choice(CATEGORY_WORDS[category])
    display = "".join(p.capitalize() for p in dict.fromkeys(parts))
    if language in NATIVE and rng.random() < 0.6:
        display = f"{display} {rng.choice(NATIVE[language])}"
    return slug, display


def idn_label(rng: random.Random, language: str) -> tuple[str, str]:
    """``(unicode label, punycode label)`` for an IDN in ``language`` (ru or de)."""
    words = IDN_WORDS[language]
    first = rng.choice(words)
    second = rng.choice([w for w in words if w != first])
    label = first + second
    return label, idna(label)
