"""Advertisers' banners: one contact in ad slots on many unrelated sites (a trap for networks).

Betting, casino, VPN and IPTV resellers buy banners on piracy sites, link hubs and forums and
put their own Telegram or WhatsApp in them. The contact is the advertiser's, so it must never
join the sites into one operator's network; isop reports it as an ``advertiser`` indicator
(``spiders/indicators/adslots.py``). Each banner is drawn in one of several markups -- an ad
class, an ad label in the page's language, ``rel="sponsored"``, a camelCase ad id -- so a rule
that knows one template fails here.

The draws use their own generator (``random.Random(f"{seed}/adverts")``): adding the trap does
not move any other draw of the world.
"""

from __future__ import annotations

import html
import random

from collector.sandbox.generate import idents as I

PROMO_MARK = "<!-- promo -->"
"""Prefix of a banner snippet: ``pages_site._place_snippets`` puts it above the content."""

KINDS = ("betting", "casino", "vpn", "iptv")

PROMOS: dict[str, tuple[str, dict[str, str]]] = {
    "ko": ("광고", {"betting": "신규가입 첫충 30% 스포츠 토토 메이저놀이터", "casino": "라이브 카지노 매일 첫충 20%",
                   "vpn": "차단 없는 VPN 1개월 무료", "iptv": "해외 IPTV 채널 3000개 리셀러 모집"}),
    "en": ("Sponsored", {"betting": "Sports betting: 100% welcome bonus", "casino": "Live casino, instant payouts",
                         "vpn": "Unblock everything - fast VPN, 30 days free", "iptv": "IPTV 20,000 channels, resellers wanted"}),
    "fr": ("Publicité", {"betting": "Paris sportifs : bonus de bienvenue 100 %", "casino": "Casino en direct, retraits rapides",
                         "vpn": "VPN rapide, 30 jours offerts", "iptv": "IPTV 20 000 chaînes, revendeurs"}),
    "es": ("Publicidad", {"betting": "Apuestas deportivas: bono del 100 %", "casino": "Casino en vivo, pagos al instante",
                          "vpn": "VPN rápida, 30 días gratis", "iptv": "IPTV 20.000 canales, revendedores"}),
    "ar": ("إعلان", {"betting": "مراهنات رياضية: مكافأة ترحيب 100%", "casino": "كازينو مباشر وسحب فوري",
                     "vpn": "في بي إن سريع 30 يوما مجانا", "iptv": "اشتراك IPTV 20000 قناة"}),
    "ru": ("Реклама", {"betting": "Ставки на спорт: бонус 100% на первый депозит", "casino": "Лайв-казино, быстрые выплаты",
                       "vpn": "Быстрый VPN, 30 дней бесплатно", "iptv": "IPTV 20 000 каналов, ищем реселлеров"}),
    "zh": ("广告", {"betting": "体育投注 首存送100%", "casino": "真人娱乐场 秒提现",
                    "vpn": "高速VPN 免费试用30天", "iptv": "IPTV 两万频道 招代理"}),
    "ja": ("広告", {"betting": "スポーツベット 初回入金100%ボーナス", "casino": "ライブカジノ 即時出金",
                    "vpn": "高速VPN 30日間無料", "iptv": "IPTV 2万チャンネル 代理店募集"}),
    "pt": ("Publicidade", {"betting": "Apostas esportivas: bônus de 100%", "casino": "Cassino ao vivo, saque na hora",
                           "vpn": "VPN rápida, 30 dias grátis", "iptv": "IPTV 20 mil canais, revendedores"}),
    "vi": ("Quảng cáo", {"betting": "Cá cược thể thao thưởng 100%", "casino": "Sòng bài trực tuyến rút tiền nhanh",
                         "vpn": "VPN tốc độ cao miễn phí 30 ngày", "iptv": "IPTV 20.000 kênh, tuyển đại lý"}),
    "id": ("Iklan", {"betting": "Taruhan bola bonus 100%", "casino": "Kasino live, penarikan cepat",
                     "vpn": "VPN cepat, gratis 30 hari", "iptv": "IPTV 20.000 saluran, cari reseller"}),
    "tr": ("Reklam", {"betting": "Spor bahisleri: %100 hoş geldin bonusu", "casino": "Canlı casino, anında çekim",
                      "vpn": "Hızlı VPN, 30 gün ücretsiz", "iptv": "IPTV 20.000 kanal, bayilik"}),
    "de": ("Anzeige", {"betting": "Sportwetten: 100 % Willkommensbonus", "casino": "Live-Casino, sofortige Auszahlung",
                       "vpn": "Schnelles VPN, 30 Tage gratis", "iptv": "IPTV 20.000 Sender, Wiederverkäufer gesucht"}),
    "it": ("Pubblicità", {"betting": "Scommesse sportive: bonus 100%", "casino": "Casinò live, prelievi immediati",
                          "vpn": "VPN veloce, 30 giorni gratis", "iptv": "IPTV 20.000 canali, rivenditori"}),
}
"""(ad label, promo line per advertiser kind) in each language a generated site can have."""

HANDLE_WORDS = {"betting": ("bet", "toto", "sportbet", "winbet"), "casino": ("casino", "slots", "livecasino"),
                "vpn": ("vpn", "fastvpn", "unblock"), "iptv": ("iptv", "tvbox", "iptvpro")}


def draw_advertisers(rng: random.Random, count: int) -> list[dict[str, str]]:
    """``count`` advertisers: kind, Telegram and (sometimes) a WhatsApp number."""
    out = []
    for kind in rng.sample(KINDS, count):
        handle = f"{rng.choice(HANDLE_WORDS[kind])}_{rng.choice(('vip', 'partner', 'official', 'club'))}{rng.randint(10, 9999)}"
        adv = {"kind": kind, "telegram": f"t.me/{handle}"}
        if rng.random() < 0.6:
            number = I.phone(rng, rng.choice(("KR", "VN", "ID", "TR", "RU", "BR", "GB")))
            adv["whatsapp"] = f"wa.me/{I.e164(number).lstrip('+')}"
        out.append(adv)
    return out


def banner(rng: random.Random, adv: dict[str, str], language: str) -> tuple[str, tuple[str, ...]]:
    """One banner for ``adv`` in ``language``, in a drawn markup (it starts with :data:`PROMO_MARK`),
    and the contact types (``telegram``, ``whatsapp``) it shows."""
    label, promos = PROMOS.get(language, PROMOS["en"])
    promo, lab = html.escape(promos[adv["kind"]]), html.escape(label)
    tg = adv["telegram"]
    shown = "whatsapp" if "whatsapp" in adv and rng.randrange(2) else "telegram"
    contact = f'<a href="https://{adv[shown]}">{"WhatsApp" if shown == "whatsapp" else "Telegram"}</a>'
    variant = rng.randrange(5)
    if variant not in (0, 2):
        shown = "telegram"
    if variant == 0:
        cls = rng.choice(("banner", "banner-top", "side banner-wide", "bnr"))
        body = f'<aside class="{cls}"><p>[{lab}] {promo} - {contact}</p></aside>'
    elif variant == 1:
        cls = rng.choice(("ad-slot", "ads-728", "adBox", "promo"))
        body = (f'<div class="{cls}"><a href="https://{tg}" target="_blank">'
                f'<img src="/bn/{adv["kind"]}_728x90.gif" width="728" height="90" alt="{promo}"></a></div>')
    elif variant == 2:
        body = f'<div class="box notice"><small>{lab}</small><p>{promo}</p>{contact}</div>'
    elif variant == 3:
        body = f'<p class="top-link"><a href="https://{tg}" rel="sponsored nofollow">{promo}</a></p>'
    else:
        ident = rng.choice(("sponsorBox", "partner-ad", "sponsored-1"))
        body = f'<div id="{ident}"><b>{promo}</b> Telegram @{tg.split("/", 1)[1]}</div>'
    return PROMO_MARK + body, (shown,)
