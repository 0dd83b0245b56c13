"""Store write throughput: batched idempotent upserts on SQLite and PostgreSQL.

    .venv/bin/python bench/store.py [--rows 200000] [--postgres URL]

Prints rows/s for a first write (inserts), a second write of the same observations
(every row a conflict that only moves last_seen), and host/site recording.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import normalise_url, open_engine, session_factory
from storage.migrate import upgrade
from storage.models import DnsObservation
from storage.observe import upsert
from storage.sites import record_hosts

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def run(url: str, rows: int, batch: int) -> dict[str, float]:
    upgrade(url)
    engine = open_engine(url)
    Session = session_factory(engine)
    data = [{"name": f"h{i % (rows // 4)}.site{i % 997}.example", "rtype": "A", "value": f"185.{i % 250}.{i % 199}.{i % 241}",
             "ttl": 300, "first_seen": T0, "last_seen": T0} for i in range(rows)]
    out = {}
    for label, shift in (("insert", 0), ("re-observe", 1)):
        start = time.perf_counter()
        for i in range(0, rows, batch):
            chunk = [{**r, "last_seen": T0 + timedelta(days=shift)} for r in data[i:i + batch]]
            with Session() as s, s.begin():
                upsert(s, DnsObservation, chunk, key=["name", "rtype", "value"])
        out[label] = rows / (time.perf_counter() - start)
    hosts = [f"www{i % 5}.site{i}.example.com" for i in range(rows // 10)]
    start = time.perf_counter()
    for i in range(0, len(hosts), batch):
        with Session() as s, s.begin():
            record_hosts(s, hosts[i:i + batch], T0)
    out["hosts"] = len(hosts) / (time.perf_counter() - start)
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--postgres", default=os.environ.get("ISOP_TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {"sqlite": run(f"sqlite:///{tmp}/bench.db", args.rows, args.batch)}
    admin_url = make_url(normalise_url(args.postgres))
    name = f"isop_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        results["postgresql"] = run(admin_url.set(database=name).render_as_string(hide_password=False),
                                    args.rows, args.batch)
    except Exception as e:  # noqa: BLE001 - report and go on with what was measured
        print(f"postgresql: skipped ({str(e).splitlines()[0]})")
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(f"{args.rows} DNS observations, batches of {args.batch}")
    for db, r in results.items():
        print(f"{db:<11} insert {r['insert']:>9,.0f} rows/s   re-observe {r['re-observe']:>9,.0f} rows/s   "
              f"hosts+sites {r['hosts']:>8,.0f} hosts/s")


if __name__ == "__main__":
    main()
