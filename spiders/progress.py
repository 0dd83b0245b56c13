"""Progress on a terminal (pages, sites, flagged), silence under cron."""

from __future__ import annotations

import sys

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task


class Progress:
    """Prints one updating status line to stderr every second when ``ISOP_PROGRESS`` is on."""

    def __init__(self, stats, stream=sys.stderr) -> None:
        self.stats = stats
        self.stream = stream
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("ISOP_PROGRESS", False):
            raise NotConfigured("ISOP_PROGRESS is off")
        ext = cls(crawler.stats)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def line(self) -> str:
        get = self.stats.get_value
        return (f"pages {get('isop/pages/stored', 0):>6}  sites {get('isop/store/sites_seen', 0) or '-':>5}  "
                f"flagged {get('isop/sites/flagged', 0):>4}  rendered {get('isop/render/requests', 0):>3}  "
                f"errors {sum(v for k, v in self.stats.get_stats().items() if k.startswith('isop/errors/')):>4}")

    def opened(self, spider) -> None:
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(1.0, now=False)

    def tick(self) -> None:
        self.stream.write("\r" + self.line())
        self.stream.flush()

    def closed(self, spider) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()
        self.stream.write("\r" + self.line() + "\n")
        self.stream.flush()
