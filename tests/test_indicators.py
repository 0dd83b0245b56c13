"""Indicator extraction: realistic page snippets in many languages, validators, look-alikes, hostile input."""

from __future__ import annotations

import base64
import dataclasses
import random
import string
from pathlib import Path

import pytest

from spiders.indicators import (
    INDICATOR_TYPES,
    Found,
    IndicatorLists,
    ListError,
    extract,
    favicon_found,
    favicon_mmh3,
)
from spiders.indicators.crypto import is_btc_base58, is_eth, is_trx, segwit_decode, xmr_kind
from spiders.indicators.model import MAX_INPUT_CHARS

# Well-known public addresses and published test vectors.
BTC_GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
BTC_P2SH = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"
BTC_BECH32_V0 = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"  # BIP-173
BTC_BECH32_V0_P2WSH = "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"  # BIP-173
BTC_TAPROOT = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"  # BIP-350
BTC_BECH32M_V1_40 = "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y"  # BIP-350
BTC_BECH32M_V16 = "BC1SW50QGDZ25J"  # BIP-350, upper case
BTC_BECH32M_V2 = "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs"  # BIP-350
ETH_EIP55 = (
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
)
TRX_USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
XMR_GENERAL_FUND = (
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
)
XMR_PRIMARY = "49Xgwx3RfyV3ZMEVyrUNuUMzgQ1WHjkWL5T6Xk7QaTszggbtPbRPEkZQau9yACYEmUCHPNrU2MBdnJf4s4xLK5AyLDP5ucd"
XMR_SUBADDRESS = "85cqdW5fHGvUQzGXzrRUHf6P6AJjJrYxa25v351wNJCrS3p1g8wL1gk35HjxyQGGJPY3SygtnFxKjHtVcA7rAM1JBHukQod"
XMR_INTEGRATED = (
    "4KEMxkrvHF13ZMEVyrUNuUMzgQ1WHjkWL5T6Xk7QaTszggbtPbRPEkZQau9yACYEmUCHPNrU2MBdnJf4s4xLK5AyVTr66Q8LFefPwwfA1t"
)


def found(html: str, url: str = "", **kw) -> set[tuple[str, str]]:
    return {(f.type, f.value) for f in extract(html, url, **kw)}


def one_char_changed(addr: str, index: int, alphabet: str) -> str:
    """``addr`` with the character at ``index`` replaced by the next one in ``alphabet``."""
    c = addr[index]
    return addr[:index] + alphabet[(alphabet.index(c) + 1) % len(alphabet)] + addr[index + 1:]


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


# --- the API --------------------------------------------------------------------------------


def test_api_shape():
    assert INDICATOR_TYPES == (
        "ga", "gtm", "adsense", "yandex_metrica", "btc", "eth", "trx", "xmr", "email", "telegram",
        "discord", "whatsapp", "phone", "paypal", "favicon_mmh3", "video_host", "ad_network", "advertiser",
    )
    f = Found("ga", "G-ABC1234567", "ctx")
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.value = "x"  # type: ignore[misc]
    assert extract("") == [] and extract("   ") == []
    assert all(f.type in INDICATOR_TYPES for f in extract(KOREAN_WEBTOON, "https://toonkor.example.kr/"))


def test_deduplicated_in_page_order_with_short_context():
    html = "<p>Contact: ops@piratehub.net</p>\n" * 50 + f"<p>BTC:\n\n   {BTC_GENESIS}</p>" * 3
    result = extract(html)
    assert [(f.type, f.value) for f in result] == [("email", "ops@piratehub.net"), ("btc", BTC_GENESIS)]
    for f in result:
        assert f.value.lower() in f.context.lower() and len(f.context) <= 125
        assert "\n" not in f.context and "  " not in f.context


# --- realistic pages, many languages --------------------------------------------------------

KOREAN_WEBTOON = """<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8">
<title>툰코 - 무료 웹툰 미리보기</title>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-7QK2LZ3M9P"></script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}
gtag('js', new Date()); gtag('config', 'G-7QK2LZ3M9P');</script>
<script async src="https://pagead2.googlesyndication.com/pagead/js/adsbygoogle.js?client=ca-pub-4820155638195742"
 crossorigin="anonymous"></script>
</head><body>
<div class="toon">G-Dragon 신작 웹툰 · G-SHOCK 이벤트</div>
<ins class="adsbygoogle" data-ad-client="ca-pub-4820155638195742" data-ad-slot="1234567890"></ins>
<footer class="ft">
  <p>광고문의 텔레그램 : <b>@toonkor_ad</b> / 공식 텔레 채널 <a href="https://t.me/s/ToonKorNews">바로가기</a></p>
  <p>제휴 이메일: toonkor.help [at] gmail [dot] com · 전화: 010-1234-5678</p>
  <p><img src="/img/logo@2x.png" alt="툰코"> 새 주소는 텔레그램 공지를 확인하세요</p>
</footer></body></html>"""


def test_korean_webtoon_footer():
    assert found(KOREAN_WEBTOON, "https://toonkor.example.kr/") == {
        ("ga", "G-7QK2LZ3M9P"),
        ("adsense", "pub-4820155638195742"),
        ("ad_network", "adsense"),
        ("telegram", "t.me/toonkor_ad"),
        ("telegram", "t.me/toonkornews"),
        ("email", "toonkor.help@gmail.com"),
        ("phone", "+821012345678"),
    }


RUSSIAN_TRACKER = """<html lang="ru"><head><title>Рутрекер-клон :: Фильмы и сериалы</title>
<!-- Yandex.Metrika counter -->
<script type="text/javascript">
   (function(m,e,t,r,i,k,a){m[i]=m[i]||function(){(m[i].a=m[i].a||[]).push(arguments)};
   m[i].l=1*new Date();k=e.createElement(t),a=e.getElementsByTagName(t)[0],k.async=1,k.src=r,a.parentNode.insertBefore(k,a)})
   (window, document, "script", "https://mc.yandex.ru/metrika/tag.js", "ym");
   ym(91234567, "init", { clickmap:true, trackLinks:true, accurateTrackBounce:true, webvisor:true });
</script>
<noscript><div><img src="https://mc.yandex.ru/watch/91234567" style="position:absolute; left:-9999px;" alt="" /></div></noscript>
<script>try { var yaCounter40012345 = new Ya.Metrika({id:40012345}); } catch(e) { }</script>
<!-- /Yandex.Metrika counter -->
<script src="https://an.yandex.ru/system/context.js" async></script>
</head><body>
<div class="post">Раздача: Мастер и Маргарита (2024) WEB-DL 1080p · 14.3 ГБ · сидов: 1234</div>
<div class="donate">Поддержать трекер: BTC <code>bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4</code>,
XMR <code>44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A</code></div>
<div class="contacts">Телеграм: @rutor_support · телефон: +7 (495) 123-45-67 · почта: admin@rutor-clone.ru</div>
</body></html>"""


def test_russian_tracker_with_yandex_metrica():
    assert found(RUSSIAN_TRACKER, "https://rutor-clone.ru/forum/") == {
        ("yandex_metrica", "91234567"),
        ("yandex_metrica", "40012345"),
        ("ad_network", "yandex-ads"),
        ("btc", BTC_BECH32_V0),
        ("xmr", XMR_GENERAL_FUND),
        ("telegram", "t.me/rutor_support"),
        ("phone", "+74951234567"),
        ("email", "admin@rutor-clone.ru"),
    }


SPANISH_STREAMING = """<html lang="es"><head><title>PelisPlus HD - Ver películas online gratis</title>
<script type="text/javascript" data-cfasync="false">
/*<![CDATA[/* */
var _pop = _pop || [];
_pop.push(['siteId', 4812345]);
_pop.push(['minBid', 0]);
_pop.push(['popundersPerIP', 0]);
/*]]>/* */
</script>
<script src="//c1.popads.net/pop.js" async></script>
<script type="text/javascript">
  atOptions = { 'key' : '5f0f3e1c2b7a4d9e8c6b5a4f3e2d1c0b', 'format' : 'iframe', 'height' : 90, 'width' : 728, 'params' : {} };
</script>
<script type="text/javascript" src="//www.highperformanceformat.com/5f0f3e1c2b7a4d9e8c6b5a4f3e2d1c0b/invoke.js"></script>
<script src="https://onclkds.com/apu.php?zoneid=3456789" data-cfasync="false" async></script>
</head><body>
<h1>Dune: Parte Dos (2024) — Audio Latino</h1>
<ul class="servers">
  <li data-src="https://dood.wf/e/x7k2m9q1p0zz">Doodstream</li>
  <li><iframe src="https://filemoon.sx/e/ab12cd34ef56" allowfullscreen></iframe></li>
  <li><a href="https://mixdrop.co/e/q9w8e7r6t5y4" target="_blank">Mixdrop</a></li>
</ul>
<p>¿Enlace caído? Escríbenos: <a href="mailto:contacto@pelisplushd.la">contacto</a>
 o por WhatsApp <a href="https://wa.me/5215512345678">+52 55 1234 5678</a></p>
<p class="precio">Premium: $99.00 MXN — 30 días</p>
</body></html>"""


def test_spanish_streaming_with_popunders_and_embeds():
    assert found(SPANISH_STREAMING, "https://pelisplushd.to/pelicula/dune-parte-dos") == {
        ("ad_network", "popads"),
        ("ad_network", "adsterra"),
        ("ad_network", "propellerads"),
        ("video_host", "dood.wf"),
        ("video_host", "filemoon.sx"),
        ("video_host", "mixdrop.co"),
        ("email", "contacto@pelisplushd.la"),
        ("whatsapp", "wa.me/5215512345678"),
        ("phone", "+525512345678"),  # Mexico's old mobile "1" is gone from E.164 since 2019
    }


PORTUGUESE_STREAMING = """<!doctype html><html lang="pt-BR"><head><title>Assistir Séries Online Grátis - TopFlix</title>
<script async type="application/javascript" src="https://a.magsrv.com/ad-provider.js"></script>
<ins class="eas6a97888e2" data-zoneid="5123456"></ins>
<script>(AdProvider = window.AdProvider || []).push({"serve": {}});</script>
<script type="application/javascript">
var adConfig = {"ads_host": "a.pemsrv.com", "syndication_host": "s.pemsrv.com", "idzone": 4999999};
popMagic.init(adConfig);
</script>
<script src="https://www.googletagmanager.com/gtm.js?id=GTM-K7P4QX2"></script>
</head><body>
<div id="player"><iframe src="https://voe.sx/e/abcdefgh1234" frameborder="0"></iframe></div>
<div class="opcoes"><a data-link="https://streamwish.to/e/zz81yy72xx63">Opção 2 (StreamWish)</a></div>
<div class="rodape">Fale conosco no WhatsApp: (11) 91234-5678 — doações via PayPal:
<form action="https://www.paypal.com/cgi-bin/webscr" method="post" target="_top">
<input type="hidden" name="cmd" value="_donations">
<input type="hidden" name="business" value="Financeiro@TopFlix-Series.com.br">
<input type="hidden" name="currency_code" value="BRL">
</form></div>
</body></html>"""


def test_portuguese_streaming_with_exoclick_and_paypal_form():
    assert found(PORTUGUESE_STREAMING, "https://topflix.example.com/serie/the-boys") == {
        ("ad_network", "exoclick"),
        ("gtm", "GTM-K7P4QX2"),
        ("video_host", "voe.sx"),
        ("video_host", "streamwish.to"),
        ("phone", "+5511912345678"),
        ("paypal", "financeiro@topflix-series.com.br"),
        ("email", "financeiro@topflix-series.com.br"),
    }


CHINESE_PAGE = """<html lang="zh-CN"><head><meta charset="utf-8"><title>人人影视 - 美剧下载 在线观看</title>
<script>var _hmt = _hmt || [];</script>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-ZH8CN2V6QD"></script>
<script>gtag('config','G-ZH8CN2V6QD');</script>
</head><body>
<div class="player"><iframe src="https://player.bilibili.com/player.html?bvid=BV1xx411c7mD"></iframe></div>
<div class="footer">
  <p>商务合作 电报：@yyets_bd ，客服电话：138 0013 8000</p>
  <p>赞助本站 USDT(TRC20)：TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t</p>
  <p>ETH：0xde709f2102306220921060314715629080e2fb77</p>
  <p>版权所有 © 2024 · 本站不存储任何视频文件 · 发布时间 2024-05-01 12:30</p>
</div></body></html>"""


def test_chinese_page_with_usdt_and_telegram():
    assert found(CHINESE_PAGE, "https://yyets.example.com/") == {
        ("ga", "G-ZH8CN2V6QD"),
        ("video_host", "player.bilibili.com"),
        ("telegram", "t.me/yyets_bd"),
        ("phone", "+8613800138000"),
        ("trx", TRX_USDT),
        ("eth", "0xde709f2102306220921060314715629080e2fb77")  # its EIP-55 form is all lower-case,
    }


JAPANESE_PAGE = """<html lang="ja"><head><title>アニメ無料動画まとめ｜最新話を見逃し配信</title>
<!-- Google Tag Manager -->
<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-TJ58WQ3');</script>
<script type="text/javascript" src="https://ad.jads.co/js/jads.js"></script>
<script>(adsbyjuicy = window.adsbyjuicy || []).push({'adzone':1029384});</script>
</head><body>
<div class="embed"><iframe src="//www.mp4upload.com/embed-abc123xyz789.html"></iframe></div>
<div class="embed"><iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe></div>
<p>お問い合わせ：テレグラム @anime_matome_jp ／ 電話 03-1234-5678（平日10時〜18時）</p>
<p>メール：info＠anime-matome.jp</p>
</body></html>"""


def test_japanese_page():
    assert found(JAPANESE_PAGE, "https://anime-matome.jp/") == {
        ("gtm", "GTM-TJ58WQ3"),
        ("ad_network", "juicyads"),
        ("video_host", "mp4upload.com"),
        ("video_host", "youtube.com"),
        ("telegram", "t.me/anime_matome_jp"),
        ("phone", "+81312345678"),
        ("email", "info@anime-matome.jp"),
    }


ARABIC_PAGE = """<html lang="ar" dir="rtl"><head><title>ايجي بست - مشاهدة افلام ومسلسلات اون لاين</title>
<script async src="https://www.googletagmanager.com/gtag/js?id=UA-98765432-1"></script>
<script>gtag('config', 'UA-98765432-1');</script>
<script data-cfasync="false" src="//hilltopads.net/abc/xyz.js"></script>
</head><body>
<div class="servers"><iframe src="https://uqload.io/embed-k2j3h4g5f6d7.html"></iframe>
<iframe src="https://vidmoly.to/embed-p0o9i8u7y6t5.html"></iframe></div>
<div class="contact">للتواصل عبر تيليجرام: @egybest_official — واتساب: +966 50 123 4567
 — البريد: support@egybest-clone.example.org — <a href="mailto:ads@egy-best.cam">الإعلانات</a></div>
</body></html>"""


def test_arabic_page():
    assert found(ARABIC_PAGE, "https://egy-best.cam/movie/123") == {
        ("ga", "UA-98765432-1"),
        ("ad_network", "hilltopads"),
        ("video_host", "uqload.io"),
        ("video_host", "vidmoly.to"),
        ("telegram", "t.me/egybest_official"),
        ("phone", "+966501234567"),
        ("email", "ads@egy-best.cam"),
    }


VIETNAMESE_PAGE = """<html lang="vi"><head><title>Phim Mới - Xem phim HD Vietsub thuyết minh</title>
<script src="https://ad.a-ads.com/2345678?size=728x90"></script>
</head><body>
<div class="episode"><iframe src="https://ok.ru/videoembed/7654321098765" allowfullscreen></iframe></div>
<div class="links"><a href="https://ok.ru/profile/5800001234">trang cá nhân OK</a></div>
<div class="lien-he">Liên hệ quảng cáo: Zalo 0912 345 678 · Telegram <a href="https://t.me/phimmoi_ads">@phimmoi_ads</a>
 · Facebook fb.com/phimmoi · Email: quangcao.phimmoi(at)gmail.com</div>
<div class="donate">Ủng hộ: <a href="https://paypal.me/PhimMoiVN">PayPal</a></div>
</body></html>"""


def test_vietnamese_page():
    assert found(VIETNAMESE_PAGE, "https://phimmoi.example.net/") == {
        ("ad_network", "a-ads"),
        ("video_host", "ok.ru"),
        ("phone", "+84912345678"),
        ("telegram", "t.me/phimmoi_ads"),
        ("email", "quangcao.phimmoi@gmail.com"),
        ("paypal", "paypal.me/phimmoivn"),
    }


INDONESIAN_PAGE = """<html lang="id"><head><title>LK21 - Nonton Film Bioskop Online Subtitle Indonesia</title>
<script src="https://www.popcash.net/pop.js?uid=1234&wid=5678"></script>
<script type="text/javascript" src="https://acscdn.com/script/aclib.js"></script>
<script>aclib.runPop({ zoneId: '8123456' });</script>
</head><body>
<div class="player"><iframe src="https://dood.la/e/lk21abcdef12"></iframe></div>
<div class="player"><iframe src="https://streamtape.com/e/Lk21QwErTy/"></iframe></div>
<p>Iklan &amp; kerja sama hubungi WhatsApp: 0812-3456-7890 atau Telegram: @lk21official.
Download lewat <a href="https://ouo.io/AbC123">link ini</a>.</p>
<p>Gabung grup: <a href="https://chat.whatsapp.com/Fq8s7DkL2mN9pQrStUv">WA Group</a></p>
</body></html>"""


def test_indonesian_page():
    assert found(INDONESIAN_PAGE, "https://lk21.example.xyz/") == {
        ("ad_network", "popcash"),
        ("ad_network", "adcash"),
        ("ad_network", "ouo"),
        ("video_host", "dood.la"),
        ("video_host", "streamtape.com"),
        ("phone", "+6281234567890"),
        ("telegram", "t.me/lk21official"),
        ("whatsapp", "chat.whatsapp.com/Fq8s7DkL2mN9pQrStUv"),
    }


TURKISH_PAGE = """<html lang="tr"><head><title>DiziBOX - Yabancı Dizi İzle, Türkçe Altyazılı HD Dizi İzle</title>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-TR4DZB0X11"></script>
<script>gtag("config", "G-TR4DZB0X11", {"anonymize_ip": true});</script>
</head><body>
<div class="video"><iframe src="https://vk.com/video_ext.php?oid=-123456&id=456239017&hash=abcdef"></iframe></div>
<div class="alt"><a href="https://vk.com/dizibox_resmi">VK sayfamız</a></div>
<p>İLETİŞİM — İŞBİRLİĞİ İÇİN: Telefon: 0532 123 45 67 · Discord sunucumuz:
<a href="https://discord.gg/DiziBox42">katıl</a> · E-posta: iletisim@dizibox-resmi.com.tr</p>
</body></html>"""


def test_turkish_page_with_dotted_capital_i():
    assert found(TURKISH_PAGE, "https://dizibox.example.tv/") == {
        ("ga", "G-TR4DZB0X11"),
        ("video_host", "vk.com"),
        ("phone", "+905321234567"),
        ("discord", "discord.gg/DiziBox42"),
        ("email", "iletisim@dizibox-resmi.com.tr"),
    }


def test_monetag_zone_loader_on_a_rotating_domain():
    html = """<script>(function(d,z,s){s.src='https://'+d+'/401/'+z;try{(document.body||
    document.documentElement).appendChild(s)}catch(e){}})('groleegni.net',7654321,document.createElement('script'))</script>"""
    assert found(html) == {("ad_network", "monetag")}


# --- analytics ------------------------------------------------------------------------------


def test_ga_contexts():
    html = """<script>
    ga('create', 'UA-1234567-1', 'auto');
    _gaq.push(['_setAccount', 'ua-7654321-12']);
    const firebaseConfig = { apiKey: "AIza...", measurementId: "G-ABCD123456" };
    gtag('event', 'conversion', {'send_to': 'G-SENDTO1234'});
    </script><script src="https://www.googletagmanager.com/gtag/js?l=dataLayer&id=G-LAYER98765"></script>"""
    assert found(html) == {
        ("ga", "UA-1234567-1"), ("ga", "UA-7654321-12"), ("ga", "G-ABCD123456"),
        ("ga", "G-SENDTO1234"), ("ga", "G-LAYER98765"),
    }


def test_ga_false_positives_rejected():
    html = """<p>G-Dragon and BIGBANG; the new G-SHOCK GA-2100; Mercedes G-CLASS G-500;
    model G-1234567890 in stock; gtag('config', 'G-XXXXXXXXXX'); GTM-XXXX placeholder;
    a pub-1234567890123456 number in prose; UA-12-3 too short; TUA-1234567-1 is a part number</p>"""
    assert found(html) == set()


def test_adsense_bare_pub_only_in_adsense_context():
    ads_txt = "google.com, pub-9876543210987654, DIRECT, f08c47fec0942fa0"
    assert found(ads_txt) == {("adsense", "pub-9876543210987654")}
    assert found('<script>google_ad_client = "ca-pub-1111222233334444";</script>') == {
        ("adsense", "pub-1111222233334444")
    }


# --- crypto ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "addr",
    [BTC_GENESIS, BTC_P2SH, BTC_BECH32_V0, BTC_BECH32_V0_P2WSH, BTC_TAPROOT, BTC_BECH32M_V1_40,
     BTC_BECH32M_V16, BTC_BECH32M_V2],
)
def test_valid_btc(addr):
    value = addr.lower() if addr.lower().startswith("bc1") else addr
    assert found(f"<p>Donate BTC: {addr}</p>") == {("btc", value)}


@pytest.mark.parametrize(
    "addr",
    [
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # v1 with a bech32 checksum
        "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",  # v16 with a bech32 checksum
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # v0 with a bech32m checksum
        "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",  # non-zero padding
        "bc1gmk9yu",  # empty data
        "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # mixed case
        "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",  # testnet HRP
    ],
)
def test_invalid_bech32_rejected(addr):
    assert segwit_decode(addr) is None
    assert found(f"BTC: {addr}") == set()


@pytest.mark.parametrize(
    ("addr", "alphabet", "coin"),
    [
        (BTC_GENESIS, B58, "btc"),
        (BTC_P2SH, B58, "btc"),
        (BTC_BECH32_V0, BECH32, "btc"),
        (BTC_TAPROOT, BECH32, "btc"),
        (TRX_USDT, B58, "trx"),
        (XMR_GENERAL_FUND, B58, "xmr"),
        (XMR_SUBADDRESS, B58, "xmr"),
        (XMR_INTEGRATED, B58, "xmr"),
    ],
)
def test_one_character_changed_is_rejected(addr, alphabet, coin):
    for index in (len(addr) // 2, len(addr) - 1, len(addr) - 7):
        lookalike = one_char_changed(addr, index, alphabet)
        assert lookalike != addr
        assert found(f"{coin.upper()} wallet: {lookalike}") == set(), lookalike


def test_validators_directly():
    assert is_btc_base58(BTC_GENESIS) and is_btc_base58(BTC_P2SH)
    assert not is_btc_base58(TRX_USDT) and not is_trx(BTC_GENESIS) and is_trx(TRX_USDT)
    assert xmr_kind(XMR_GENERAL_FUND) == "standard" and xmr_kind(XMR_PRIMARY) == "standard"
    assert xmr_kind(XMR_SUBADDRESS) == "subaddress" and xmr_kind(XMR_INTEGRATED) == "integrated"
    assert segwit_decode(BTC_TAPROOT) is not None and segwit_decode(BTC_TAPROOT)[0] == 1
    assert segwit_decode(BTC_BECH32_V0)[0] == 0 and len(segwit_decode(BTC_BECH32_V0_P2WSH)[1]) == 32


@pytest.mark.parametrize("addr", ETH_EIP55)
def test_eth_eip55_vectors(addr):
    assert is_eth(addr)
    assert found(f"ETH/USDT(ERC20): {addr}") == {("eth", addr)}
    # all-lower and all-upper forms carry no checksum: accepted, normalised to EIP-55
    assert found(f"eth {addr.lower()}") == {("eth", addr)}
    assert found(f"eth 0x{addr[2:].upper()}") == {("eth", addr)}


def test_eth_lookalikes_rejected():
    good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    bad_case = good[:-1] + "D"  # one letter's case flipped: EIP-55 checksum fails
    assert not is_eth(bad_case)
    tx_hash = "0x88df016429689c079f3b2f6ad39fa052532c56795b733da78a91ebe6a713944b"
    html = f"""<p>{bad_case}</p><p>tx {tx_hash}</p><p>burn 0x0000000000000000000000000000000000000000</p>
    <p>short 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA</p><p>hex 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaedz</p>"""
    assert found(html) == set()


@pytest.mark.parametrize("addr", [XMR_GENERAL_FUND, XMR_PRIMARY, XMR_SUBADDRESS, XMR_INTEGRATED])
def test_valid_xmr(addr):
    assert found(f"<p>Monero: <code>{addr}</code></p>") == {("xmr", addr)}


def test_crypto_inside_longer_tokens_is_not_split_out():
    assert found(f"id=x{BTC_GENESIS}y and {TRX_USDT}Z and a{XMR_GENERAL_FUND}") == set()
    assert found(f"bitcoin:{BTC_GENESIS}?amount=0.01") == {("btc", BTC_GENESIS)}


# --- contacts -------------------------------------------------------------------------------


def test_email_false_positives_rejected():
    html = """<img src="/images/logo@2x.png"><img srcset="hero@3x.webp 3x, icon@1.5x.jpg">
    <p>Write to you@yourdomain.com or user@example.com or name@example.org</p>
    <script>Sentry.init({dsn:"https://0123456789abcdef0123456789abcdef@o123456.ingest.sentry.io/4504"});</script>
    <script src="https://cdn.jsdelivr.net/npm/lodash@4.17.21/lodash.min.js"></script>
    <script src="https://unpkg.com/swiper@8/swiper-bundle.min.js"></script><p>core-js@3.30.0, a@b</p>"""
    assert found(html) == set()


def test_email_obfuscations_and_entities():
    html = """<p>admin [at] piratebay-mirror [dot] org</p><p>dmca (at) streamhub.cc</p>
    <p>billing{at}movieshub{dot}co{dot}uk</p><p>abuse&#64;warez-host.net</p>
    <a href="mailto:Owner@Pirate-Site.COM?subject=Ads">mail</a>"""
    assert found(html) == {
        ("email", "admin@piratebay-mirror.org"), ("email", "dmca@streamhub.cc"),
        ("email", "billing@movieshub.co.uk"), ("email", "abuse@warez-host.net"),
        ("email", "owner@pirate-site.com"),
    }


def test_telegram_forms():
    html = """<a href="https://t.me/s/MovieDrop">web</a> <a href="telegram.me/MovieDrop">same</a>
    <a href="https://t.me/joinchat/AAAAAEsdfK2kLm9xYz">private</a> <a href="https://t.me/+Xy9AbCdEfGh12345">invite</a>
    <a href="tg://resolve?domain=moviedrop_bot">bot</a> <a href="https://t.me/share/url?url=https://x.y">share</a>
    <a href="https://t.me/MovieDrop/1234">post</a> <span>at.me/ignored</span>"""
    assert found(html) == {
        ("telegram", "t.me/moviedrop"), ("telegram", "t.me/+AAAAAEsdfK2kLm9xYz"),
        ("telegram", "t.me/+Xy9AbCdEfGh12345"), ("telegram", "t.me/moviedrop_bot"),
    }


def test_telegram_handles_only_next_to_the_word():
    html = """<style>.icon-telegram{color:#2AABEE} @media (max-width: 600px){.x{}}</style>
    <p>Follow us on Twitter @piracy_news</p><p>Телеграм-канал: @kino_hd_ru</p>
    <p>Contact: support@kinohd.ru (not a handle)</p><p>@warez_admin (Telegram)</p>"""
    assert found(html) == {
        ("telegram", "t.me/kino_hd_ru"), ("telegram", "t.me/warez_admin"), ("email", "support@kinohd.ru"),
    }


def test_discord_and_whatsapp_forms():
    html = """<a href="https://discord.com/invite/AbCdEf12">d1</a> <a href="https://discordapp.com/invite/XyZ987">d2</a>
    <a href="https://api.whatsapp.com/send?phone=447911123456&text=Hi">wa1</a>
    <a href="whatsapp://send?text=hi&phone=%2B5511912345678">wa2</a>"""
    assert found(html) == {
        ("discord", "discord.gg/AbCdEf12"), ("discord", "discord.gg/XyZ987"),
        ("whatsapp", "wa.me/447911123456"), ("phone", "+447911123456"),
        ("whatsapp", "wa.me/5511912345678"), ("phone", "+5511912345678"),
    }


def test_phones_only_in_explicit_contexts():
    html = """<p>Released 2024-05-01, 1080p, 14 345 678 views, ID 0532123456, price 1 234 567 VND</p>
    <a href="tel:+34 612 34 56 78">Llámanos</a> <a href="tel:1900-1234">hotline</a>"""
    assert found(html, "https://example.vn/") == {("phone", "+34612345678"), ("phone", "+8419001234")}  # a VN shared-cost number


def test_paypal_forms():
    html = """<a href="https://www.paypal.com/paypalme/WarezDonations/10">tip</a>
    <a href="https://www.paypal.com/cgi-bin/webscr?cmd=_donations&business=owner%40warez-site.net&currency_code=USD">d</a>
    <a href="https://www.paypal.com/donate/?hosted_button_id=ABCD1234EFGH5">donate</a>
    <form action="https://www.paypal.com/donate" method="post"><input type="hidden" name="business" value="Q7XK2L9M3N4P5"></form>"""
    assert found(html) == {
        ("paypal", "paypal.me/warezdonations"), ("paypal", "owner@warez-site.net"),
        ("paypal", "hosted_button_id:ABCD1234EFGH5"), ("paypal", "merchant:Q7XK2L9M3N4P5"),
    }


# --- hosts and lists ------------------------------------------------------------------------


def test_shipped_lists_cover_the_usual_hosts_and_networks():
    lists = IndicatorLists.load()
    for host in ("streamtape.com", "doodstream.com", "dood.la", "d000d.com", "ds2play.com", "filemoon.sx",
                 "mixdrop.co", "upstream.to", "vidoza.net", "voe.sx", "streamwish.com", "vidmoly.to",
                 "mp4upload.com", "dailymotion.com", "youtube.com"):
        assert lists.video_host(host) is not None, host
    assert lists.video_host("ok.ru", "/videoembed/1") and lists.video_host("ok.ru", "/profile/1") is None
    assert lists.video_host("vk.com", "/video_ext.php") and lists.video_host("vk.com", "/id1") is None
    assert lists.video_host("www.youtube.com").legit and not lists.video_host("streamtape.com").legit
    names = {rule.name for rules in lists.ads.values() for rule in rules} | {m.name for m in lists.ad_markers}
    for network in ("popads", "popcash", "propellerads", "adsterra", "hilltopads", "exoclick", "juicyads",
                    "clickadu", "a-ads", "monetag", "onclicka"):
        assert network in names, network
    assert IndicatorLists.load() is IndicatorLists.load()


def test_host_suffix_matching_and_own_site(tmp_path: Path):
    (tmp_path / "video_hosts.txt").write_text("# test list\nstreamtape.com streamtape\nok.ru/videoembed\n")
    (tmp_path / "ad_networks.txt").write_text("popads.net popads  # comment\ntext:var\\x  weird\n")
    lists = IndicatorLists.load(tmp_path)
    html = """<iframe src="https://notstreamtape.com/e/1"></iframe><iframe src="https://streamtape.com.evil.io/e/2"></iframe>
    <script src="//popads.network/x.js"></script><iframe src="https://ok.ru/video/1"></iframe>"""
    assert found(html, lists=lists) == set()
    assert found('<iframe src="https://WWW.StreamTape.com/e/1"></iframe>', lists=lists) == {("video_host", "streamtape.com")}
    assert found('<a href="https://streamtape.com/v/1">own page</a>', "https://streamtape.com/", lists=lists) == set()
    script = "<script>var u = 'https:\\/\\/ok.ru\\/videoembed\\/99'; player.load(u);</script>"
    assert found(script, lists=lists) == {("video_host", "ok.ru")}
    assert found("<script>var\\x = 1</script>", lists=lists) == {("ad_network", "weird")}


def test_bad_list_line_is_reported(tmp_path: Path):
    (tmp_path / "video_hosts.txt").write_text("streamtape.com\nnot a host!\n")
    with pytest.raises(ListError, match="video_hosts.txt:2"):
        IndicatorLists.load(tmp_path)
    (tmp_path / "video_hosts.txt").write_text("re:foo  x\n")
    with pytest.raises(ListError, match="marker"):
        IndicatorLists.load(tmp_path)


# --- favicon --------------------------------------------------------------------------------


def _murmur3_32(data: bytes, seed: int = 0) -> int:
    """Reference MurmurHash3 x86 32-bit (Austin Appleby), signed, written out independently."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed
    rounded = len(data) & ~3
    for i in range(0, rounded, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    k = 0
    tail = data[rounded:]
    if len(tail) == 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if len(tail) >= 1:
        k ^= tail[0]
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


def test_favicon_mmh3_as_shodan_computes_it():
    assert _murmur3_32(b"foo") == -156908512  # the published mmh3.hash("foo")
    icon = bytes(range(256)) * 5 + b"\x89PNG favicon tail"
    encoded = base64.encodebytes(icon)
    lines = encoded.split(b"\n")
    assert encoded.endswith(b"\n") and all(len(line) == 76 for line in lines[:-2]) and len(lines[-2]) <= 76
    assert encoded != base64.b64encode(icon)
    assert favicon_mmh3(icon) == str(_murmur3_32(encoded))
    assert favicon_mmh3(icon) != str(_murmur3_32(base64.b64encode(icon)))
    assert favicon_mmh3(b"") == "0"
    f = favicon_found(icon, "https://pirate.example/favicon.ico")
    assert (f.type, f.value, f.context) == ("favicon_mmh3", favicon_mmh3(icon), "https://pirate.example/favicon.ico")


# --- hostile input --------------------------------------------------------------------------


def test_hostile_pages_finish():
    rng = random.Random(1234)
    alphabet = string.ascii_letters + string.digits + " <>\"'=/:.@-_[]()#&;\n"
    noise = "".join(rng.choices(alphabet, k=5 * 1024 * 1024))
    extract(noise, "https://noise.example/")
    assert extract("0x" * 100_000) == []
    assert extract(("0x" + "a" * 41 + " ") * 20_000) == []
    assert extract("telegram @" * 50_000 + "phone: +" * 50_000) == []
    assert extract("x [at] " + "a [dot] " * 200_000) == []
    assert extract("//" + "a." * 500_000 + "@" * 100_000) == []
    tail = f" BTC {BTC_GENESIS}"
    assert found("a " * (MAX_INPUT_CHARS // 2) + tail) == set()  # past the bound: not read
    assert found("a " * 1000 + tail) == {("btc", BTC_GENESIS)}
