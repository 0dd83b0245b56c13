"""Scrapy's depth middleware, except for requests that fetch the same page again.

A page re-fetched in the browser (``isop_rendered``) is the same page at the same depth, not
a link one level further: Scrapy's :class:`DepthMiddleware` would count it as depth + 1, so a
page at the depth limit (every page of ``--depth 0``) could never be rendered.
"""

from __future__ import annotations

from scrapy.spidermiddlewares.depth import DepthMiddleware

SAME_DEPTH = "isop_same_depth"
"""Request meta: this request is its response's page again (keeps the response's depth)."""


class SamePageDepth(DepthMiddleware):
    def get_processed_request(self, request, response):
        if response is not None and request.meta.pop(SAME_DEPTH, False):
            request.meta["depth"] = response.meta.get("depth", 0)
            return request
        return super().get_processed_request(request, response)
