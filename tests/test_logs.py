"""Logs: JSON lines off a terminal, text on one, the run id on every line (any logger)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from collector.logs import (
    console_level,
    current_run,
    log_format_for,
    log_to_file,
    run_context,
    scrapy_log_settings,
    setup_from_config,
    setup_logging,
)


@pytest.fixture(autouse=True)
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)


def lines_of(stream: io.StringIO) -> list[dict]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_json_lines_have_the_fields():
    out = io.StringIO()
    setup_logging("json", "INFO", stream=out)
    log = logging.getLogger("isop.test")
    log.info("hello %s", "world", extra={"site": "toonmoa101.com", "pages": 3})
    log.debug("not shown at INFO")
    [line] = lines_of(out)
    assert line["msg"] == "hello world" and line["level"] == "INFO" and line["logger"] == "isop.test"
    assert line["site"] == "toonmoa101.com" and line["pages"] == 3
    assert line["run_id"] is None and line["job"] is None
    ts = datetime.fromisoformat(line["ts"].replace("Z", "+00:00"))
    assert ts.utcoffset().total_seconds() == 0 and abs((datetime.now(UTC) - ts).total_seconds()) < 60
    assert list(line)[:6] == ["ts", "level", "logger", "msg", "run_id", "job"]


def test_run_id_on_every_line_inside_the_context_and_null_outside():
    out = io.StringIO()
    setup_logging("json", stream=out)
    log = logging.getLogger("isop.crawl")
    log.info("before")
    with run_context(42, job="nightly"):
        log.info("one")
        logging.getLogger("scrapy.core.engine").info("Spider opened")  # another library's logger
        logging.getLogger("twisted").error("reactor says")
        with run_context(43):
            log.warning("nested")
        log.info("two")
    log.info("after")
    got = [(x["msg"], x["run_id"], x["job"]) for x in lines_of(out)]
    assert got == [("before", None, None), ("one", 42, "nightly"), ("Spider opened", 42, "nightly"),
                   ("reactor says", 42, "nightly"), ("nested", 43, None), ("two", 42, "nightly"),
                   ("after", None, None)]
    assert current_run() is None


def test_multi_line_messages_and_exceptions_stay_on_one_line():
    out = io.StringIO()
    setup_logging("json", stream=out)
    log = logging.getLogger("isop.test")
    with run_context(7):
        log.info("line one\nline two\r\nline three\u2028four\x85five")
        try:
            raise ValueError("bad\nvalue")
        except ValueError:
            log.exception("it failed\nbadly")
        log.info("%s", {"a": "b\nc"})
    text = out.getvalue()
    assert text.count("\n") == 3 and len(text.splitlines()) == 3
    first, second, third = lines_of(out)
    assert first["msg"] == "line one\nline two\r\nline three\u2028four\x85five"
    assert second["msg"] == "it failed\nbadly" and second["level"] == "ERROR" and second["run_id"] == 7
    assert second["exc"].startswith("Traceback") and "ValueError: bad\nvalue" in second["exc"]
    assert third["run_id"] == 7 and third["msg"] == "{'a': 'b\\nc'}"


def test_threads_with_different_runs_do_not_mix():
    out = io.StringIO()
    setup_logging("json", stream=out)
    log = logging.getLogger("isop.test")
    barrier = threading.Barrier(2)

    def work(run_id: int) -> None:
        with run_context(run_id, job=f"job-{run_id}"):
            barrier.wait()
            for i in range(200):
                log.info("from %d step %d", run_id, i)

    threads = [threading.Thread(target=work, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = lines_of(out)
    assert len(lines) == 400
    for x in lines:
        assert x["msg"].startswith(f"from {x['run_id']} ") and x["job"] == f"job-{x['run_id']}"


def test_asyncio_tasks_with_different_runs_do_not_mix():
    out = io.StringIO()
    setup_logging("json", stream=out)
    log = logging.getLogger("isop.test")

    async def work(run_id: int) -> None:
        with run_context(run_id):
            for i in range(50):
                log.info("task %d step %d", run_id, i)
                await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(work(10), work(20))

    asyncio.run(main())
    lines = lines_of(out)
    assert len(lines) == 100
    assert {x["run_id"] for x in lines} == {10, 20}
    assert all(x["msg"].startswith(f"task {x['run_id']} ") for x in lines)
    # interleaved, really
    assert [x["run_id"] for x in lines[:4]] != [10, 10, 10, 10]


def test_thread_pools_get_the_process_wide_run():
    out = io.StringIO()
    setup_logging("json", stream=out)
    log = logging.getLogger("isop.pipeline")
    with ThreadPoolExecutor(1) as pool:
        with run_context(5):
            pool.submit(log.info, "pool, plain run").result()
        with run_context(6, process_wide=True):
            pool.submit(log.info, "pool, process-wide run").result()
        pool.submit(log.info, "pool, after").result()
    assert [(x["msg"], x["run_id"]) for x in lines_of(out)] == [
        ("pool, plain run", None), ("pool, process-wide run", 6), ("pool, after", None)]


def test_auto_is_text_on_a_terminal_and_json_otherwise():
    master, replica = os.openpty()
    try:
        with os.fdopen(replica, "w", closefd=False) as tty:
            assert log_format_for(tty, "auto") == "text"
            assert log_format_for(tty, "json") == "json"
            setup_logging("auto", stream=tty)
            with run_context(99, job="nightly"):
                logging.getLogger("isop.test").warning("on a terminal")
            tty.flush()
            text = os.read(master, 4096).decode()
        assert "WARNING" in text and "[run 99 nightly] isop.test: on a terminal" in text
        assert not text.lstrip().startswith("{")
    finally:
        os.close(master)
        os.close(replica)
    r, w = os.pipe()
    with os.fdopen(r) as pipe_r, os.fdopen(w, "w") as pipe_w:
        assert log_format_for(pipe_w, "auto") == "json"
        assert log_format_for(pipe_r, "text") == "text"
    assert log_format_for(io.StringIO(), "auto") == "json"
    assert log_format_for(None, "auto") == "json"
    with pytest.raises(ValueError, match="log format"):
        log_format_for(io.StringIO(), "xml")


def test_text_format_forced_off_a_terminal():
    out = io.StringIO()
    setup_logging("text", "DEBUG", stream=out)
    logging.getLogger("isop.test").debug("shown at DEBUG")
    assert out.getvalue().rstrip().endswith("isop.test: shown at DEBUG")
    assert "[run" not in out.getvalue()


def test_setup_replaces_its_own_handler_and_reads_the_config():
    first, second = io.StringIO(), io.StringIO()
    setup_logging("json", stream=first)

    class Log:
        format, level = "json", "WARNING"

    class Config:
        log = Log()

    setup_from_config(Config(), stream=second)
    logging.getLogger("isop.test").info("dropped at WARNING")
    logging.getLogger("isop.test").warning("kept")
    assert first.getvalue() == ""
    assert [x["msg"] for x in lines_of(second)] == ["kept"]
    third = io.StringIO()
    setup_from_config(object(), stream=third)  # no [log] section yet: defaults
    logging.getLogger("isop.test").info("info again")
    assert [x["msg"] for x in lines_of(third)] == ["info again"]
    with pytest.raises(ValueError, match="log level"):
        setup_logging("json", "LOUD", stream=third)


def test_scrapy_keeps_our_root_handler(tmp_path):
    from scrapy.settings import Settings
    from scrapy.utils.log import configure_logging, get_scrapy_root_handler

    out = io.StringIO()
    ours = setup_logging("json", "INFO", stream=out)
    settings = Settings({"LOG_FILE": str(tmp_path / "scrapy.log"), "LOG_LEVEL": "DEBUG"})
    settings.setdict(scrapy_log_settings("json", "INFO"), priority="cmdline")
    configure_logging(settings)  # what CrawlerProcess(settings) does first
    assert get_scrapy_root_handler() is None
    assert ours in logging.getLogger().handlers
    with run_context(12, job="discover"):
        logging.getLogger("scrapy.core.engine").info("Spider opened")
        logging.getLogger("scrapy.core.engine").debug("too chatty")  # scrapy's logger is at DEBUG
    assert [(x["logger"], x["msg"], x["run_id"]) for x in lines_of(out)] == [
        ("scrapy.core.engine", "Spider opened", 12)]
    assert not (tmp_path / "scrapy.log").exists()


def test_a_per_run_log_file(tmp_path):
    out = io.StringIO()
    setup_logging("text", "WARNING", stream=out)
    path = tmp_path / "logs" / "crawl-3.log"
    with run_context(3), log_to_file(path):
        logging.getLogger("isop.crawl").info("into the file only")
    logging.getLogger("isop.crawl").info("after: nowhere")
    [line] = [json.loads(x) for x in path.read_text().splitlines()]
    assert (line["msg"], line["run_id"]) == ("into the file only", 3)
    assert out.getvalue() == ""


def test_a_quiet_console_during_a_crawl(tmp_path):
    out = io.StringIO()
    setup_logging("json", "INFO", stream=out)
    path = tmp_path / "crawl.log"
    with run_context(4), log_to_file(path), console_level("WARNING"):
        logging.getLogger("scrapy.core.engine").info("Crawled (200)")
        logging.getLogger("isop.crawl").warning("budget reached")
    logging.getLogger("isop.crawl").info("summary")
    assert [x["msg"] for x in lines_of(out)] == ["budget reached", "summary"]
    assert [json.loads(x)["msg"] for x in path.read_text().splitlines()] == ["Crawled (200)", "budget reached"]
