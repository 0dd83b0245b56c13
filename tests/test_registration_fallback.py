"""Registration data that is actually there (issue 10): when RDAP says "not found" for a
domain DNS shows delegated, WHOIS is asked as well and both answers are kept."""

from __future__ import annotations

import pytest
from helpers.extra_world import extended_world, registered
from helpers.fault_runs import isop, messages, no_traceback, write_config
from sqlalchemy import create_engine, select

from storage.models import DomainRegistration, Lookup, Site


@pytest.fixture(scope="module")
def lagging_rdap_world(tmp_path_factory):
    root = extended_world(tmp_path_factory.mktemp("lag") / "w", {
        # registered, delegated, but the registry's RDAP does not know it yet
        "rdaplag.net": registered(ip="88.198.21.1") + '\n[faults]\nrdap = "404"\n',
    })  # and nowhere-at-all.net is in no file: not registered, not in DNS
    from collector.sandbox.server import ThreadedSandbox

    with ThreadedSandbox(root, state_dir=tmp_path_factory.mktemp("lag-state")) as running:
        yield running


def test_rdap_not_found_for_a_delegated_domain_asks_whois_too(lagging_rdap_world, tmp_path, guarded_env):
    config = write_config(tmp_path, lagging_rdap_world)
    result = isop(config, guarded_env, tmp_path, "enrich", "--domain", "rdaplag.net", "--domain",
                  "nowhere-at-all.net", "--only", "whois")
    no_traceback(result)
    assert result.returncode == 0, result.stdout + messages(result.stderr)[-2000:]
    db = create_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    with db.connect() as c:
        regs = {d: (src, registrar, country) for d, src, registrar, country in c.execute(
            select(Site.domain, DomainRegistration.source, DomainRegistration.registrar,
                   DomainRegistration.registrant_country)
            .join(Site, Site.id == DomainRegistration.site_id))}
        rdap = {t: (o, d) for t, o, d in c.execute(select(Lookup.target, Lookup.outcome, Lookup.detail)
                                                   .where(Lookup.service == "rdap_domain"))}
    db.dispose()
    assert regs["rdaplag.net"] == ("whois", "NameCheap, Inc.", "IS"), regs
    assert rdap["rdaplag.net"][0] == "not_found" and "WHOIS asked as well" in rdap["rdaplag.net"][1]
    assert "nowhere-at-all.net" not in regs and "nowhere-at-all.net" not in rdap, "no DNS, no second question"
