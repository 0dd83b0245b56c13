"""When a page needs a browser: links or content that only exist after JavaScript runs.

Rendering costs a browser tab, so only pages that show the marks of script-built content
are rendered: almost no text or links but scripts; inline scripts that build links
(``createElement('a')``, ``.href =``, ``innerHTML``, ``document.write``); an empty
single-page-app root; a ``<noscript>`` asking for JavaScript.
"""

from __future__ import annotations

import re

_BUILDS_LINKS = re.compile(
    r"createElement\(\s*['\"]a['\"]\s*\)|\.href\s*=|\.innerHTML\s*\+?=|insertAdjacentHTML|document\.write\s*\(|"
    r"\batob\s*\(|\.setAttribute\(\s*['\"]href['\"]", re.I)
_SPA_ROOT = re.compile(r"<div[^>]+id=[\"']?(?:root|app|__next|__nuxt)[\"']?[^>]*>\s*</div>", re.I)
_NOSCRIPT_JS = re.compile(r"<noscript[^>]*>[^<]{0,300}javascript", re.I)


def needs_render(html: str, visible_text_length: int, anchors: int, scripts: int, inline_script: str) -> bool:
    """Whether a fetched HTML page should be rendered in the browser."""
    if scripts == 0:
        return False
    if anchors == 0 or (visible_text_length < 150 and anchors < 5):
        return True
    head = html[:300_000]
    if _SPA_ROOT.search(head) or _NOSCRIPT_JS.search(head):
        return True
    return anchors < 30 and bool(_BUILDS_LINKS.search(inline_script[:200_000]))


CONTEXT = "isop"
CONTEXT_KWARGS = {"ignore_https_errors": True, "java_script_enabled": True}
"""The one browser context, created with the first page that needs it (not at start-up:
most crawls render few pages, many none). TLS errors are ignored in the browser because
the page was already fetched, verified or not, by Scrapy; the browser only re-renders it."""


def render_meta() -> dict:
    """Request meta that sends a request through Playwright, in the shared context."""
    return {"playwright": True, "playwright_context": CONTEXT, "playwright_context_kwargs": dict(CONTEXT_KWARGS)}


def _shared_handler_class():
    from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

    class SharedPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
        """scrapy-playwright's handler, one instance for both http and https.

        Scrapy builds one download handler per URL scheme; scrapy-playwright's would each
        start their own Playwright driver and browser. The crawl needs one of each.

        The browser is launched the way :mod:`spiders.browser_privacy` says: every scheme
        through ``ISOP_PROXY``, Chromium's own services off, no name resolution of its own,
        the crawl's ``USER_AGENT`` (the same as Scrapy's, in the headers, in
        ``navigator.userAgent`` and in the client hints), and a fresh profile per context
        whose preferences are written before the browser starts (a persistent context in a
        temporary folder, removed when the handler closes).
        """

        @classmethod
        def from_crawler(cls, crawler):
            shared = getattr(crawler, "_isop_playwright_handler", None)
            if shared is None:
                shared = cls(crawler)
                shared._isop_configure(crawler.settings)
                crawler._isop_playwright_handler = shared
            return shared

        def _isop_configure(self, settings) -> None:
            from spiders import browser_privacy

            self._isop_user_agent = settings.get("USER_AGENT") or None
            self._isop_profiles: list[str] = []
            self.config.launch_options = browser_privacy.launch_options(
                self.config.launch_options, settings.get("ISOP_PROXY") or None, self._isop_user_agent)

        async def _create_browser_context(self, name, context_kwargs, spider=None):
            import asyncio
            import tempfile

            from spiders import browser_privacy

            kwargs = dict(context_kwargs or {})
            if self._isop_user_agent:
                kwargs.setdefault("user_agent", self._isop_user_agent)
            if not kwargs.get("user_data_dir"):
                profile = await asyncio.to_thread(tempfile.mkdtemp, prefix="isop-chromium-")
                self._isop_profiles.append(profile)
                await asyncio.to_thread(browser_privacy.write_profile, profile)
                kwargs = {**self.config.launch_options, **kwargs, "user_data_dir": profile}
            return await super()._create_browser_context(name, kwargs, spider)

        async def close(self) -> None:
            if getattr(self, "_isop_closed", False):
                return
            self._isop_closed = True
            try:
                await super().close()
            finally:
                import asyncio
                import shutil

                for profile in getattr(self, "_isop_profiles", ()):
                    await asyncio.to_thread(shutil.rmtree, profile, True)

    return SharedPlaywrightHandler


SharedPlaywrightHandler = _shared_handler_class()
