"""The scheduler's priority queue, with folder names a file system accepts.

Scrapy's :class:`~scrapy.pqueues.DownloaderAwarePriorityQueue` keeps a crawl's resumable
queue (``JOBDIR``) in one folder per download slot, named after the slot (the host) plus a
33-character hash. A host may be 253 characters, a file name only 255 bytes: a link to a
long host name made the push fail with ``OSError: File name too long`` deep in the
engine, losing the request and leaving an unretrieved task exception. Here a slot's folder
name is the same as Scrapy's for ordinary hosts (so existing job folders still resume) and
a shortened, still unique, name for long ones.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from pathlib import Path

from scrapy.pqueues import DownloaderAwarePriorityQueue, ScrapyPriorityQueue, _path_safe

MAX_FOLDER_NAME = 120
"""Characters of a slot's folder name; far below every file system's 255-byte limit."""


def slot_folder(slot: str) -> str:
    """The folder name of a download slot's queue: Scrapy's when it is short enough."""
    name = _path_safe(slot)
    if len(name.encode()) <= MAX_FOLDER_NAME:
        return name
    readable = "".join(c if c.isascii() and (c.isalnum() or c in "-._") else "_" for c in slot)[:60]
    return f"{readable}-{hashlib.sha256(slot.encode('utf-8', 'surrogatepass')).hexdigest()[:40]}"


class BoundedPathPriorityQueue(DownloaderAwarePriorityQueue):
    """Scrapy's downloader-aware priority queue with :func:`slot_folder` folder names."""

    def pqfactory(self, slot: str, startprios=()) -> ScrapyPriorityQueue:
        return ScrapyPriorityQueue(self.crawler, self.downstream_queue_cls,
                                   self.key + "/" + slot_folder(slot), startprios,
                                   start_queue_cls=self._start_queue_cls)

    def pop(self):
        before = set(self.pqueues) if self.key else ()
        request = super().pop()
        for slot in before:
            if slot not in self.pqueues and slot_folder(slot) != _path_safe(slot):
                with suppress(OSError):  # Scrapy reclaims the folder by its own name only
                    Path(self.key, slot_folder(slot)).rmdir()
        return request
