"""Bounded option types shared by the ``isop`` commands: a number out of range is one line
and exit code 2 (click's usage error), never a traceback from deep inside (an integer too
large for SQLite, a ``nan`` timeout that never fires).

The bounds match the configuration's (``collector/config.py``, ``max`` in each field's
metadata): ``--max-pages`` as ``[crawl] max_pages``, ``--depth`` as ``[crawl] depth``.
"""

from __future__ import annotations

import math

import click

MAX_LIMIT = 1_000_000
"""Rows a listing (``sites``, ``changes`` per kind) shows at most."""
MAX_EXPORT = 1_000_000_000
"""Sites ``export --limit`` takes at most (the export streams: this is a sanity bound)."""
MAX_PAGES = 10_000_000
MAX_DEPTH = 100
MAX_TOP = 10_000
MAX_ID = 2**31 - 1


class FiniteFloatRange(click.FloatRange):
    """A :class:`click.FloatRange` that also refuses ``nan`` and infinities (which pass
    every comparison click makes)."""

    name = "float range"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


LIMIT = click.IntRange(1, MAX_LIMIT)
EXPORT_LIMIT = click.IntRange(1, MAX_EXPORT)
PAGES = click.IntRange(1, MAX_PAGES)
DEPTH = click.IntRange(0, MAX_DEPTH)
TOP = click.IntRange(1, MAX_TOP)
RUN_ID = click.IntRange(1, MAX_ID)
PORT = click.IntRange(0, 65535)
