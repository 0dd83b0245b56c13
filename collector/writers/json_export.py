"""The JSON export document: the site records (:func:`storage.export.site_records`) as one
object, ``{"generated_at": ..., "sites": [...]}``, a public contract (``docs/export.schema.json``).

    with session_factory(engine)() as s:
        count = write_json(s, sys.stdout, piracy=True, since=week_ago)

Written site by site as the records come (constant memory). JSON is written ASCII-only
(``\\uXXXX`` escapes), so any output encoding will do.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from sqlalchemy.orm import Session

from storage.export import site_records
from storage.types import utcnow


def write_json_records(records: Iterable[dict], out: TextIO) -> int:
    """Write the export document of ``records`` to ``out`` site by site; returns the number of sites."""
    out.write('{"generated_at": ' + json.dumps(utcnow().isoformat()) + ', "sites": [')
    count = 0
    for record in records:
        out.write(("\n" if count == 0 else ",\n") + json.dumps(record))
        count += 1
    out.write("\n]}\n" if count else "]}\n")
    return count


def write_json(session: Session, out: TextIO, **filters: Any) -> int:
    """Write the export document of the sites matching ``filters`` (the keywords of
    :func:`storage.export.site_records`) to ``out`` site by site; returns the number of sites."""
    return write_json_records(site_records(session, **filters), out)
