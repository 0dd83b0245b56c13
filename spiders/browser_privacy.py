"""Chromium without a voice of its own: every flag and preference that keeps the browser quiet.

The browser that renders pages (``spiders.render``) may fetch what the pages ask for, through
``[network] proxy``, and nothing else. Chromium itself wants to talk to Google all the time
(component updates, on-device model manifests, account checks, safe browsing, optimisation
hints, translate, autofill, metrics, variations, network time, spellcheck dictionaries,
network prediction ...). Measured on Debian's Chromium 156 behind the sandbox proxy, with
Playwright's own defaults, three of those went out at start-up alone: ``update.googleapis.com``
(an on-demand install of the on-device model manifest, which ``--disable-component-update``
does not stop), ``accounts.google.com/ListAccounts`` (every few seconds, which no flag or
preference stops) and, whenever a ``--disable-features`` list was given,
``clients2.google.com`` and ``optimizationguide-pa.googleapis.com``.

Three layers, all here, all applied by :func:`launch_options` and :func:`write_profile`:

1. **Switches** (:data:`SWITCHES`) turn services off where Chromium has a switch for it.
2. **The black hole**: services that cannot be switched off are pointed at a host under
   ``.invalid`` (RFC 6761: never a real name), which bypasses the proxy and which the
   browser's own resolver maps to "not found" (``--host-resolver-rules``): such a request
   fails inside the browser, before any byte leaves it, and the proxy never sees it.
3. **Preferences** (:data:`PROFILE_PREFERENCES`, :data:`LOCAL_STATE`), written into a fresh
   profile folder per crawl before the browser starts: safe browsing, translate, spellcheck,
   autofill, sign-in, search suggestions, network prediction, WebRTC, DNS-over-HTTPS, metrics.

Name resolution: with a proxy, every scheme goes through it (``--proxy-server``; Playwright
adds ``<-loopback>`` so even loopback is proxied) and ``--host-resolver-rules`` maps every
name except the proxy's own to "not found", so Chromium never asks a resolver (the proxy
resolves). The only proxy exception is ``*.invalid``, the black hole above. Without a proxy
("connect directly", the documented default) the browser resolves page names with the system
resolver as any browser does; the black hole still resolves nowhere.

Feature names follow Chromium 156; Chromium ignores names it does not know. Chromium honours
only the LAST ``--disable-features`` switch, so :data:`DISABLED_FEATURES` repeats Playwright's
own list (which it would otherwise replace) before adding isop's.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

BROWSER_USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/156.0.0.0 Safari/537.36")
"""The default User-Agent, of Scrapy and of the browser alike: desktop Chrome on Windows, in
Chrome's reduced form (``<major>.0.0.0``), the major version of the Chromium that renders
(Debian's), so what the browser does matches what it claims. Update it with that Chromium."""

BLACK_HOLE = "off.invalid"
"""Services that cannot be switched off are sent to ``https://<service>.off.invalid/``."""


def _hole(service: str, path: str = "/") -> str:
    return f"https://{service}.{BLACK_HOLE}{path}"


PLAYWRIGHT_DISABLED_FEATURES = (
    # Playwright 1.65's own list (chromiumSwitches.ts), kept because ours replaces it.
    "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable", "LensOverlay", "MediaRouter", "PaintHolding",
    "ThirdPartyStoragePartitioning", "AvoidCorsURLLoaderRestartOnRedirect", "OptimizationHints",
    "NetworkTimeServiceQuerying", "AimEnabled", "PreconnectToSearch",
)

DISABLED_FEATURES = PLAYWRIGHT_DISABLED_FEATURES + (
    # Optimisation guide: hints per page visited, prediction models, on-device (Gemini
    # Nano) model manifests and downloads.
    "OptimizationHintsFetching", "OptimizationTargetPrediction", "OptimizationGuideModelDownloading",
    "OptimizationGuideModelExecution", "OptimizationGuideManifestBroker", "OptimizationGuideOnDeviceModel",
    "OptimizationGuideProactivePersonalizedHintsFetching", "OnDeviceModelBackgroundDownload",
    "HistoryEmbeddings", "Compose",
    # Autofill asks Google about every form it sees (and uploads votes).
    "AutofillServerCommunication", "AutofillUpstream",
    # Translate fetches its script and language models for foreign-language pages.
    "Translate", "TranslateUI",
    # Live captions and speech recognition download language packs (SODA).
    "LiveCaption", "OnDeviceSpeechRecognition",
    # Surveys, the new-tab feed, cast device discovery, CT log list updates.
    "HappinessTrackingSurveysForDesktopSettings", "InterestFeedContentSuggestions",
    "DialMediaRouteProvider", "GlobalMediaControls", "CertificateTransparencyComponentUpdater",
    # Real-time Safe Browsing lookups through Google's OHTTP relay (also off by preference).
    "SafeBrowsingHashPrefixRealTimeLookups",
)

SERVICE_URLS = {
    # Switch -> black-hole URL, for services that ignore every "off" switch.
    "component-updater": "url-source=" + _hole("update", "/service/update2/json"),  # on-demand installs
    "gaia-url": _hole("accounts"),  # ListAccounts, sign-in, cookie checks
    "google-apis-url": _hole("apis"),
    "oauth-account-manager-url": _hole("oauth"),
    "google-url": _hole("www"),
    "variations-server-url": _hole("variations"),
    "uma-server-url": _hole("metrics"),
    "sync-url": _hole("sync"),
    "translate-script-url": _hole("translate"),
    "optimization-guide-service-get-hints-url": _hole("hints"),
    "optimization-guide-service-model-execution-url": _hole("models"),
    "model-quality-service-url": _hole("quality"),
    "permission-predictions-service-url": _hole("permissions"),
    "device-management-url": _hole("policy"),
    "realtime-reporting-url": _hole("reporting"),
    "safe-browsing-trusted-url": _hole("safebrowsing"),
}

SWITCHES = (
    "--disable-background-networking",  # safe browsing lists, variations seed, NTP, promos
    "--disable-component-update",  # CRLSets, origin trials, PKI metadata, ... (on-demand ones: black hole)
    "--disable-component-extensions-with-background-pages",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-domain-reliability",  # error beacons to Google properties
    "--no-pings",  # <a ping> hyperlink auditing
    "--metrics-recording-only",  # metrics recorded in memory, never uploaded
    "--disable-breakpad",  # no crash dumps, no crash uploads
    "--disable-field-trial-config",  # no field trials from the built-in testing config
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-search-engine-choice-screen",
    "--deny-permission-prompts",  # geolocation (Google's location service), notifications ...
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",  # no UDP around the proxy (STUN)
    "--disable-quic",  # QUIC cannot go through an HTTP proxy
    "--disable-features=" + ",".join(DISABLED_FEATURES),
    *(f"--{name}={value}" for name, value in SERVICE_URLS.items()),
)
"""Chromium switches for every launch (Playwright adds its own defaults before them)."""

PROFILE_PREFERENCES = {
    "safebrowsing": {"enabled": False, "enhanced": False, "scout_reporting_enabled": False},
    "translate": {"enabled": False},
    "spellcheck": {"dictionaries": [], "use_spelling_service": False},  # no dictionary downloads
    "browser": {"enable_spellchecking": False, "check_default_browser": False},
    "autofill": {"profile_enabled": False, "credit_card_enabled": False},
    "payments": {"can_make_payment_enabled": False},
    "credentials_enable_service": False,  # password manager (and its leak checks)
    "credentials_enable_autosignin": False,
    "profile": {"password_manager_leak_detection": False},
    "signin": {"allowed": False, "allowed_on_next_startup": False},
    "search": {"suggest_enabled": False},
    "alternate_error_pages": {"enabled": False},  # "did you mean" lookups on failed navigations
    "net": {"network_prediction_options": 2},  # no DNS prefetch, preconnect or prefetch of links
    "url_keyed_anonymized_data_collection": {"enabled": False},
    "webrtc": {"ip_handling_policy": "disable_non_proxied_udp", "multiple_routes_enabled": False,
               "nonproxied_udp_enabled": False},
    "privacy_sandbox": {"m1": {"topics_enabled": False, "fledge_enabled": False,
                               "ad_measurement_enabled": False}},
    "default_apps": "noinstall",
}
"""``Default/Preferences`` of the crawl's fresh browser profile."""

LOCAL_STATE = {
    "dns_over_https": {"mode": "off"},  # no DoH probes: names are the proxy's business
    "user_experience_metrics": {"reporting_enabled": False},
    "optimization_guide": {"gen_ai_local_foundational_model_settings": 1},  # never download the model
    "browser": {"enabled_labs_experiments": []},
}
"""``Local State`` (browser-wide preferences) of the same profile."""


def resolver_switches(proxy: str | None) -> list[str]:
    """Where Chromium may resolve names: nowhere but the proxy's own name (with a proxy), or
    anywhere but the black hole (without one); and the proxy exception for the black hole."""
    hole = f"*.{BLACK_HOLE}"
    if not proxy:
        return [f"--host-resolver-rules=MAP {hole} ~NOTFOUND"]
    host = urlsplit(proxy).hostname or ""
    rules = "MAP * ~NOTFOUND" + (f" , EXCLUDE {host}" if host else "")
    return [f"--host-resolver-rules={rules}", f"--proxy-bypass-list=<-loopback>;{hole}"]


def launch_options(base: dict, proxy: str | None, user_agent: str | None = None) -> dict:
    """Playwright launch options: ``base`` (``PLAYWRIGHT_LAUNCH_OPTIONS``) with every switch
    above, the proxy for all schemes, the resolver rules and the browser-wide User-Agent.

    Switches already in ``base`` are kept once; a ``--disable-features``,
    ``--host-resolver-rules`` or ``--proxy-bypass-list`` in ``base`` is replaced (it would
    undo the lists here)."""
    options = dict(base)
    replaced = ("--disable-features=", "--host-resolver-rules=", "--proxy-bypass-list=", "--user-agent=")
    args = [a for a in options.get("args", []) if not a.startswith(replaced)]
    wanted = [*SWITCHES, *resolver_switches(proxy)]
    if user_agent:
        wanted.append(f"--user-agent={user_agent}")  # also what CONNECT and the browser's own requests say
    options["args"] = [*args, *(a for a in wanted if a not in args)]
    if proxy:
        options["proxy"] = {"server": proxy}
    else:
        options.pop("proxy", None)
    return options


def write_profile(user_data_dir: Path) -> Path:
    """Write the preferences above into a new, empty browser profile folder."""
    user_data_dir = Path(user_data_dir)
    (user_data_dir / "Default").mkdir(parents=True, exist_ok=True)
    (user_data_dir / "Default" / "Preferences").write_text(json.dumps(PROFILE_PREFERENCES))
    (user_data_dir / "Local State").write_text(json.dumps(LOCAL_STATE))
    return user_data_dir
