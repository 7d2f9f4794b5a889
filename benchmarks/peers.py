"""ponder against optillm, the proxy a user would pick instead: one upstream, both
proxies, the same questions, one run (issue 28).

The upstream is ``ponder serve`` in pass-through over the embedded engine (llama.cpp
through xllamacpp), serving the ladder's Qwen2.5-Coder-0.5B and -1.5B on loopback. It
is a real OpenAI-compatible server, the only llama.cpp build that installs from the
registries here (no llama.cpp server binary does), and it publishes what it served on
``/metrics``: prompt and completion tokens per model from llama.cpp's own usage, and the
chat requests it answered. Both proxies talk to it and nothing else; the benchmark reads
its metrics before and after each question (one question at a time), so both are
counted by the same counter. Neither proxy's own report of its usage is used.

Both proxies are started here on loopback: ``ponder serve`` with the upstream's models
as ``openai:`` backends (each tier alone, and the two as ``auto``'s tiers for the
ladder), and optillm 0.4.0 from ``.venv-peers`` (``bash benchmarks/peers_env.sh``: PyPI,
not a ponder dependency) with ``--base-url`` at the upstream. An optillm approach is
picked with ``optillm_approach`` in the body; its default (a model name without a
prefix) passes the request through unchanged and is the arm ``none``. optillm 0.4.0
fixes ``self_consistency`` at 5 samples and reads best-of-N's count from its command
line (``--optillm-best-of-n``); ponder's arms default to the same counts.

Questions: ``--per-set`` items of SVAMP and of GSM8K-train from ``../shared/data``, by
the rule of ``benchmarks/ladder_items.py`` (sha256 of the id), skipping the first
``--skip`` (96): the ladder's stored runs and the ladder router's training items all
come from those 96, so none of these items was seen by the router. Each question is
sent as one user message with ``--max-tokens`` and no other option.

Per arm and data set: accuracy (95% bootstrap interval over items), completion and
total tokens, FLOPs (2 x active parameters x tokens, per model), upstream requests and
wall seconds per question, replies the answer rule could not read (counted, with
examples), ponder's ratio to each optillm approach on the same tier, the targets of the
issue, and one plot of accuracy against tokens per question. Results go to
``OUT/results.jsonl`` one row per (arm, question), so a run resumes where it stopped.

    bash benchmarks/peers_env.sh
    python benchmarks/peers.py --per-set 40 --out runs/peers/full
    python benchmarks/peers.py --out runs/peers/full --report-only
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from ladder_items import subset
from peerslib.report import report
from peerslib.score import (
    DEFAULT_OPTILLM,
    DEFAULT_PONDER,
    EXTRACTION_RULE,
    LADDER,
    TIERS,
    Arm,
    ArmError,
    is_right,
    make_arms,
    parse_metrics,
    parse_strategy,
    read_answer,
    spend_between,
)
from peerslib.servers import Servers, ServerSettings

from ponder import models
from ponder.eval.datasets import gold_answer

SETS = ("svamp", "gsm8k-train")


def load_items(source: Path, sets: list[str], per_set: int, skip: int) -> list[dict[str, Any]]:
    """``per_set`` items of each data set after the first ``skip`` by the ladder's rule,
    interleaved set by set so a partial run covers both; a GSM8K answer's gold is the
    number after ``####``."""
    chosen = []
    for name in sets:
        path = source / f"{name}.jsonl"
        if not path.is_file():
            raise ArmError(f"{path} not found: point --source at the shared data folder")
        lines = path.read_text(encoding="utf-8").splitlines()
        picked = [json.loads(line) for line in subset(lines, per_set, skip)]
        chosen.append(
            [{**item, "answer": gold_answer(str(item["answer"])), "set": name} for item in picked]
        )
    return [item for group in zip(*chosen, strict=False) for item in group]


def request_body(arm: Arm, question: str, max_tokens: int) -> tuple[str, dict[str, Any]]:
    """(which proxy, the chat request) for ``arm``."""
    messages = [{"role": "user", "content": question}]
    if arm.proxy == "optillm":
        body: dict[str, Any] = {"model": TIERS[arm.tier], "messages": messages}
        if arm.approach != "none":
            body["optillm_approach"] = arm.approach
        return "optillm", {**body, "max_tokens": max_tokens}
    parse_strategy(arm.approach)  # an unknown strategy is refused before any request
    model = "ladder-0.5b" if arm.tier == LADDER else f"solo-{arm.tier}"
    ponder = {"strategy": arm.approach}
    return "ponder", {
        "model": model,
        "messages": messages,
        "max_tokens": max_tokens,
        "ponder": ponder,
    }


def ask(
    servers: Servers, arm: Arm, item: dict[str, Any], max_tokens: int, params: dict[str, float]
) -> dict[str, Any]:
    """One question through one arm, measured on the upstream's metrics."""
    which, body = request_body(arm, item["question"], max_tokens)
    before = parse_metrics(servers.upstream_metrics())
    start = time.perf_counter()
    text, error = None, None
    try:
        reply = servers.client.post(f"{servers.url(which)}/chat/completions", json=body)
        if reply.status_code == 200:
            text = (reply.json().get("choices") or [{}])[0].get("message", {}).get("content")
        else:
            error = f"HTTP {reply.status_code}: {reply.text[:300]}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    wall = time.perf_counter() - start
    spend = spend_between(before, parse_metrics(servers.upstream_metrics()))
    reading = read_answer(text)
    return {
        "key": arm.key,
        "proxy": arm.proxy,
        "approach": arm.approach,
        "tier": arm.tier,
        "set": item["set"],
        "item": item["id"],
        "gold": str(item["answer"]),
        "answer": reading.answer,
        "how": reading.how,
        "defeat": None if error else reading.defeat,
        "note": reading.note,
        "correct": not error and is_right(reading.answer, str(item["answer"])),
        "text": text or "",
        "error": error,
        "prompt_tokens": spend.prompt_tokens,
        "completion_tokens": spend.completion_tokens,
        "flops": spend.flops(params),
        "requests": spend.requests,
        "wall_s": round(wall, 3),
    }


def rescored(row: dict[str, Any]) -> dict[str, Any]:
    """A stored reply read again by the current rule (its text is stored whole)."""
    if row.get("error"):
        return row
    reading = read_answer(row.get("text"))
    return {
        **row,
        "answer": reading.answer,
        "how": reading.how,
        "defeat": reading.defeat,
        "note": reading.note,
        "correct": is_right(reading.answer, row["gold"]),
    }


def read_rows(path: Path, retry_errors: bool) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if not (retry_errors and r.get("error"))]


def time_left(seen: list[tuple[str, float]], left: list[str]) -> float | None:
    """Seconds the arms still ``left`` (their keys) should take: each at the mean pace of
    its own ``seen`` (key, seconds) rows, stored ones included, since the arms' paces
    differ 40-fold; an arm never seen counts at the mean of all. None before any is seen."""
    if not seen:
        return None
    paces: dict[str, list[float]] = {}
    for key, seconds in seen:
        paces.setdefault(key, []).append(seconds)
    mean = sum(seconds for _, seconds in seen) / len(seen)
    pace = {key: sum(times) / len(times) for key, times in paces.items()}
    return float(sum(pace.get(key, mean) for key in left))


def run(args: argparse.Namespace, arms: list[Arm], items: list[dict[str, Any]]) -> None:
    path = args.out / "results.jsonl"
    rows = read_rows(path, args.retry_errors)
    if args.retry_errors:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    done = {(r["key"], r["item"]) for r in rows}
    todo = [(i, a) for i in items for a in arms if (a.key, i["id"]) not in done]
    print(f"{len(done)} results stored, {len(todo)} to run ({len(items)} items x {len(arms)} arms)")
    if not todo:
        return
    params = {TIERS[t]: float(models.REGISTRY[TIERS[t]].params) for t in TIERS}
    settings = ServerSettings.from_args(args)
    seen = [(r["key"], float(r["wall_s"])) for r in rows if not r.get("error")]
    with Servers(settings, args.out) as servers, path.open("a", encoding="utf-8") as out:
        for k, (item, arm) in enumerate(todo, 1):
            row = ask(servers, arm, item, args.max_tokens, params)
            out.write(json.dumps(row) + "\n")
            out.flush()
            mark = "ERROR" if row["error"] else ("ok" if row["correct"] else "wrong")
            if not row["error"]:
                seen.append((arm.key, float(row["wall_s"])))
            left = time_left(seen, [a.key for _, a in todo[k:]])
            eta = "time left unknown" if left is None else f"~{left / 60:.0f} min left"
            print(
                f"[{k}/{len(todo)}] {item['id']} {arm.label}: {mark} {row['answer']} "
                f"(gold {row['gold']}) {row['prompt_tokens'] + row['completion_tokens']} tok, "
                f"{row['requests']:g} req, {row['wall_s']:.1f}s; {eta}",
                flush=True,
            )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("runs/peers/main"))
    p.add_argument("--source", type=Path, default=Path("../shared/data"))
    p.add_argument("--sets", default=",".join(SETS), help="comma-separated data sets")
    p.add_argument("--per-set", type=int, default=40, help="items per data set")
    p.add_argument("--skip", type=int, default=96, help="items skipped (the ladder's)")
    p.add_argument("--tiers", default=",".join(TIERS), help="comma-separated: 0.5b,1.5b")
    p.add_argument("--ponder", action="append", help=f"strategy spec (default {DEFAULT_PONDER})")
    p.add_argument("--optillm", action="append", help=f"approach (default {DEFAULT_OPTILLM})")
    p.add_argument("--no-ladder", action="store_true", help="skip auto over 0.5b -> 1.5b")
    p.add_argument("--optillm-best-of-n", type=int, default=3, help="optillm --best-of-n")
    p.add_argument("--max-tokens", type=int, default=512, help="max_tokens of every request")
    p.add_argument("--threads", type=int, default=2, help="llama.cpp threads per model")
    p.add_argument("--slots", type=int, default=8, help="parallel sequences per model")
    p.add_argument("--ctx", type=int, default=4096, help="context per slot")
    p.add_argument(
        "--upstream", action="append", help="ID=SPEC served upstream (default: the tiers)"
    )
    p.add_argument("--optillm-bin", type=Path, default=Path(".venv-peers/bin/optillm"))
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per question")
    p.add_argument("--retry-errors", action="store_true", help="rerun stored errors")
    p.add_argument("--report-only", action="store_true", help="report stored results only")
    p.add_argument("--reps", type=int, default=1000, help="bootstrap repetitions")
    args = p.parse_args(argv)
    for name in ("per_set", "max_tokens", "threads", "slots", "ctx", "optillm_best_of_n"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.skip < 0:
        p.error("--skip must be zero or more")
    args.set_names = [s for s in args.sets.split(",") if s]
    if unknown := [s for s in args.set_names if s not in SETS]:
        p.error(f"unknown data set {unknown[0]!r}: use {', '.join(SETS)}")
    args.tier_names = [t for t in args.tiers.split(",") if t]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        arms = make_arms(
            args.ponder or DEFAULT_PONDER,
            args.optillm or DEFAULT_OPTILLM,
            args.tier_names,
            not args.no_ladder,
        )
        items = load_items(args.source, args.set_names, args.per_set, args.skip)
    except ArmError as exc:
        print(f"peers.py: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    # a SIGTERM (timeout, kill) unwinds like Ctrl-C, so the servers started here stop
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not args.report_only:
        run(args, arms, items)
    rows = read_rows(args.out / "results.jsonl", retry_errors=False)
    wanted = {i["id"] for i in items}
    rows = [rescored(r) for r in rows if r["item"] in wanted]
    report(rows, arms, args.out, args.reps, EXTRACTION_RULE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
