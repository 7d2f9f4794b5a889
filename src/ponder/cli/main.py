"""The ``ponder`` command. Subcommands load lazily, so ``ponder --help`` is instant and an
extra that is not installed only matters to the command that needs it."""

from __future__ import annotations

import importlib
import logging
import sys
import warnings
from typing import Any

import click

from ponder.deprecation import PREFIX
from ponder.errors import PonderError

COMMANDS = {
    "ask": ("ponder.cli.ask", "ask", "Answer a question with inference-time compute."),
    "models": ("ponder.cli.models", "models_group", "List, pull and locate local models."),
    "plan": ("ponder.cli.plan", "plan", "Plan serving: parameters, memory, KV cache, layout."),
    "context": (
        "ponder.cli.context",
        "context_group",
        "Long context: needle-in-a-haystack, key-value and multi-doc position sweeps.",
    ),
    "eval": ("ponder.cli.eval", "eval_group", "Evaluate strategies: run, replay, report."),
    "router": ("ponder.cli.router", "router", "Train and inspect the adaptive router."),
    "serve": ("ponder.cli.serve", "serve", "Serve an OpenAI-compatible proxy."),
    "distill": (
        "ponder.cli.distill",
        "distill_group",
        "Distil a teacher's answers into a small model: generate, train, export.",
    ),
    "moe": ("ponder.cli.moe", "moe_group", "A reference MoE layer: bench, expert parallelism."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attr, _ = COMMANDS[cmd_name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            missing = exc.name or str(exc)
            raise click.ClickException(
                f"`ponder {cmd_name}` needs {missing}, which is not installed: "
                "pip install 'ponder[all]'"
            ) from exc
        command: click.Command = getattr(module, attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PonderError as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:  # a full disk, a permission: one line, no traceback
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from exc


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ponder")
def cli() -> None:
    """ponder: small models that answer like large ones."""
    notices = logging.getLogger("ponder")
    if not any(isinstance(h, Notices) for h in notices.handlers):
        notices.addHandler(Notices(logging.WARNING))


class Notices(logging.Handler):
    """The library's warnings as one line each on stderr (``ponder serve`` replaces this
    with its own log format)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(f"ponder: {record.getMessage()}", err=True)


def main() -> None:
    # ponder's deprecation notices (an old option spelling) are for the user at the
    # terminal: Python hides DeprecationWarnings outside __main__ unless told.
    warnings.filterwarnings("default", message=PREFIX, category=DeprecationWarning)
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
