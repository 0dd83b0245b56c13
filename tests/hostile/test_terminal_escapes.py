"""Hostile strings stay inert (issue 11): a registrar name or a page carrying ``ESC[2J``, cursor
moves, an OSC title sequence, C1 controls or a bidi override is shown escaped by every terminal
and Markdown output (``isop site``, ``sites``, ``takedown``, ``network``, ``changes``), while
the store keeps the raw text."""

from __future__ import annotations

import json
import re

import pytest
from helpers.extra_world import extended_world, registered
from helpers.fault_runs import isop, messages, no_traceback, write_config
from sqlalchemy import select

from storage.models import DomainRegistration, Page, Site
from storage.safe_text import inert, inert_tree, json_text

# What a terminal would obey: C0 controls but newline/tab, DEL, C1 controls, bidi controls.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

HOSTILE_REGISTRAR = "Evil\x1b[2J\x1b[1;1HRegistrar\x1b]0;pwned\x07 \u202eCLL\u202c \x9b31m"
# the same as a TOML basic string
HOSTILE_REGISTRAR_TOML = "Evil\\u001b[2J\\u001b[1;1HRegistrar\\u001b]0;pwned\\u0007 \\u202eCLL\\u202c \\u009b31m"
HOSTILE_TITLE = "Free movies \x1b]0;owned\x07\x1b[5A \u202egro.elpmaxe"
DOMAIN = "esc-inject.net"
PAGE = f"""<html><head><title>{HOSTILE_TITLE}</title></head><body>
<h1>Watch free movies online</h1>
<p>Contact us \x1b[2J\x1b[H at uploads.esc@protonmail.com \x1b]0;title\x07 \u202edaolnwod</p>
<a href="https://{DOMAIN}/movie/1.html">Movie 1</a>
</body></html>"""


def assert_inert(text: str, where: str) -> None:
    found = RAW_CONTROL.findall(text.replace("\r\n", "\n"))  # CSV's own line ends
    assert not found, f"{where}: raw control characters {found!r} in {text[:400]!r}"


def test_inert_shows_every_control_and_keeps_the_rest():
    assert inert("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert inert("\x1b]0;t\x07") == "\\x1b]0;t\\x07"
    assert inert("\x9b2J \u202eabc \u2066x\u2069") == "\\x9b2J \\u202eabc \\u2066x\\u2069"
    assert inert("line\nnext\tcol\r") == "line\\nnext\\tcol\\r"
    assert inert("line\nnext\tcol\x1b", newlines=True) == "line\nnext\tcol\\x1b"
    assert inert("웹툰 ✓ é [b]x[/b]") == "웹툰 ✓ é [b]x[/b]" and inert(None) == ""
    assert inert("\ud800") == "\\ud800"
    assert inert_tree({"k\x1b": ["\x1b", ("\x9b", 1)], "n": None}) == {"k\\x1b": ["\\x1b", ("\\x9b", 1)], "n": None}


def test_json_output_escapes_c1_and_bidi_and_means_the_same():
    value = {"registrar": HOSTILE_REGISTRAR, "lone": "\ud800", "nel": "\x85\u2028"}
    plain = json.dumps(value, ensure_ascii=False)
    assert RAW_CONTROL.search(plain), "json.dumps(ensure_ascii=False) alone leaves C1 and bidi raw"
    text = json_text(value, indent=1)
    assert_inert(text, "json_text")
    text.encode("utf-8")  # no lone surrogate left to break the terminal's encoding
    assert json.loads(text) == value


@pytest.fixture(scope="module")
def esc_world(tmp_path_factory):
    root = extended_world(tmp_path_factory.mktemp("esc") / "w", {
        DOMAIN: registered(registrar=HOSTILE_REGISTRAR_TOML, ip="88.198.20.77") + f'[[site]]\nhost = "{DOMAIN}"\n',
    }, {f"{DOMAIN}/index.html": PAGE,
        f"{DOMAIN}/movie/1.html": PAGE.replace("Watch free", "Episode 1 of")})
    with (root / "registrars.toml").open("a") as f:
        f.write(f'\n[[registrar]]\nname = "{HOSTILE_REGISTRAR_TOML}"\niana_id = 9999\n'
                'abuse_email = "abuse@evil-registrar.example"\nabuse_phone = "+1.5555550100"\ncountry = "US"\n')
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(root, state_dir=tmp_path_factory.mktemp("esc-state")) as running:
        yield running


def test_hostile_strings_are_shown_escaped_and_stored_raw(esc_world, tmp_path, guarded_env):
    store_url = f"sqlite:///{tmp_path / 'isop.db'}"
    config = write_config(tmp_path, esc_world, storage_url=store_url, concurrency=2, render=False,
                          screenshots=False, analysis_workers=0)
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(f"https://{DOMAIN}/\n")
    crawl = isop(config, guarded_env, tmp_path, "crawl", "--seeds", str(seeds), "--depth", "1", "--max-pages", "5")
    no_traceback(crawl)
    assert crawl.returncode == 0, messages(crawl.stderr)[-2000:]
    enrich = isop(config, guarded_env, tmp_path, "enrich", "--only", "dns,hosting,whois")
    assert enrich.returncode == 0, enrich.stdout + messages(enrich.stderr)[-2000:]

    # the store keeps the raw text
    from storage.db import open_engine

    engine = open_engine(store_url)
    with engine.connect() as c:
        registrars = set(c.scalars(select(DomainRegistration.registrar)
                                   .join(Site, Site.id == DomainRegistration.site_id)
                                   .where(Site.domain == DOMAIN)))
        titles = set(c.scalars(select(Page.title).where(Page.url.like(f"https://{DOMAIN}/%"))))
    engine.dispose()
    assert HOSTILE_REGISTRAR in registrars, registrars
    assert any(t and "\x1b]0;owned\x07" in t and "\u202e" in t for t in titles), titles

    outputs = {}
    for args in (["site", DOMAIN], ["site", DOMAIN, "--format", "md"], ["site", DOMAIN, "--format", "json"],
                 ["sites"], ["sites", "--format", "csv"], ["sites", "--format", "json"],
                 ["takedown", DOMAIN], ["takedown", DOMAIN, "--format", "json"],
                 ["network", DOMAIN], ["network", DOMAIN, "--format", "json"], ["network", DOMAIN, "--format", "dot"],
                 ["changes", "--since", "30d"], ["export", "--format", "csv", "--output", "-"]):
        result = isop(config, guarded_env, tmp_path, *args)
        no_traceback(result)
        assert result.returncode == 0, (args, result.stdout[-500:], messages(result.stderr)[-1000:])
        if args[0] != "export":  # the CSV export is data for spreadsheets: raw text, formulas defused
            assert_inert(result.stdout, " ".join(args))
            assert_inert(messages(result.stderr), " ".join(args) + " (stderr)")
        outputs[" ".join(args)] = result.stdout

    # shown, not lost: the escapes are visible where the registrar is
    assert "Evil\\x1b[2J\\x1b[1;1HRegistrar\\x1b]0;pwned\\x07" in outputs[f"site {DOMAIN}"]
    assert "\\\\x1b\\[2J" in outputs[f"site {DOMAIN} --format md"]  # Markdown-escaped backslash and bracket
    assert "\\\\x1b\\[2J" in outputs[f"takedown {DOMAIN}"]
    # JSON keeps the exact data
    dossier = json.loads(outputs[f"site {DOMAIN} --format json"])
    assert dossier["registration"]["registrar"] == HOSTILE_REGISTRAR
    assert any(e["title"] == HOSTILE_TITLE for e in dossier["evidence"]), [e["title"] for e in dossier["evidence"]]
    assert json.loads(outputs[f"takedown {DOMAIN} --format json"])["registrar"]["name"] == HOSTILE_REGISTRAR


def test_markdown_escapes_line_start_syntax():
    from collector.writers.markdown import md

    assert md("# heading") == "\\# heading" and md("- item") == "\\- item" and md("12. x") == "12\\. x"
    assert md("+cmd") == "\\+cmd" and md("=x") == "\\=x" and md("2026-01-01") == "2026-01-01"
    assert md("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert md("a\x1b[2J|b") == "a\\\\x1b\\[2J\\|b" and md(None) == "-"


def test_rich_views_escape_what_rich_passes_through():
    """rich prints ESC and bidi characters in Text and markup as they are: the views must not."""
    import io

    from rich.console import Console
    from rich.text import Text

    from collector.analyst import emit
    from collector.views import print_network

    raw = io.StringIO()
    Console(file=raw, width=100, color_system=None).print(Text(HOSTILE_REGISTRAR))
    assert RAW_CONTROL.search(raw.getvalue()), "rich itself leaves them raw"

    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    print_network({"domain": DOMAIN, "cluster": "c\x1b[2J", "sites": [DOMAIN, "b\u202e.net"],
                   "links": [{"a": DOMAIN, "b": "b\u202e.net", "strength": 0.8, "joins": True,
                              "identifiers": [{"type": "email", "value": HOSTILE_REGISTRAR, "weight": 0.8,
                                               "sites": 2}]}]}, console)
    emit([{"domain": DOMAIN, "registrar": HOSTILE_REGISTRAR, "signals": [HOSTILE_TITLE]}],
         ["domain", "registrar", "signals"], "table", console=console)
    assert_inert(out.getvalue(), "views")
    assert "\\x1b[2J" in out.getvalue()
    csv_text = emit([{"domain": DOMAIN, "registrar": HOSTILE_REGISTRAR, "signals": [HOSTILE_TITLE]}],
                    ["domain", "registrar", "signals"], "csv")
    assert_inert(csv_text, "sites csv")


def test_log_lines_are_inert():
    import logging

    from collector.logs import JsonLinesFormatter, TextFormatter

    record = logging.LogRecord("isop.test", logging.WARNING, __file__, 1, "title %s", (HOSTILE_TITLE,), None)
    assert_inert(TextFormatter().format(record), "text log")
    line = JsonLinesFormatter().format(record)
    assert_inert(line, "json log")
    assert json.loads(line)["msg"] == f"title {HOSTILE_TITLE}"

