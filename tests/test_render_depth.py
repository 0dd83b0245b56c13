"""A page re-fetched in the browser keeps its depth: ``--depth 0`` still renders the pages it
was given (Scrapy's depth middleware used to count the re-fetch as a link one level further
and drop it at the limit)."""

from __future__ import annotations

import subprocess
import sys

from helpers.fault_runs import messages, no_traceback, write_config
from sqlalchemy import select

from storage.db import open_engine
from storage.models import Page


def test_depth_zero_still_renders_a_script_built_page(sandbox, tmp_path, guarded_env):
    config = write_config(tmp_path, sandbox, analysis_workers=0, autothrottle=False, screenshots=False)
    result = subprocess.run([sys.executable, "-m", "collector.cli", "--config", str(config), "crawl", "--url",
                             "https://nontonfilm21.io/", "--depth", "0"],
                            env=guarded_env, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    no_traceback(result)
    assert result.returncode == 0, messages(result.stderr)[-2000:]
    engine = open_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with engine.connect() as c:
        pages = c.execute(select(Page.url, Page.rendered)).all()
    engine.dispose()
    assert {u for u, _ in pages} == {"https://nontonfilm21.io/"}, pages
    assert any(r for _, r in pages), "the front page was rendered"
