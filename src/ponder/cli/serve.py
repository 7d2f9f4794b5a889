"""``ponder serve``: the OpenAI-compatible proxy on uvicorn."""

from __future__ import annotations

from pathlib import Path

import click

from ponder.cli.common import THREADS_HELP, ensure_model, threaded_specs
from ponder.errors import ConfigError
from ponder.models import LADDER


@click.command()
@click.option(
    "--model",
    "models",
    multiple=True,
    metavar="SPEC",
    help="Backend to serve, repeatable: embedded:smollm2-135m (the default), "
    "openai:http://host/v1#model, scripted:file.json, or NAME=SPEC.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    envvar="PONDER_API_KEYS",
    metavar="KEY",
    help="Accepted Bearer key, repeatable (env PONDER_API_KEYS, space-separated). "
    "Without any, /v1 is open.",
)
@click.option(
    "--router",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Router file for the auto strategy.",
)
@click.option(
    "--tiers",
    default="",
    metavar="ID,ID",
    help="Served model ids for auto's tiers, cheapest first, comma-separated "
    "(e.g. small,big): auto on 'small' may escalate to 'big'. 'ladder' serves the three "
    "local models (fetched on first use) as the tiers.",
)
@click.option(
    "--max-body-mb",
    default=4.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Largest request body, MiB; beyond it: 413.",
)
@click.option(
    "--max-request-samples",
    default=512,
    show_default=True,
    type=click.IntRange(1),
    help="Most samples one request may draw (prompts x n x the strategy's samples).",
)
@click.option(
    "--max-request-tokens",
    default=1_048_576,
    show_default=True,
    type=click.IntRange(1),
    help="Most completion tokens one request may ask for, over all its samples.",
)
@click.option(
    "--upstream-max-tokens",
    type=click.IntRange(1),
    default=None,
    metavar="N",
    help="Completion tokens your upstreams generate when a request sets no max_tokens "
    "(their configured default). Without it, a pass-through answer without max_tokens "
    "counts as the whole --max-request-tokens.",
)
@click.option(
    "--open",
    "open_paths",
    multiple=True,
    type=click.Choice(["/metrics", "/docs", "/redoc", "/openapi.json"]),
    help="Serve this route without the API key (repeatable); /health and /ready always are.",
)
@click.option(
    "--max-concurrency",
    default=64,
    show_default=True,
    type=click.IntRange(1),
    help="Requests running at once.",
)
@click.option(
    "--max-queue",
    default=256,
    show_default=True,
    type=click.IntRange(0),
    help="Requests waiting for a slot; beyond it: 429.",
)
@click.option(
    "--timeout",
    "timeout_s",
    default=600.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds per request.",
)
@click.option(
    "--graceful-timeout",
    default=30,
    show_default=True,
    type=click.IntRange(min=0),
    help="Seconds to finish in-flight requests on stop.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@click.option(
    "--log-format",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "human", "json"]),
    help="auto: human lines in a terminal, JSON lines otherwise.",
)
@click.option("--access-log/--no-access-log", default=True, show_default=True)
@click.option("--threads", type=click.IntRange(1), default=None, help=THREADS_HELP)
def serve(
    models: tuple[str, ...],
    host: str,
    port: int,
    api_keys: tuple[str, ...],
    router: Path | None,
    tiers: str,
    max_body_mb: float,
    max_request_samples: int,
    max_request_tokens: int,
    upstream_max_tokens: int | None,
    open_paths: tuple[str, ...],
    max_concurrency: int,
    max_queue: int,
    timeout_s: float,
    graceful_timeout: int,
    log_level: str,
    log_format: str,
    access_log: bool,
    threads: int | None,
) -> None:
    """Serve an OpenAI-compatible proxy that adds inference-time compute.

    Point any OpenAI client at http://HOST:PORT/v1. The model field picks a strategy
    (sc/smollm2-135m), or extra_body={"ponder": {"strategy": "sc", "n": 8}}; without
    one, requests pass through unchanged. Only these options name models, files and
    URLs; a request picks among them and sets numeric options within the caps.
    """
    import uvicorn

    from ponder.routing.router_file import load_router
    from ponder.server import ServerConfig, create_app
    from ponder.server.config import preflight
    from ponder.server.logs import configure_logging

    if router is not None:
        if not router.is_file():
            raise ConfigError(f"router file not found: {router}")
        load_router(router)  # a bad file fails here, not on the first request
    specs, tier_ids = list(models), [t.strip() for t in tiers.split(",") if t.strip()]
    if tier_ids == ["ladder"]:
        specs, tier_ids = ladder_specs(specs), list(LADDER)
    for spec in specs:
        ensure_model(spec)
    config = ServerConfig.from_specs(
        threaded_specs(specs, threads),
        api_keys=tuple(api_keys),
        max_concurrency=max_concurrency,
        max_queue=max_queue,
        timeout_s=timeout_s,
        router=str(router) if router else None,
        tiers=tuple(tier_ids),
        open_paths=open_paths,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        max_request_samples=max_request_samples,
        max_request_tokens=max_request_tokens,
        upstream_max_tokens=upstream_max_tokens,
    )
    preflight(config.models)
    configure_logging(log_level, access_log, log_format)
    uvicorn.run(
        create_app(config),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=graceful_timeout,
        backlog=2048,
    )


def ladder_specs(specs: list[str]) -> list[str]:
    """The operator's model specs plus each ladder model not served yet (``--tiers
    ladder``); with no ``--model`` the ladder alone."""
    from ponder.server.config import model_id, split_named  # the server loads on demand

    served = {name or model_id(real) for name, real in map(split_named, specs)}
    return specs + [f"embedded:{name}" for name in LADDER if name not in served]
