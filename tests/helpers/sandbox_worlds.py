"""A small sandbox world written to disk for the sandbox servers' tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from collector.sandbox.world import World, load_world

LATIN1 = "<html><body>Привет, мир</body></html>".encode("cp1251")


def build_world(root: Path) -> World:
    """A small world: one rich site, a redirecting host, an http-only and an off host."""
    (root / "domains").mkdir(parents=True)
    (root / "world.toml").write_text('[world]\nname = "testworld"\n[latency]\nhttp = 0\n')
    (root / "domains" / "pirate.test.toml").write_text(textwrap.dedent("""
        [dns]
        "@" = { A = ["185.212.41.7"] }
        "*" = { A = ["185.212.41.7"] }

        [[site]]
        host = "pirate.test"
        headers = { "X-Powered-By" = "PHP/7.4", "Server" = "cloudflare" }
        [site.routes]
        "/old.html" = { redirect = "/mid.html", status = 301 }
        "/mid.html" = { redirect = "https://pirate.test/new.html", status = 302 }
        "/calendar/" = { generator = "calendar" }
        "/archive/" = { generator = "bigsite", pages = 5000 }
        "/huge.html" = { generator = "huge", bytes = 52428800 }
        "/slow.html" = { delay = 0.2 }
        "/broken" = { status = 500 }
        "/latin1.html" = { file = "latin1.html", content_type = "text/html; charset=utf-8" }
        "/weird/" = { generator = "nope" }

        [[site]]
        host = "www.pirate.test"
        dir = "pirate.test"
        redirect = "https://pirate.test/"
        redirect_status = 302
    """))
    (root / "domains" / "plain.test.toml").write_text(textwrap.dedent("""
        [dns]
        "@" = { A = ["93.184.216.34"] }
        [[site]]
        host = "plain.test"
        https = false
        http = "serve"
        [[site]]
        host = "off.test"
        http = "off"
    """))
    site = root / "sites" / "pirate.test"
    (site / "movies").mkdir(parents=True)
    (site / "index.html").write_text("<html><body><a href='/movies/a.html'>A</a></body></html>")
    (site / "new.html").write_text("<html>new</html>")
    (site / "slow.html").write_text("<html>slow</html>")
    (site / "movies" / "a.html").write_text("<html>movie A</html>")
    (site / "movies" / "index.html").write_text("<html>movies</html>")
    (site / "style.css").write_text("body{}")
    (site / "file.torrent").write_bytes(b"d8:announce0:e")
    (site / "latin1.html").write_bytes(LATIN1)
    plain = root / "sites" / "plain.test"
    plain.mkdir(parents=True)
    (plain / "index.html").write_text("<html>plain</html>")
    (plain / "404.html").write_text("<html>custom not found</html>")
    (root / "sites" / "off.test").mkdir(parents=True)
    (root / "sites" / "off.test" / "index.html").write_text("off")
    return load_world(root)
