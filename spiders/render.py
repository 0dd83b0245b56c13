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
        """

        @classmethod
        def from_crawler(cls, crawler):
            shared = getattr(crawler, "_isop_playwright_handler", None)
            if shared is None:
                shared = cls(crawler)
                crawler._isop_playwright_handler = shared
            return shared

        async def close(self) -> None:
            if getattr(self, "_isop_closed", False):
                return
            self._isop_closed = True
            await super().close()

    return SharedPlaywrightHandler


SharedPlaywrightHandler = _shared_handler_class()
