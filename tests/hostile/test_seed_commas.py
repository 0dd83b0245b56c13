"""Seeds with commas (issue 11): a seed reaches the spider as it was read, never joined by
commas and split again; a seed the spider cannot request is skipped with a warning and
the others are still crawled, in the run and in the run that resumes it."""

from __future__ import annotations

import asyncio

from helpers.fault_runs import isop, messages, no_traceback, runs, write_config
from sqlalchemy import create_engine, select

from storage.models import Page

COMMA_SEED = "https://cinemadispatch.com/search?q=a,b&tags=x,y"


def test_a_seed_with_commas_is_crawled_as_it_is_and_the_others_too(sandbox, tmp_path, guarded_env):
    config = write_config(tmp_path, sandbox, concurrency=2, render=False, screenshots=False)
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(f"{COMMA_SEED}\nhttps://rlsbay.net/\nhttps://torrentwang.net/\n")
    result = isop(config, guarded_env, tmp_path, "crawl", "--seeds", str(seeds), "--depth", "0")
    no_traceback(result)
    assert result.returncode == 0, messages(result.stderr)[-3000:]
    db = create_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        urls = set(c.scalars(select(Page.url)))
    assert [o for _i, o, _e in runs(db)] == ["ok"]
    db.dispose()
    assert {COMMA_SEED, "https://rlsbay.net/", "https://torrentwang.net/"} <= urls, urls


def spider_with(urls):
    from scrapy.utils.test import get_crawler

    from spiders.site_spider import SiteSpider

    crawler = get_crawler(SiteSpider, {"ISOP_ANALYSIS_WORKERS": 0})
    crawler.stats.open_spider()
    spider = SiteSpider.from_crawler(crawler, urls=urls)
    spider._budget_mw = None  # no engine here: no budget middleware to ask
    return spider, crawler


async def requests_of(spider) -> list[str]:
    return [r.url async for r in spider.start()]


def test_a_bad_seed_is_skipped_with_a_warning_never_aborting_the_rest(caplog):
    spider, crawler = spider_with(["https://rlsbay.net/", "http://[::1", "ftp://x.example/", "https://",
                                   "https://torrentwang.net/?q=a,b"])
    try:
        got = asyncio.run(requests_of(spider))
    finally:
        spider.analyser.close()
    assert got == ["https://rlsbay.net/", "https://torrentwang.net/?q=a,b"], got
    assert crawler.stats.get_value("isop/seeds/skipped") == 3, crawler.stats.get_stats()
    assert any("seed" in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)


def test_a_string_of_seeds_is_split_on_white_space_only():
    spider, _ = spider_with("https://rlsbay.net/?q=a,b\nhttps://torrentwang.net/")
    spider.analyser.close()
    assert spider.start_urls == ["https://rlsbay.net/?q=a,b", "https://torrentwang.net/"]
