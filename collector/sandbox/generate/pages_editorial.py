"""Editorial text piracy sites carry, per language: plot synopses, critics' blurbs, app reviews.

Real piracy pages are not bare lists. A streaming clone pastes the film's synopsis (police,
a judge, an investigation) and a critics' line ("a box office hit, now available on
streaming"); a mod-APK site wraps its download in an SEO review ("our editor tested...,
according to our analysis..., installation guide below"); an IPTV reseller heads its price
table "choose your plan". A classifier that learned "editorial words mean news" from bare
generated pages punishes all of these, so generated piracy sites carry them too (some of
the time, see :mod:`~collector.sandbox.generate.pages_site`). Nothing here is a real
site's text.
"""

from __future__ import annotations

EDITORIAL_KEYS = ("synopsis", "critics", "app_review", "choose_plan")

EDITORIAL: dict[str, dict[str, str]] = {
    "en": {
        "synopsis": "When his brother is arrested, a young lawyer starts his own investigation. The police, "
                    "a judge and a reporter all want the truth to stay buried.",
        "critics": "According to critics it is one of the best thrillers of the year: a box office hit, "
                   "now available on streaming services.",
        "app_review": "Our review: the editor tested every feature of this version. According to our analysis "
                      "it runs on most phones. Installation guide below.",
        "choose_plan": "Choose your plan",
    },
    "fr": {
        "synopsis": "Quand son frère est arrêté, un jeune avocat mène sa propre enquête. La police, un juge et "
                    "une journaliste veulent que la vérité reste enterrée.",
        "critics": "Selon la critique, c'est l'un des meilleurs thrillers de l'année : un succès au box-office, "
                   "désormais disponible en streaming.",
        "app_review": "Notre avis : la rédaction a testé chaque fonction de cette version. Selon notre analyse, "
                      "elle fonctionne sur la plupart des téléphones. Guide d'installation ci-dessous.",
        "choose_plan": "Choisissez votre formule",
    },
    "es": {
        "synopsis": "Cuando su hermano es detenido, un joven abogado inicia su propia investigación. La policía, "
                    "un juez y una periodista quieren que la verdad siga enterrada.",
        "critics": "Según la crítica, es uno de los mejores thrillers del año: un éxito de taquilla, ahora "
                   "disponible en plataformas.",
        "app_review": "Nuestra reseña: el editor probó cada función de esta versión. Según nuestro análisis "
                      "funciona en la mayoría de los móviles. Guía de instalación abajo.",
        "choose_plan": "Elige tu plan",
    },
    "pt": {
        "synopsis": "Quando o irmão é preso, um jovem advogado começa sua própria investigação. A polícia, um "
                    "juiz e uma repórter querem que a verdade continue enterrada.",
        "critics": "Segundo a crítica, é um dos melhores suspenses do ano: sucesso de bilheteria, agora "
                   "disponível nas plataformas.",
        "app_review": "Nossa análise: o editor testou cada recurso desta versão. Segundo nossos testes funciona "
                      "na maioria dos celulares. Guia de instalação abaixo.",
        "choose_plan": "Escolha seu plano",
    },
    "de": {
        "synopsis": "Als sein Bruder verhaftet wird, beginnt ein junger Anwalt eigene Ermittlungen. Die Polizei, "
                    "ein Richter und eine Reporterin wollen, dass die Wahrheit begraben bleibt.",
        "critics": "Laut Kritikern einer der besten Thriller des Jahres: ein Kassenschlager, jetzt auch im "
                   "Stream verfügbar.",
        "app_review": "Unser Test: Die Redaktion hat jede Funktion dieser Version geprüft. Laut unserer Analyse "
                      "läuft sie auf den meisten Handys. Installationsanleitung unten.",
        "choose_plan": "Wähle dein Paket",
    },
    "it": {
        "synopsis": "Quando il fratello viene arrestato, un giovane avvocato avvia una propria indagine. La "
                    "polizia, un giudice e una giornalista vogliono che la verità resti sepolta.",
        "critics": "Secondo la critica è uno dei migliori thriller dell'anno: un successo al botteghino, ora "
                   "disponibile in streaming.",
        "app_review": "La nostra recensione: la redazione ha provato ogni funzione di questa versione. Secondo "
                      "la nostra analisi funziona sulla maggior parte dei telefoni. Guida all'installazione qui sotto.",
        "choose_plan": "Scegli il tuo piano",
    },
    "ru": {
        "synopsis": "Когда его брата арестовывают, молодой адвокат начинает собственное расследование. Полиция, "
                    "судья и журналистка хотят, чтобы правда осталась скрытой.",
        "critics": "По мнению критиков, это один из лучших триллеров года: лидер кассовых сборов, теперь "
                   "доступен онлайн.",
        "app_review": "Наш обзор: редакция проверила все функции этой версии. По нашему анализу, она работает "
                      "на большинстве телефонов. Инструкция по установке ниже.",
        "choose_plan": "Выберите тариф",
    },
    "zh": {
        "synopsis": "弟弟被警方逮捕后，一名年轻律师开始了自己的调查。警察、法官和一名记者都想让真相永远埋藏。",
        "critics": "据影评人称，这是年度最佳惊悚片之一：票房大卖，现已在流媒体平台上线。",
        "app_review": "我们的评测：编辑测试了这个版本的所有功能。据我们分析，它可以在大多数手机上运行。安装教程见下文。",
        "choose_plan": "选择您的套餐",
    },
    "ja": {
        "synopsis": "弟が逮捕されたことをきっかけに、若い弁護士が独自の調査を始める。警察、裁判官、そして記者は真実を隠し続けようとする。",
        "critics": "批評家によれば今年最高のスリラーの一つ。興行収入も好調で、現在は配信でも視聴可能。",
        "app_review": "レビュー：編集部がこのバージョンの全機能をテストしました。分析によるとほとんどのスマホで動作します。インストール手順は下記。",
        "choose_plan": "プランを選択",
    },
    "ko": {
        "synopsis": "동생이 체포되자 젊은 변호사는 직접 수사에 나선다. 경찰과 판사, 그리고 한 기자는 진실이 묻혀 있기를 원한다.",
        "critics": "평론가들에 따르면 올해 최고의 스릴러 중 하나이며, 흥행에 성공해 지금은 스트리밍으로도 볼 수 있다.",
        "app_review": "리뷰: 편집자가 이 버전의 모든 기능을 테스트했습니다. 분석에 따르면 대부분의 휴대폰에서 작동합니다. "
                      "설치 방법은 아래에 있습니다.",
        "choose_plan": "요금제를 선택하세요",
    },
    "ar": {
        "synopsis": "عندما يُعتقل شقيقه، يبدأ محامٍ شاب تحقيقه الخاص. الشرطة وقاضٍ وصحفية يريدون أن تبقى الحقيقة مدفونة.",
        "critics": "وفقًا للنقاد، هو من أفضل أفلام الإثارة هذا العام: نجاح في شباك التذاكر، ومتاح الآن على منصات البث.",
        "app_review": "مراجعتنا: جرّب المحرر كل ميزات هذا الإصدار. وفقًا لتحليلنا يعمل على معظم الهواتف. دليل التثبيت بالأسفل.",
        "choose_plan": "اختر باقتك",
    },
    "tr": {
        "synopsis": "Kardeşi tutuklanınca genç bir avukat kendi soruşturmasını başlatır. Polis, bir hâkim ve bir "
                    "muhabir gerçeğin gömülü kalmasını ister.",
        "critics": "Eleştirmenlere göre yılın en iyi gerilim filmlerinden biri: gişe rekorları kırdı, şimdi "
                   "dijital platformlarda.",
        "app_review": "İncelememiz: editörümüz bu sürümün tüm özelliklerini test etti. Analizimize göre çoğu "
                      "telefonda çalışıyor. Kurulum rehberi aşağıda.",
        "choose_plan": "Paketini seç",
    },
    "vi": {
        "synopsis": "Khi em trai bị bắt, một luật sư trẻ bắt đầu cuộc điều tra của riêng mình. Cảnh sát, một "
                    "thẩm phán và một phóng viên đều muốn sự thật bị chôn vùi.",
        "critics": "Theo giới phê bình, đây là một trong những phim giật gân hay nhất năm: thành công phòng vé, "
                   "nay đã có trên các nền tảng.",
        "app_review": "Đánh giá của chúng tôi: biên tập viên đã thử mọi tính năng của phiên bản này. Theo phân "
                      "tích của chúng tôi, nó chạy trên hầu hết điện thoại. Hướng dẫn cài đặt bên dưới.",
        "choose_plan": "Chọn gói của bạn",
    },
    "id": {
        "synopsis": "Saat adiknya ditangkap, seorang pengacara muda memulai penyelidikannya sendiri. Polisi, "
                    "seorang hakim, dan seorang wartawan ingin kebenaran tetap terkubur.",
        "critics": "Menurut para kritikus, ini salah satu film thriller terbaik tahun ini: sukses di box office, "
                   "kini tersedia di layanan streaming.",
        "app_review": "Ulasan kami: editor menguji setiap fitur versi ini. Menurut analisis kami, aplikasi ini "
                      "berjalan di sebagian besar ponsel. Panduan instalasi di bawah.",
        "choose_plan": "Pilih paket Anda",
    },
}
"""language -> key -> text; every language has every key of EDITORIAL_KEYS."""
