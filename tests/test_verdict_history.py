"""A verdict is what all the evidence says, not what the last visit saw (issue 10).

A site flagged on its pages stays flagged through a one-page recheck and a discovery crawl
that reaches it through one link; when the site itself becomes a legal page over a full
re-crawl, the verdict flips and the flip is recorded with its cause and the evidence
counts before and after. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from helpers.extra_world import extended_world
from helpers.fault_runs import isop, messages, no_traceback, write_config
from sqlalchemy import create_engine, select

from collector.sandbox.server import ThreadedSandbox
from storage.models import Classification, Site

SITE = "fmovix.xyz"
LEGAL = """<html lang="en"><head><title>Fmovix Bakery - fresh bread every morning</title></head>
<body><h1>Our bakery</h1><p>We bake sourdough, rye and brioche every morning in our family bakery.
Opening hours: Monday to Saturday, 7am to 6pm. Visit our shop for cakes, pastries and coffee.</p>
{links}<p>Contact us for catering and wedding cakes. Privacy policy. Terms of service.</p></body></html>"""


def verdicts(url: str) -> list[tuple[bool, str, int, str | None, int | None]]:
    db = create_engine(url)
    try:
        with db.connect() as c:
            return [tuple(r) for r in c.execute(
                select(Classification.is_piracy, Classification.category, Classification.pages_seen,
                       Classification.cause, Classification.run_id)
                .join(Site, Site.id == Classification.site_id).where(Site.domain == SITE)
                .order_by(Classification.id))]
    finally:
        db.dispose()


def test_verdict_holds_through_light_visits_and_flips_on_a_changed_site(
        sandbox, tmp_path, tmp_path_factory, guarded_env, store_url):
    url = store_url
    backend = url.split(":", 1)[0]
    config = write_config(tmp_path, sandbox, storage_url=url)

    def run(*args: str, cfg=config) -> None:
        result = isop(cfg, guarded_env, tmp_path, *args, timeout=300)
        no_traceback(result)
        assert result.returncode == 0, result.stdout + messages(result.stderr)[-2000:]

    run("crawl", "--url", f"https://{SITE}/", "--max-pages", "30")
    first = verdicts(url)
    assert first and first[-1][0], f"{SITE} is flagged on its pages: {first}"
    pages_behind = first[-1][2]
    assert pages_behind >= 4

    run("recheck")
    assert verdicts(url)[-1][0], "a one-page recheck does not unflag the site"
    assert verdicts(url)[-1][2] >= pages_behind, "the recheck's front page adds to the evidence"

    seeds = tmp_path / "one-link.txt"
    seeds.write_text("https://unblockhub.io/\n")
    # the hub links the site; one page of it per site and no deeper
    one_link = write_config(tmp_path, sandbox, storage_url=url, site_pages=1)
    run("crawl", "--seeds", str(seeds), "--depth", "1", "--max-pages", "40", cfg=one_link)
    after_light = verdicts(url)[len(first):]
    assert after_light and all(v[0] for v in after_light), f"no light visit flipped the verdict: {after_light}"
    assert not any(v[3] for v in after_light), "no flip, no cause"

    # The site becomes a bakery, every page of it; a full re-crawl sees only that.
    root = extended_world(tmp_path_factory.mktemp("bakery") / "w", {})
    site_dir = root / "sites" / SITE
    html = sorted(p for p in site_dir.rglob("*.html"))
    hrefs = sorted(set(re.findall(r'href="(/[^"]*)"', (site_dir / "index.html").read_text())))
    links = "".join(f'<p><a href="{h}">page {i}</a></p>' for i, h in enumerate(hrefs))  # the same addresses
    for p in html:
        p.write_text(LEGAL.format(links=links))
    time.sleep(1.1)
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    time.sleep(1.1)
    with ThreadedSandbox(root, state_dir=tmp_path_factory.mktemp("bakery-state")) as bakery:
        changed = write_config(tmp_path, bakery, storage_url=url)
        run("crawl", "--url", f"https://{SITE}/", "--max-pages", "30", "--fresh", cfg=changed)
    final = verdicts(url)
    assert not final[-1][0], f"the bakery is not piracy: {final[-1]}"
    flips = [v for v in final[len(first):] if v[3]]
    assert len(flips) == 1 and flips[0][3].startswith("new pages: verdict on"), final
    print(f"\nverdict stability ({backend}): {len(final)} verdicts recorded, flagged on {pages_behind} pages, "
          f"held through recheck and a one-link crawl ({len(after_light)} verdicts, 0 flips), "
          f"flipped once on the re-crawl: {flips[0][3]}")

    changes = isop(config, guarded_env, tmp_path, "changes", "--since", since)
    assert changes.returncode == 0, changes.stderr[-2000:]
    assert "verdict flips" in changes.stdout and SITE in changes.stdout and "new pages" in changes.stdout, \
        changes.stdout
