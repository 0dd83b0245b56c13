"""Scheduled jobs: due computation, config, crontab line, and `isop run-due` end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from collector.cli import cli
from collector.cli.jobs import COMMANDS
from collector.config import ConfigError, JobConfig, as_toml, load_config
from collector.locks import JobLock
from collector.schedule import crontab_lines, due_status, latest_slot, next_slot
from storage.models import CrawlRun, Site, SiteStatusObservation

for _command in COMMANDS:
    if _command.name not in cli.commands:
        cli.add_command(_command)

GUARD = Path(__file__).resolve().parent / "guard"
T = datetime(2026, 3, 10, 12, 7, 30, tzinfo=UTC)


def job(**kw) -> JobConfig:
    return JobConfig(**{"name": "j", "cron": "0 * * * *", "kind": "enrich", **kw})


# --- due computation ----------------------------------------------------------------------


def test_slots():
    assert latest_slot("0 * * * *", T) == T.replace(minute=0, second=0)
    assert latest_slot("*/5 * * * *", T.replace(minute=5, second=0)) == T.replace(minute=5, second=0)
    assert next_slot("0 * * * *", T) == T.replace(hour=13, minute=0, second=0)


def test_never_ran_is_due_then_not_until_the_next_slot():
    assert due_status(job(), None, T).due
    slot = latest_slot("0 * * * *", T)
    assert not due_status(job(), slot, T).due
    assert not due_status(job(), slot, T + timedelta(minutes=50)).due
    assert due_status(job(), slot, T + timedelta(minutes=53)).slot == slot + timedelta(hours=1)


def test_missed_slots_run_once_and_a_big_jump_forward_too():
    last = latest_slot("0 * * * *", T)
    state = due_status(job(), last, T + timedelta(days=400))
    assert state.due and state.slot == latest_slot("0 * * * *", T + timedelta(days=400))
    assert not due_status(job(), state.slot, T + timedelta(days=400, minutes=1)).due


def test_clock_going_back_does_not_rerun():
    last = latest_slot("0 * * * *", T)
    state = due_status(job(), last, T - timedelta(hours=3))
    assert not state.due and state.clock_back and "clock went back" in state.reason
    # the skipped slot, once recorded, is quiet; the schedule goes on at the next slot
    assert not due_status(job(), state.slot, T - timedelta(hours=3)).due
    assert due_status(job(), state.slot, T - timedelta(hours=2)).due


def test_disabled_job_is_never_due():
    state = due_status(job(enabled=False), None, T)
    assert not state.due and state.reason == "disabled"


# --- config -------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "isop.toml"
    path.write_text(text)
    return path


def test_jobs_parse_and_round_trip(tmp_path):
    config = load_config(write(tmp_path, """
[log]
format = "json"
[retention]
enabled = true
pages_after = "30d"
[distributed]
redis_url = "rediss://cache.example:6380/1"
[[jobs]]
name = "nightly"
cron = "0  3 * * *"
kind = "discover"
seeds = "seeds.txt"
max_pages = 100
depth = 2
timeout = "6h"
[[jobs]]
name = "dns-hourly"
cron = "@hourly"
kind = "enrich"
only = ["dns"]
stale_after = "1h"
enabled = false
"""), env={"ISOP_JOBS_NAME": "ignored"})
    nightly, dns = config.jobs
    assert nightly == JobConfig("nightly", "0 3 * * *", "discover", seeds="seeds.txt", max_pages=100, depth=2,
                                timeout="6h")
    assert dns.only == ("dns",) and dns.enabled is False and dns.stale_after == "1h"
    assert config.log.format == "json" and config.log.level == "INFO"
    assert config.retention.enabled and config.retention.pages_after == "30d"
    assert config.distributed.redis_url.startswith("rediss://") and config.distributed.key_prefix == "isop"
    again = load_config(write(tmp_path / "..", as_toml(config)), env={})
    assert again.jobs == config.jobs and again.log == config.log and again.retention == config.retention


@pytest.mark.parametrize(("text", "expected"), [
    ('name = "j1"\ncron = "61 * * * *"\nkind = "enrich"', "config [[jobs]] 'j1' cron: cron '61 * * * *' is not a valid cron"),
    ('name = "j1"\ncron = "* * * * * *"\nkind = "enrich"', "config [[jobs]] 'j1' cron: cron '* * * * * *' must have 5"),
    ('name = "j1"\ncron = "@daily"\nkind = "crawl"', "config [[jobs]] 'j1' kind: must be one of discover"),
    ('name = "a b"\ncron = "@daily"\nkind = "enrich"', "config [[jobs]] 'a b' name: must be"),
    ('name = "j1"\ncron = "@daily"\nkind = "discover"', "config [[jobs]] 'j1' seeds: a discover job needs"),
    ('name = "j1"\ncron = "@daily"\nkind = "enrich"\nonly = ["ftp"]', "config [[jobs]] 'j1' only: unknown service ftp"),
    ('name = "j1"\ncron = "@daily"\nkind = "enrich"\ntimeout = "soon"', "config [[jobs]] 'j1' timeout: not a duration"),
    ('name = "j1"\ncron = "@daily"', "config [[jobs]] 'j1': kind is required"),
    ('name = "j1"\ncron = "@daily"\nkind = "enrich"\n[[jobs]]\nname = "j1"\ncron = "@daily"\nkind = "enrich"',
     "config [[jobs]] 'j1' name: another job has this name"),
])
def test_bad_job_is_one_line_naming_the_job(tmp_path, text, expected):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "[[jobs]]\n" + text + "\n"), env={})
    assert expected in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(("text", "expected"), [
    ('[distributed]\nredis_url = "http://x"', "config [distributed] redis_url: must be a redis:// or rediss:// URL"),
    ('[log]\nformat = "xml"', "config [log] format: must be one of auto, text, json"),
    ('[retention]\nevidence_after = "ever"', "config [retention] evidence_after: not a duration"),
])
def test_bad_new_sections(tmp_path, text, expected):
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        load_config(write(tmp_path, text + "\n"), env={})


def test_crontab_line(tmp_path):
    work = tmp_path / "the work%dir"
    work.mkdir()
    comment, line = crontab_lines(work / "isop.toml", "/opt/isop/.venv/bin/isop", workdir=work)
    assert comment.startswith("#")
    assert line.startswith("* * * * * cd ")
    assert "'" + str(work).replace("%", "\\%") + "'" in line  # quoted, % escaped for cron
    assert "/opt/isop/.venv/bin/isop --config " in line and line.split(" 2>&1")[0].endswith("run-due.log'")
    assert "run-due >> " in line and line.endswith("2>&1")


# --- run-due against real processes -------------------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(GUARD), env.get("PYTHONPATH", "")]))
    env.pop("ISOP_CONFIG", None)
    return env


def isop(args: list[str], config: Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    script = ("import sys; from collector.cli import cli; from collector.cli.jobs import COMMANDS\n"
              "[cli.add_command(c) for c in COMMANDS if c.name not in cli.commands]\n"
              "cli.main(sys.argv[1:], prog_name='isop')")
    return subprocess.run([sys.executable, "-c", script, "--config", str(config), *args], env=_env(), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def config_file(tmp: Path, jobs: str, sandbox=None) -> Path:
    network = (f'[network]\nproxy = "{sandbox.proxy_url}"\nresolvers = ["{sandbox.resolvers[0]}"]\n'
               f'ca_bundle = "{sandbox.ca_path}"\ntimeout = 5\n') if sandbox else ""
    path = tmp / "isop.toml"
    path.write_text(f'[storage]\nurl = "sqlite:///{tmp / "isop.db"}"\n[evidence]\ndir = "{tmp / "evidence"}"\n'
                    f"{network}[crawl]\nrender = false\ndownload_timeout = 10.0\n{jobs}")
    return path


def job_runs(tmp: Path, name: str | None = None) -> list:
    engine = create_engine(f"sqlite:///{tmp / 'isop.db'}")
    with engine.connect() as c:
        query = select(CrawlRun).order_by(CrawlRun.id)
        rows = list(c.execute(query.where(CrawlRun.job == name) if name else query))
    engine.dispose()
    return rows


ENRICH_JOB = '[[jobs]]\nname = "enrich-all"\ncron = "*/5 * * * *"\nkind = "enrich"\nonly = ["dns"]\n'


def test_two_run_due_at_once_start_the_job_once(tmp_path):
    config = config_file(tmp_path, ENRICH_JOB)
    script = ("import sys; from collector.cli import cli; from collector.cli.jobs import COMMANDS\n"
              "[cli.add_command(c) for c in COMMANDS if c.name not in cli.commands]\n"
              "cli.main(sys.argv[1:], prog_name='isop')")
    first = isop(["db", "upgrade"], config, tmp_path)  # both racers find the store at head
    assert first.returncode == 0, first.stderr
    procs = [subprocess.Popen([sys.executable, "-c", script, "--config", str(config), "run-due"], env=_env(),
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    assert [r[2] for r in results] == [0, 0], results
    scheduled = [r for r in job_runs(tmp_path, "enrich-all") if r.arguments.get("scheduled")]
    assert len(scheduled) == 1 and scheduled[0].outcome == "ok", scheduled
    assert scheduled[0].counts["runs"] and job_runs(tmp_path)[-1].kind == "enrich"
    listed = CliRunner().invoke(cli, ["--config", str(config), "jobs", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert '"outcome": "ok"' in listed.output and '"next_run": "20' in listed.output


def test_a_job_whose_lock_is_held_is_skipped_with_the_reason(tmp_path):
    config = config_file(tmp_path, ENRICH_JOB)
    with JobLock(tmp_path / "data" / "locks", "job-enrich-all"):
        result = isop(["run-due"], config, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"previous run still going (pid {os.getpid()})" in result.stderr
    (row,) = job_runs(tmp_path, "enrich-all")
    assert row.outcome == "skipped" and row.error == f"previous run still going (pid {os.getpid()})"
    again = isop(["run-due"], config, tmp_path)  # that slot is done with: nothing to do until the next
    assert again.returncode == 0 and len(job_runs(tmp_path, "enrich-all")) == 1


def test_a_failing_job_is_recorded_and_the_others_still_run(tmp_path):
    config = config_file(tmp_path, '[[jobs]]\nname = "broken"\ncron = "@daily"\nkind = "discover"\n'
                                   f'seeds = "{tmp_path / "missing.txt"}"\n' + ENRICH_JOB)
    result = isop(["run-due"], config, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "broken" in result.stderr and "not found" in result.stderr
    (broken,) = job_runs(tmp_path, "broken")
    assert broken.outcome == "failed" and "missing.txt: not found" in broken.error
    assert [r.outcome for r in job_runs(tmp_path, "enrich-all") if r.arguments.get("scheduled")] == ["ok"]


def test_discover_job_and_recheck_against_the_sandbox(sandbox, tmp_path):
    from collector.sandbox.world import load_world

    seeds = tmp_path / "seeds.txt"
    seeds.write_text(load_world().seeds_path().read_text())
    config = config_file(tmp_path, '[[jobs]]\nname = "discover-small"\ncron = "0 0 1 1 *"\nkind = "discover"\n'
                                   f'seeds = "{seeds}"\nmax_pages = 60\ndepth = 1\ntimeout = "10m"\n', sandbox)
    result = isop(["run-due"], config, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = job_runs(tmp_path, "discover-small")
    crawl = [r for r in rows if r.kind == "discovery"]
    scheduled = [r for r in rows if r.arguments.get("scheduled")]
    assert len(crawl) == 1 and crawl[0].outcome == "ok" and crawl[0].counts["isop/pages/stored"] > 10
    assert len(scheduled) == 1 and scheduled[0].outcome == "ok" and scheduled[0].counts["runs"] == [crawl[0].id]
    again = isop(["run-due"], config, tmp_path)
    assert again.returncode == 0 and job_runs(tmp_path, "discover-small") == rows  # not re-run

    # A site known down (a successor with no web server) joins the flagged sites' hops.
    engine = create_engine(f"sqlite:///{tmp_path / 'isop.db'}")
    from storage.db import session_factory
    from storage.models import Classification, RelationKind, SiteRelation, SiteStatus

    old = datetime(2026, 1, 1, tzinfo=UTC)
    with session_factory(engine)() as s, s.begin():
        flagged = s.scalars(select(Classification.site_id).where(Classification.is_piracy.is_(True))).first()
        assert flagged is not None
        gone = s.scalars(select(Site).where(Site.domain == "ddalgitoon100.com")).first()
        if gone is None:  # a numbered predecessor the crawl may or may not have met
            gone = Site(domain="ddalgitoon100.com", suffix="com")
            s.add(gone)
            s.flush()
        s.add(SiteRelation(from_site_id=flagged, to_site_id=gone.id, kind=RelationKind.ANNOUNCED))
        s.add(SiteStatusObservation(site_id=gone.id, status=SiteStatus.DOWN, detail="seen down", first_seen=old,
                                    last_seen=old))
        before = {d: seen for d, seen in s.execute(
            select(Site.domain, SiteStatusObservation.last_seen).join(Site, Site.id == SiteStatusObservation.site_id))}
    result = isop(["recheck"], config, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "re-checked" in result.stdout
    with session_factory(engine)() as s:
        latest = {}
        for domain, status, seen in s.execute(select(Site.domain, SiteStatusObservation.status,
                                                     SiteStatusObservation.last_seen)
                                              .join(Site, Site.id == SiteStatusObservation.site_id)
                                              .order_by(SiteStatusObservation.last_seen)):
            latest[domain] = (status, seen)
        runs = s.scalars(select(CrawlRun).where(CrawlRun.job == "recheck")).all()
    engine.dispose()
    assert latest["ddalgitoon100.com"][0] == "down" and latest["ddalgitoon100.com"][1] > old
    rechecked = [d for d in before if d in latest and latest[d][1] > before[d]]
    assert len(rechecked) >= 3
    assert {r.kind for r in runs} == {"recheck"} and all(r.outcome == "ok" for r in runs)
