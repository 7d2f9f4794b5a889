"""Router files: a router's JSON read back and checked field by field, so a damaged or
foreign file gets a DataError that names the field, never a traceback or a router that
routes on garbage. ``default_router`` reads the one shipped with ponder."""

from __future__ import annotations

import functools
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

from ponder.errors import ConfigError, DataError
from ponder.plans import Plan, probe_name, probe_request
from ponder.routing.features import FEATURES, PROBE_FEATURES, TERMS, term_names
from ponder.routing.router import FORMAT, VERSION, PlanModel, Router
from ponder.routing.support import Support

DEFAULT_FILE = "default_router.json"
LADDER_FILE = "ladder_router.json"
TOP_FILE = "ladder_top_router.json"


def _number_list(data: dict[str, Any], key: str, size: int, where: str) -> list[float]:
    value = data.get(key)
    if not isinstance(value, list) or len(value) != size:
        raise DataError(f"{where}: '{key}' must be a list of {size} numbers")
    try:
        out = [float(v) for v in value]
    except (TypeError, ValueError):
        raise DataError(f"{where}: '{key}' must hold numbers only") from None
    if any(math.isnan(v) or math.isinf(v) for v in out):
        raise DataError(f"{where}: '{key}' holds NaN or infinity")
    return out


def router_from_dict(data: Any, where: str = "router") -> Router:
    """Check a router's data and build it; DataError says what is wrong."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DataError(f"{where} is not a ponder router file (format must be {FORMAT!r})")
    if data.get("version") != VERSION:
        raise DataError(
            f"{where}: router version {data.get('version')!r} is not supported "
            f"(this ponder reads version {VERSION}); retrain with `ponder router train`"
        )
    probe = _probe(data, where)
    text = data.get("text", True)  # a router from before probe-only routers: it reads text
    if not isinstance(text, bool) or not (text or probe):
        raise DataError(f"{where}: 'text' must be true or false, and false needs a probe")
    names = [*(FEATURES if text else ()), *(PROBE_FEATURES if probe else ())]
    if data.get("features") != names:
        raise DataError(
            f"{where} was trained on other features than this ponder computes; "
            "retrain it with `ponder router train`"
        )
    size = len(names)
    mean = _number_list(data, "mean", size, where)
    scale = [s if s > 0 else 1.0 for s in _number_list(data, "scale", size, where)]
    terms = data.get("terms", "linear")  # a router from before terms: linear
    if terms not in TERMS:
        raise DataError(f"{where}: 'terms' must be one of {', '.join(TERMS)}, not {terms!r}")
    inputs = len(term_names(names, terms))
    term_mean: list[float] = []
    term_scale: list[float] = []
    if terms != "linear":
        term_mean = _number_list(data, "term_mean", inputs, where)
        term_scale = [s if s > 0 else 1.0 for s in _number_list(data, "term_scale", inputs, where)]
    raw_plans = data.get("plans")
    if not isinstance(raw_plans, list) or not raw_plans:
        raise DataError(f"{where}: 'plans' must be a non-empty list")
    plans = []
    for i, raw in enumerate(raw_plans):
        at = f"{where}: plan {i}"
        try:
            plan = Plan.from_dict(raw)
        except ConfigError as exc:
            raise DataError(f"{at}: {exc}") from None
        coef = _number_list(raw, "coef", inputs, at)
        [intercept, cost] = _number_list({"v": [raw.get("intercept"), raw.get("cost")]}, "v", 2, at)
        model = PlanModel(plan, coef, intercept, max(cost, 0.0))
        if raw.get("cost_model") is not None:  # a router from before cost models: none
            _cost_model(model, raw["cost_model"], size, at)
        plans.append(model)
    calibration = _calibration(data.get("calibration") or [], where)
    [lam] = _number_list({"lam": [data.get("lam") or 0.0]}, "lam", 1, where)
    budget = data.get("budget")  # a router from before budgets were kept: none
    if budget is not None and (
        isinstance(budget, bool) or not isinstance(budget, int | float) or not budget > 0
    ):
        raise DataError(f"{where}: 'budget' must be a positive number or null, got {budget!r}")
    tiers = data.get("tiers") or []
    if not isinstance(tiers, list) or not all(isinstance(t, str) for t in tiers):
        raise DataError(f"{where}: 'tiers' must be a list of backend names, got {tiers!r:.60}")
    if probe is not None and tiers and probe_request(probe).tier >= len(tiers):
        raise DataError(f"{where}: probe {probe!r} names a tier the router's {len(tiers)} lack")
    meta = data.get("meta") or {}
    if not isinstance(meta, dict):
        raise DataError(f"{where}: 'meta' must be an object, got {meta!r:.60}")
    support = _support(data, where)
    return Router(
        plans,
        mean,
        scale,
        lam,
        calibration,
        tiers,
        meta,
        support,
        probe,
        text,
        terms,
        term_mean,
        term_scale,
        None if budget is None else float(budget),
    )


def _calibration(raw: Any, where: str) -> list[dict[str, float]]:
    """The calibration table: rows of finite numbers, each with a 'lam' and a 'cost'."""
    if not isinstance(raw, list) or not all(isinstance(row, dict) for row in raw):
        raise DataError(f"{where}: 'calibration' must be a list of objects")
    for row in raw:
        values = [row.get("lam"), row.get("cost"), *row.values()]
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in values
        ):
            raise DataError(
                f"{where}: 'calibration' rows need a 'lam' and a 'cost', all finite "
                f"numbers; got {row!r:.80}"
            )
    return [{key: float(value) for key, value in row.items()} for row in raw]


def _cost_model(model: PlanModel, raw: Any, size: int, where: str) -> None:
    at = f"{where}: cost_model"
    if not isinstance(raw, dict):
        raise DataError(f"{at} must be an object with 'coef', 'intercept' and 'bounds'")
    model.cost_coef = _number_list(raw, "coef", size, at)
    [model.cost_intercept] = _number_list({"intercept": [raw.get("intercept")]}, "intercept", 1, at)
    if raw.get("bounds") is not None:
        low, high = _number_list(raw, "bounds", 2, at)
        if low > high:
            raise DataError(f"{at}: 'bounds' must be [low, high], got [{low:g}, {high:g}]")
        model.cost_bounds = (low, high)


def _support(data: dict[str, Any], where: str) -> Support | None:
    raw = data.get("support")
    if raw is None:
        return None  # a router from before support was stored: no check
    if not isinstance(raw, dict):
        raise DataError(f"{where}: 'support' must be an object with 'low' and 'high'")
    size = len(FEATURES)
    low, high = _number_list(raw, "low", size, where), _number_list(raw, "high", size, where)
    if raw.get("points") is None:
        return Support(low, high)  # a router from before the distance check: ranges only
    at = f"{where}: support"
    rows = raw["points"]
    if not isinstance(rows, list) or not rows:
        raise DataError(f"{at}: 'points' must be a non-empty list of feature lists")
    points = [
        _number_list({"point": row}, "point", size, f"{at}: point {i}")
        for i, row in enumerate(rows)
    ]
    radius = raw.get("radius")
    if isinstance(radius, bool) or not isinstance(radius, int | float) or not radius >= 0:
        raise DataError(f"{at}: 'radius' must be a non-negative number, got {radius!r}")
    if math.isinf(radius):
        raise DataError(f"{at}: 'radius' must be finite")
    return Support(low, high, points, float(radius))


def load_router(path: str | Path) -> Router:
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"router file not found: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read router file {file}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise DataError(
            f"router file {file} is not valid JSON: {exc.msg} (line {exc.lineno})"
        ) from None
    return router_from_dict(data, str(file))


def default_router() -> Router | None:
    """The router shipped with ponder (trained on the built-in suites), if present."""
    return _shipped(DEFAULT_FILE)


def shipped_routers() -> list[Router]:
    """The routers shipped for the local ladder, most tiers first: the ladder's (0.5b then
    1.5b) and its top tier's alone (trained on qwen2.5-coder-1.5b's samples only).
    ``auto`` uses the first whose tiers are live (``ponder.routing.choice.live_router``)."""
    routers = (_shipped(LADDER_FILE), _shipped(TOP_FILE))
    return [r for r in routers if r is not None]


def _shipped(name: str) -> Router | None:
    data = _shipped_data(name)
    return None if data is None else router_from_dict(data, f"ponder/routing/{name}")


@functools.lru_cache(maxsize=4)
def _shipped_data(name: str) -> dict[str, Any] | None:
    """A shipped router file's JSON, read once per process (the proxy builds ``auto`` per
    request); each caller still gets a router of its own."""
    try:
        text = resources.files("ponder.routing").joinpath(name).read_text("utf-8")
    except (FileNotFoundError, OSError):
        return None
    data: dict[str, Any] = json.loads(text)
    return data


def _probe(data: dict[str, Any], where: str) -> str | None:
    """The file's probe: none (``false`` or absent), ``true`` (a file from before probes
    were named: tier 0's greedy answer), or a name such as ``pot@1``."""
    raw = data.get("probe")
    if raw is None or raw is False:
        return None
    try:
        return probe_name(raw)
    except ConfigError as exc:
        raise DataError(f"{where}: {exc}") from None
