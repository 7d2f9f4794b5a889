"""``ponder models list|pull|path``."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from ponder import models
from ponder.cli.common import download_progress, echo_json


@click.group(name="models")
def models_group() -> None:
    """List, pull and locate local models."""


@models_group.command(name="list")
@click.option("--json", "as_json", is_flag=True)
def list_models(as_json: bool) -> None:
    """Models ponder can run in process, with licence, provenance and cache state."""
    rows = [
        {
            "name": e.name,
            "default": e.name == models.DEFAULT_MODEL,
            "description": e.description,
            "license": e.license,
            "params": e.params,
            "size": e.size,
            "source": e.provenance,
            "sha256": e.sha256,
            "cached": models.is_cached(e.name),
            "path": str(models.cached_path(e.name)),
        }
        for e in [*models.REGISTRY.values(), *models.local_entries().values()]
    ]
    if as_json:
        echo_json(rows)
        return
    table = Table("name", "size", "params", "license", "cached", "source")
    for r in rows:
        name = f"{r['name']} (default)" if r["default"] else str(r["name"])
        table.add_row(
            name,
            _size(int(str(r["size"]))),
            f"{float(str(r['params'])) / 1e6:.0f}M",
            str(r["license"]),
            "yes" if r["cached"] else "no",
            str(r["source"]),
        )
    Console().print(table)
    Console().print(f"cache: {models.cache_dir()}  (set PONDER_CACHE_DIR to move it)")


def _size(size: int) -> str:
    """A file size for people: 98 MB, 1.1 GB; "?" when the registry does not pin it."""
    if not size:
        return "?"
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


@models_group.command()
@click.argument("name")
@click.option("--force", is_flag=True, help="download again even when cached")
def pull(name: str, force: bool) -> None:
    """Fetch NAME into the cache and verify its sha256."""
    models.get_entry(name)
    with download_progress() as report:
        path = models.pull(name, progress=report, force=force)
    click.echo(str(path))


@models_group.command()
@click.argument("name")
def path(name: str) -> None:
    """Print the local path of NAME (pulling it when missing)."""
    with download_progress() as report:
        click.echo(str(models.resolve(name, progress=report)))
