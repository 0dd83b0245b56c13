"""The User-Agent does not tell a site who is looking (issue 11, egress).

By default Scrapy, the browser (its requests, its CONNECTs, its client hints) and the
enrichment's RDAP lookups all send one current desktop-Chrome User-Agent; naming the tool
is the explicit ``[network] attributable = true``; ``user_agent`` overrides both. The
requests are read off the sandbox proxy's log.
"""

from __future__ import annotations

import pytest
from helpers.fault_runs import isop, write_config
from rendered_run import failure_text, rendered_run

from collector.config import BROWSER_USER_AGENT, TOOL_USER_AGENT, NetworkConfig, load_config
from collector.sandbox.server import ThreadedSandbox


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return rendered_run(tmp_path_factory.mktemp("rendered-run"))


def _agents(entries) -> set[str]:
    return {e.headers["user-agent"] for e in entries if "user-agent" in e.headers}


def test_scrapy_and_the_browser_send_the_same_browser_user_agent(run):
    assert run.crawl.returncode == 0, failure_text(run.crawl)
    browser = [e for e in run.crawl_log if "sec-ch-ua" in e.headers]
    scrapy = [e for e in run.crawl_log if e.kind == "http" and "sec-ch-ua" not in e.headers]
    assert browser and scrapy, "both Scrapy's and the browser's requests reached the proxy"
    connects = [e for e in run.crawl_log if e.kind == "connect" and "user-agent" in e.headers]
    assert connects, "Chromium's CONNECTs name a User-Agent too"
    assert _agents(run.crawl_log) == {BROWSER_USER_AGENT}
    for e in browser:
        hints = " ".join(v for k, v in e.headers.items() if k.startswith("sec-ch-ua"))
        assert "headless" not in hints.lower(), e.headers
        assert e.headers.get("sec-ch-ua-platform") == '"Windows"', "the hints agree with the User-Agent"


def test_enrichment_sends_the_same_user_agent(run):
    assert run.enrich.returncode == 0, failure_text(run.enrich)
    requests = [e for e in run.enrich_log if e.kind == "http"]
    assert requests, "RDAP went through the proxy"
    assert _agents(requests) == {BROWSER_USER_AGENT}


def test_attributable_names_the_tool(tmp_path, guarded_env):
    with ThreadedSandbox(None, state_dir=tmp_path / "sandbox-state") as sb:
        config = write_config(tmp_path, sb, render=False, screenshots=False)
        text = config.read_text().replace("[network]\n", "[network]\nattributable = true\n", 1)
        config.write_text(text)
        log = sb.running.proxy.log
        crawl = isop(config, guarded_env, tmp_path, "crawl", "--url", "https://rlsbay.net/", "--max-pages", "3")
        crawl_log = log.entries()
        log.clear()
        enrich = isop(config, guarded_env, tmp_path, "enrich", "--domain", "rlsbay.net", "--only", "hosting,whois")
        enrich_log = log.entries()
    assert crawl.returncode == 0, failure_text(crawl)
    assert enrich.returncode == 0, failure_text(enrich)
    assert _agents(e for e in crawl_log if e.kind == "http") == {TOOL_USER_AGENT}
    assert _agents(e for e in enrich_log if e.kind == "http") == {TOOL_USER_AGENT}


def test_user_agent_precedence(tmp_path):
    assert NetworkConfig().effective_user_agent == BROWSER_USER_AGENT
    assert "Chrome/" in BROWSER_USER_AGENT and "Windows NT 10.0" in BROWSER_USER_AGENT
    assert "isop" not in BROWSER_USER_AGENT.lower() and "headless" not in BROWSER_USER_AGENT.lower()
    assert NetworkConfig(attributable=True).effective_user_agent == TOOL_USER_AGENT
    assert NetworkConfig(user_agent="Custom/1", attributable=True).effective_user_agent == "Custom/1"
    path = tmp_path / "isop.toml"
    path.write_text("[network]\n")
    assert load_config(path, env={}).network.effective_user_agent == BROWSER_USER_AGENT
    assert load_config(path, env={"ISOP_NETWORK_ATTRIBUTABLE": "true"}).network.effective_user_agent == TOOL_USER_AGENT
    shipped = load_config(None, env={}).network
    assert shipped.user_agent == "" and not shipped.attributable, "the shipped config names no tool"
