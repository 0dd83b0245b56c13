"""Generated sandbox worlds: valid, reproducible, varied, and their answer key tells the truth.

The answer key is checked against the generated files themselves: the identifiers it
gives an operator are found by isop's own extractor on that operator's pages and on no
other operator's, every shared-infrastructure value is really on several unrelated sites,
and every site is reachable from the seeds by walking the files.
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import urllib.request
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import pytest
from click.testing import CliRunner
from cryptography import x509

from collector.cli import cli
from collector.sandbox.generate import generate_world
from collector.sandbox.tls import SandboxCA, shared_certificates
from collector.sandbox.world import WorldError, load_world
from spiders.indicators import extract
from spiders.indicators.crypto import is_btc_base58, is_eth, is_trx, segwit_decode, xmr_kind
from spiders.indicators.favicon import favicon_mmh3
from spiders.resolver import parse_host_port

SEEDS = (1, 2, 3, 11)
PAGE_TYPES = ("ga", "gtm", "adsense", "yandex_metrica", "btc", "eth", "trx", "xmr", "email", "telegram",
              "discord", "whatsapp", "phone", "paypal")
"""Identifier types isop's page extractor finds (favicon, ip, nameservers, cert come from elsewhere)."""


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> dict[object, Path]:
    out = {seed: generate_world(seed, tmp_path_factory.mktemp(f"world{seed}")) for seed in SEEDS}
    out["small"] = generate_world(7, tmp_path_factory.mktemp("small"), sites=15)
    return out


def _answers(path: Path) -> dict:
    return json.loads((path / "answers.json").read_text(encoding="utf-8"))


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _pages(world: Path, domain: str, charset: str) -> list[tuple[str, str]]:
    """(url, text) of every HTML/JS file of the site, decoded as the site's charset."""
    root = world / "sites" / domain
    out = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".htm", ".js", "") and path.name != "favicon.ico":
            out.append((f"https://{domain}/{path.relative_to(root).as_posix()}",
                        path.read_bytes().decode(charset, "replace")))
    return out


# --- validity and reproducibility -----------------------------------------------------------


def test_generated_worlds_load_and_pass_sandbox_check(worlds):
    runner = CliRunner()
    for path in worlds.values():
        world = load_world(path)
        assert len(world.sites) >= 15
        result = runner.invoke(cli, ["sandbox", "check", "--world", str(path)])
        assert result.exit_code == 0, result.output
        assert "web sites" in result.output


def test_small_worlds_still_have_operators_and_infrastructure(worlds):
    answers = _answers(worlds["small"])
    assert 12 <= len(answers["sites"]) <= 20
    assert answers["operators"]
    assert answers["shared_infrastructure"]


def test_same_seed_same_bytes(tmp_path):
    a = _files(generate_world(5, tmp_path / "a"))
    b = _files(generate_world(5, tmp_path / "b"))
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []
    c = _files(generate_world(5, tmp_path / "a"))  # regenerating in place replaces, adds nothing
    assert c == a


def test_same_seed_same_bytes_across_hash_seeds(tmp_path):
    """Two fresh interpreters with different PYTHONHASHSEED write the same bytes: no set or
    dict-of-strings order leaks into a world (one process cannot show that)."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    code = "import sys; from pathlib import Path; from collector.sandbox.generate import generate_world; " \
           "generate_world(int(sys.argv[1]), Path(sys.argv[2]))"
    for seed in (5, 12):
        out = {}
        for hash_seed in ("1", "4242"):
            target = tmp_path / f"w{seed}-{hash_seed}"
            subprocess.run([sys.executable, "-c", code, str(seed), str(target)], cwd=repo, check=True,
                           capture_output=True, timeout=300, env={**os.environ, "PYTHONHASHSEED": hash_seed})
            out[hash_seed] = _files(target)
        a, b = out.values()
        assert sorted(a) == sorted(b), seed
        assert [k for k in a if a[k] != b[k]] == [], seed


def test_different_seeds_draw_different_structure(worlds):
    keys = [_answers(worlds[s]) for s in SEEDS]
    shapes = {(len(a["sites"]), len(a["operators"]),
               tuple(sorted(len(o["sites"]) for o in a["operators"].values()))) for a in keys}
    assert len(shapes) >= 3
    names = [set(a["sites"]) for a in keys]
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            assert len(names[i] & names[j]) <= 2


def test_operators_option_and_cli_generate(tmp_path):
    runner = CliRunner()
    out = tmp_path / "course"
    result = runner.invoke(cli, ["sandbox", "generate", "--seed", "9", "--operators", "4", "--sites", "20",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(_answers(out)["operators"]) == 4
    again = runner.invoke(cli, ["sandbox", "generate", "--seed", "9", "--out", str(out)])
    assert again.exit_code == 2 and "not empty" in again.output
    forced = runner.invoke(cli, ["sandbox", "generate", "--seed", "9", "--out", str(out), "--force"])
    assert forced.exit_code == 0, forced.output


# --- the answer key ---------------------------------------------------------------------------


def test_answer_key_matches_truth_in_domain_files(worlds):
    for path in worlds.values():
        world, answers = load_world(path), _answers(path)
        assert answers["format"] == 1
        for domain, entry in answers["sites"].items():
            truth = world.domains[domain].truth
            assert (truth.piracy, truth.category, truth.operator) == \
                (entry["piracy"], entry["category"], entry["operator"]), domain
            assert world.domains[domain].sites, domain
        for name, op in answers["operators"].items():
            assert op["sites"]
            for domain in op["sites"]:
                assert answers["sites"][domain]["operator"] == name
        for domain, entry in answers["sites"].items():
            chain = entry["chain"]
            if chain:
                assert domain in chain
                assert len({answers["sites"][d]["operator"] for d in chain}) == 1
                created = [world.domains[d].registration.created for d in chain]
                assert created == sorted(created) and len(set(created)) == len(created), chain


def test_every_world_has_the_variety_the_scenario_needs(worlds):
    answers = _answers(worlds[1])
    sites = answers["sites"].values()
    assert {s["category"] for s in sites if s["piracy"]} >= {"streaming", "torrent", "ddl", "manga", "iptv",
                                                             "warez", "ebook", "music", "counterfeit"}
    assert {s["language"] for s in sites} == {"ko", "en", "fr", "es", "ar", "ru", "zh", "ja", "pt", "vi",
                                              "id", "tr", "de", "it"}
    assert {"windows-1251", "gbk", "shift_jis", "euc-kr", "iso-8859-1"} <= {s["charset"] for s in sites}
    assert {"hub", "forum", "status", "video_host", "legal", "hard_negative", "trap", "hostile"} <= \
        {s["role"] for s in sites}
    assert any(d.startswith("xn--") or ".xn--" in d for d in answers["sites"])
    for seed in SEEDS:
        a = _answers(worlds[seed])
        assert any(s["chain"] for s in a["sites"].values()), seed
        assert any(s["js_only"] for s in a["sites"].values()), seed
        kinds = {s["hosting"]["kind"] for s in a["sites"].values()}
        assert {"cf", "cloud"} <= kinds
    invisible = [o for seed in SEEDS for o in _answers(worlds[seed])["operators"].values() if not o["visible"]]
    assert invisible and all(not o["identifiers"] for o in invisible)


def test_shared_infrastructure_is_on_many_unrelated_sites(worlds):
    for path in worlds.values():
        world, answers = load_world(path), _answers(path)
        owner = {d: (e["operator"] or f"-{d}") for d, e in answers["sites"].items()}
        kinds = set()
        for entry in answers["shared_infrastructure"]:
            sites = entry["sites"]
            assert len(sites) >= 3, entry
            assert len({owner[d] for d in sites}) >= 2, entry
            kinds.add((entry["type"], entry["what"].split(" (")[0]))
            for d in sites:
                domain = world.domains[d]
                if entry["type"] == "ip":
                    apex = domain.records[d]
                    assert entry["value"] in apex.get("A", ()) + apex.get("AAAA", ()), (d, entry["value"])
                elif entry["type"] == "nameservers":
                    assert ",".join(sorted(domain.registration.nameservers)) == entry["value"], d
                elif entry["type"] == "cert":
                    cert = world.certificates[domain.sites[0].certificate]
                    assert ",".join(cert.sans) == entry["value"]
                    # an edge certificate names its customers; a host's default one names the host only
                    assert (d in cert.sans) == (entry["what"] != "shared hosting default certificate"), (d, entry)
                elif entry["type"] == "favicon_mmh3":
                    assert favicon_mmh3((path / "sites" / d / "favicon.ico").read_bytes()) == entry["value"]
        if path == worlds.get(1):
            assert ("ip", "cdn anycast ipv4") in kinds and ("ip", "cdn anycast ipv6") in kinds
            assert ("nameservers", "cdn-assigned ns pair") in kinds


def test_a_shared_hosts_default_certificate_names_the_host_not_its_tenants(worlds):
    """Tenants of one shared-hosting address, of different operators, present the host's
    default certificate (``*.<hosting company>``); the key lists it as shared infrastructure."""
    found = 0
    for path in worlds.values():
        world, answers = load_world(path), _answers(path)
        entries = [e for e in answers["shared_infrastructure"] if e["what"] == "shared hosting default certificate"]
        if not entries:
            continue
        found += 1
        (entry,) = entries
        assert entry["type"] == "cert"
        sans = entry["value"].split(",")
        assert sans[0].startswith("*.") and sans[1] == sans[0][2:]
        assert not set(sans) & set(world.domains) and not any(s.endswith(tuple(world.domains)) for s in sans)
        owners = {answers["sites"][d]["operator"] or f"-{d}" for d in entry["sites"]}
        assert len(entry["sites"]) >= 3 and len(owners) >= 2
        ips = [set(answers["sites"][d]["hosting"]["ipv4"]) for d in entry["sites"]]
        assert set.intersection(*ips), entry  # one shared-hosting address
        for d in entry["sites"]:
            assert world.certificates[world.domains[d].sites[0].certificate].sans == tuple(sans)
    assert found >= 3


def test_operator_identifiers_are_found_by_isop_on_their_sites_only(worlds):
    for path in worlds.values():
        answers = _answers(path)
        found: dict[tuple[str, str], set[str]] = {}
        for domain, entry in answers["sites"].items():
            for url, text in _pages(path, domain, entry["charset"]):
                for f in extract(text, url):
                    found.setdefault((f.type, f.value), set()).add(domain)
        for domain, entry in answers["sites"].items():
            for ident in entry["identifiers"]:
                key = (ident["type"], ident["value"])
                if ident["type"] in PAGE_TYPES:
                    assert domain in found.get(key, set()), (domain, key)
                    owners = {answers["sites"][d]["operator"] or f"-{d}" for d in found[key]}
                    assert owners == {entry["operator"] or f"-{domain}"}, (key, found[key])
                elif ident["type"] == "favicon_mmh3":
                    icon = path / "sites" / domain / "favicon.ico"
                    assert favicon_mmh3(icon.read_bytes()) == ident["value"], domain


def test_wallets_pass_isops_validators(worlds):
    checks = {"btc": lambda v: is_btc_base58(v) or segwit_decode(v) is not None, "eth": is_eth,
              "trx": is_trx, "xmr": lambda v: xmr_kind(v) is not None}
    seen = set()
    for seed in SEEDS:
        for op in _answers(worlds[seed])["operators"].values():
            for ident in op["identifiers"]:
                if ident["type"] in checks:
                    assert checks[ident["type"]](ident["value"]), ident
                    seen.add(ident["type"])
    assert seen == set(checks)


_URL_HOST = re.compile(rb"(?:https?:)?//([a-z0-9.-]+\.[a-z0-9-]+)", re.IGNORECASE)


def test_every_site_is_reachable_from_the_seeds(worlds):
    for path in worlds.values():
        world, answers = load_world(path), _answers(path)
        edges: dict[str, set[str]] = {}
        for domain in world.domains.values():
            for site in domain.sites:
                out = edges.setdefault(domain.name, set())
                for target in [site.redirect] + [r.redirect for r in site.routes]:
                    if target.startswith("http"):
                        out.add(target.split("/")[2])
                if site.root.is_dir():
                    for data in _files(site.root).values():
                        out.update(m.decode("ascii", "replace").lower() for m in _URL_HOST.findall(data))
        def registered(host: str, world=world) -> str | None:
            d = world.domain_for(host)
            return d.name if d is not None else None
        seeds = [line.split("/")[2] for line in (path / "seeds.txt").read_text().splitlines()
                 if line.strip() and not line.startswith("#")]
        todo = [registered(h) for h in seeds]
        reached: set[str] = set()
        while todo:
            d = todo.pop()
            if d is None or d in reached:
                continue
            reached.add(d)
            todo += [registered(h) for h in edges.get(d, ())]
        missing = sorted(set(answers["sites"]) - reached)
        assert missing == [], missing


# --- certificates ---------------------------------------------------------------------------------


def test_hosts_naming_one_certificate_get_the_same_der(tmp_path, worlds):
    world = load_world(worlds[1])
    shared = shared_certificates(world)
    by_name: dict[str, list[str]] = {}
    for host, (name, _sans) in shared.items():
        by_name.setdefault(name, []).append(host)
    assert any(len(hosts) >= 2 for hosts in by_name.values())
    ca = SandboxCA(tmp_path, shared=shared)
    for name, hosts in by_name.items():
        pems = {ca.certificate_pem(h) for h in hosts}
        assert len(pems) == 1, name
        cert = x509.load_pem_x509_certificate(pems.pop())
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert sans.get_values_for_type(x509.DNSName) == list(world.certificates[name].sans)
    alone = next(h for h in world.sites if h not in shared)
    assert ca.certificate_pem(alone) != ca.certificate_pem(next(iter(shared)))


def test_unknown_certificate_name_is_a_world_error_naming_the_file(tmp_path, worlds):
    import shutil

    copy = tmp_path / "w"
    shutil.copytree(worlds["small"], copy)
    victim = next(p for p in sorted((copy / "domains").glob("*.toml"))
                  if "[[site]]" in p.read_text(encoding="utf-8") and "certificate" not in p.read_text(encoding="utf-8"))
    text = victim.read_text(encoding="utf-8")
    victim.write_text(text.replace("[[site]]\n", '[[site]]\ncertificate = "no-such-cert"\n', 1), encoding="utf-8")
    with pytest.raises(WorldError, match=re.escape(victim.name) + ".*no-such-cert.*certificates.toml"):
        load_world(copy)


# --- serving -----------------------------------------------------------------------------------------


def test_a_generated_world_is_served(tmp_path, worlds):
    from collector.sandbox.server import ThreadedSandbox

    path = worlds[2]
    world, answers = load_world(path), _answers(path)
    shared = shared_certificates(world)
    live = next(d for d, e in answers["sites"].items()  # a certificate of its own: verified by name
                if e["hosting"]["ipv6"] and e["hop"] != "redirect" and e["role"] == "piracy" and d not in shared)
    pair = next(hosts for hosts in _group(shared).values() if len(hosts) >= 2)
    with ThreadedSandbox(world, state_dir=tmp_path / "state") as sb:
        host, port = parse_host_port(sb.resolvers[0])
        for rtype, family in (("A", "ipv4"), ("AAAA", "ipv6")):
            reply = dns.query.udp(dns.message.make_query(live, rtype), host, port=port, timeout=5)
            got = {r.address for rrset in reply.answer if rrset.rdtype == dns.rdatatype.from_text(rtype)
                   for r in rrset}
            assert got == set(answers["sites"][live]["hosting"][family]), rtype
        context = ssl.create_default_context(cafile=str(sb.ca_path))
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"https": sb.proxy_url}),
                                             urllib.request.HTTPSHandler(context=context))
        with opener.open(f"https://{live}/", timeout=15) as response:
            assert response.status == 200 and response.read(1000)
        # A shared host's default certificate does not name its tenants: chain checked, not the name.
        context.check_hostname = False
        ders = {_peer_der(sb.proxy_port, h, context) for h in pair[:2]}
        assert len(ders) == 1


def _group(shared: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for host, (name, _sans) in shared.items():
        out.setdefault(name, []).append(host)
    return out


def _peer_der(proxy_port: int, host: str, context: ssl.SSLContext) -> bytes:
    with socket.create_connection(("127.0.0.1", proxy_port), timeout=10) as raw:
        raw.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += raw.recv(1024)
        assert b" 200 " in reply.split(b"\r\n", 1)[0]
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return tls.getpeercert(binary_form=True)
