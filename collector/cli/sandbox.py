"""``isop sandbox``: serve, check, generate and grade the sandbox world, and list its sites."""

from __future__ import annotations

from pathlib import Path

import click

from collector.cli import cli
from collector.cli.common import PORT, UsageProblem, config_of, exit_codes, store_session


def _parse_latency(value: str | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (value or "").split(","))):
        name, _, ms = part.partition("=")
        try:
            out[name.strip()] = float(ms)
        except ValueError:
            raise click.BadParameter(f"{part!r}: expected SERVICE=MILLISECONDS", param_hint="--latency") from None
        if name.strip() not in ("dns", "http", "rdap", "whois"):
            raise click.BadParameter(f"{name!r}: services are dns, http, rdap, whois", param_hint="--latency")
    return out


def _load_world(world: str | None):
    from collector.sandbox.world import load_world

    with exit_codes():
        return load_world(world)


@cli.group("sandbox")
def sandbox_group() -> None:
    """The sandbox world: a local mini-internet of piracy and legitimate sites."""


@sandbox_group.command("serve")
@click.option("--world", type=click.Path(file_okay=False, exists=True), help="World folder (default: config/sandbox/default).")
@click.option("--ports-file", type=click.Path(dir_okay=False), default="data/sandbox/ports.json", show_default=True,
              help="Where to write the ports (JSON); a ready isop config is written beside it.")
@click.option("--state-dir", type=click.Path(file_okay=False), default="data/sandbox", show_default=True,
              help="Where the sandbox CA key and certificate are kept.")
@click.option("--latency", help="Added latency per answer, e.g. dns=30,rdap=150,whois=150,http=0 (ms).")
@click.option("--dns-port", type=PORT, default=0, show_default=True, help="DNS port (0: any free port).")
@click.option("--proxy-port", type=PORT, default=0, show_default=True, help="Proxy port (0: any free port).")
@click.option("--config", "point_config", type=click.Path(dir_okay=False),
              help="An isop config to point at this world (e.g. the demo's data/demo/isop-sandbox.toml): only "
                   "its [network] proxy, resolvers and ca_bundle are rewritten; written fresh when missing.")
def sandbox_serve(world: str | None, ports_file: str, state_dir: str, latency: str | None,
                  dns_port: int, proxy_port: int, point_config: str | None) -> None:
    """Serve the sandbox world on 127.0.0.1 until interrupted.

    Prints the proxy and DNS ports and writes them (JSON) to --ports-file, with a ready
    isop config (isop-sandbox.toml) beside it; --config FILE points an existing config
    (and so its store) at the world instead. Nothing here connects outside 127.0.0.0/8.
    """
    from collector.sandbox.server import serve_forever

    loaded = _load_world(world)
    serve_forever(loaded, ports_file=Path(ports_file), state_dir=Path(state_dir),
                  latency_overrides=_parse_latency(latency), dns_port=dns_port, proxy_port=proxy_port,
                  point_config=Path(point_config) if point_config else None)


@sandbox_group.command("check")
@click.option("--world", type=click.Path(file_okay=False, exists=True), help="World folder (default: config/sandbox/default).")
def sandbox_check(world: str | None) -> None:
    """Validate a world folder and summarise it."""
    loaded = _load_world(world)
    sites = loaded.sites
    click.echo(f"world {loaded.name!r}: {len(loaded.domains)} domains, {len(sites)} web sites, "
               f"{len(loaded.networks)} networks, {len(loaded.registrars)} registrars, "
               f"{len(loaded.registries)} registries")


@sandbox_group.command("generate")
@click.option("--seed", type=int, required=True, help="The scenario's seed: the same seed writes the same world.")
@click.option("--sites", type=click.IntRange(1, 500), help="About how many web sites (default: drawn, 30-60).")
@click.option("--operators", type=click.IntRange(1, 50), help="How many operator networks (default: drawn, 3-8).")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="World folder to write.")
@click.option("--force", is_flag=True, help="Write into a folder that is not empty (the generator's files are replaced).")
def sandbox_generate(seed: int, sites: int | None, operators: int | None, out: str, force: bool) -> None:
    """Generate a sandbox world with its answer key (answers.json) from a seed.

    Serve it with `isop sandbox serve --world DIR`, give trainees DIR/seeds.txt and
    DIR/README.md, grade with `isop sandbox grade --world DIR`.
    """
    from collector.sandbox.generate import generate_world
    from collector.sandbox.world import WorldError, load_world

    target = Path(out)
    if target.exists() and any(target.iterdir()) and not force:
        raise UsageProblem(f"{target} is not empty; pass --force to write into it")
    generate_world(seed, target, sites=sites, operators=operators)
    try:
        loaded = load_world(target)
    except WorldError as e:  # a generator bug, but say so in one line
        raise UsageProblem(f"generated world does not load: {e}") from None
    click.echo(f"world {loaded.name!r} written to {target}: {len(loaded.domains)} domains, "
               f"{len(loaded.sites)} web sites; answer key {target / 'answers.json'}")


@sandbox_group.command("grade")
@click.option("--world", type=click.Path(file_okay=False, exists=True), help="World folder (default: config/sandbox/default).")
@click.pass_context
def sandbox_grade(ctx: click.Context, world: str | None) -> None:
    """Grade the store's verdicts and operator networks against the world's answer key (for courses and tests)."""
    from collector.sandbox.grading import grade
    from collector.sandbox.grading_clusters import grade_clusters
    from storage.safe_text import inert

    loaded = _load_world(world)
    config = config_of(ctx)
    with store_session(ctx, create=True) as session:
        g = grade(session, loaded)
        networks = grade_clusters(session, loaded, config.clusters)
    click.echo(g.summary())
    for note in g.notes:
        click.echo("  " + inert(note))
    click.echo(networks.summary())
    for line in networks.lines():
        click.echo("  " + line)


@sandbox_group.command("sites")
@click.option("--world", type=click.Path(file_okay=False, exists=True), help="World folder (default: config/sandbox/default).")
@click.option("--answers", is_flag=True, help="Also show the answer key (category, operator, notes) - for trainers.")
def sandbox_sites(world: str | None, answers: bool) -> None:
    """List the world's web sites and seeds, for trainees exploring the range."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    loaded = _load_world(world)
    table = Table(title=f"sandbox world {escape(loaded.name)}")
    table.add_column("host")
    table.add_column("schemes")
    if answers:
        table.add_column("piracy")
        table.add_column("category")
        table.add_column("operator")
        table.add_column("notes", overflow="fold")
    for domain in loaded.domains.values():
        for site in domain.sites:
            schemes = ",".join(s for s, on in (("https", site.https), ("http", site.http != "off")) if on)
            row = [escape(site.host), schemes]
            if answers:
                t = domain.truth
                row += ["yes" if t.piracy else "no", t.category, escape(t.operator), escape(t.notes)]
            table.add_row(*row)
    Console().print(table)
    seeds = loaded.seeds_path()
    if seeds.is_file():
        click.echo("seeds: " + ", ".join(line.strip() for line in seeds.read_text().splitlines()
                                         if line.strip() and not line.startswith("#")))
