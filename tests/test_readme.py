"""The README and docs/ cannot drift from the code: their commands are run or checked.

Every line of a ``bash`` block in README.md and docs/*.md is a command (a line ending in
a backslash goes on; a ``#`` comment is cut; ``&&`` chains are split). Each is:

* **run**, as a subprocess in a scratch copy of ``docs/`` and ``benchmarks/data/`` with an
  empty model cache and no package index, so it can download nothing: a README ``ponder``
  command that needs no model, i.e. no value of its options, defaults included, names an
  ``embedded:`` or ``openai:`` model, a ``.gguf`` file or the ``ladder`` (``ponder ask``
  without ``-m scripted:...`` names the default embedded model, so it is only checked),
  and it is not in ``LONG`` below. In docs/ only the planner's commands run
  (``ponder plan ...``: they read nothing but the catalogue); the other pages' commands
  use the runs their earlier commands make with real models. A README ``python`` block
  that names no model runs the same way;
* **checked**, every other ``ponder`` command: its subcommands exist and its options and
  arguments parse (click, in process; paths need not exist: earlier commands make them).
  ``python benchmarks/X.py`` lines: the script exists and names every option used;
* left alone: ``pip``, ``pytest``, ``curl``. A docs ``python`` block is compiled.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest

import ponder
from ponder.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
TIMEOUT_S = 120

LONG = {
    ("serve",): "runs until stopped",
    ("models", "pull"): "downloads a model",
    ("models", "path"): "downloads a model when it is missing",
    ("distill", "train"): "loads the base model's weights and trains",
    ("distill", "export"): "loads the weights it merges",
    ("eval", "extend"): "continues samples with the model that drew them",
    ("router", "train"): "takes a minute on stored runs",
}
Scratch = tuple[Path, dict[str, str]]  # a working directory and an environment
NEEDS_MODEL = re.compile(r"embedded:|openai:|\.gguf\b|tiers=ladder|^ladder$")


@dataclass(frozen=True)
class Block:
    source: str  # file name and line, for the test id and messages
    lang: str
    text: str


def blocks(path: Path) -> Iterator[Block]:
    lines = path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        opening = re.match(r"^```(\w*)\s*$", lines[i])
        if not opening:
            i += 1
            continue
        start = i + 1
        i = start
        while i < len(lines) and not lines[i].startswith("```"):
            i += 1
        yield Block(f"{path.name}:{start}", opening.group(1), "\n".join(lines[start:i]))
        i += 1


def cut_comment(line: str) -> str:
    """``line`` without a shell comment: a ``#`` at the start of a word, outside quotes
    (``openai:http://host/v1#model`` keeps its ``#``)."""
    quote = ""
    for k, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (k == 0 or line[k - 1].isspace()):
            return line[:k]
    return line


def commands(block: Block) -> Iterator[list[str]]:
    """The commands of a shell block, as argument lists."""
    joined = re.sub(r"\\\n", " ", block.text)
    for line in joined.split("\n"):
        words = shlex.split(cut_comment(line))
        command: list[str] = []
        for word in [*words, "&&"]:
            if word in ("&&", "||", ";", "|"):
                if command:
                    yield command
                command = []
            else:
                command.append(word)


def shell_blocks(path: Path) -> list[Block]:
    return [b for b in blocks(path) if b.lang in ("bash", "sh", "shell", "console")]


def parse(args: list[str]) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Parse a ``ponder`` command line as the CLI would, calling nothing: its subcommand
    path and its parameters' values (defaults included). Raises on an unknown command
    or option, a missing required one or a value of the wrong type."""
    ctx = click.Context(cli)
    command: click.Command = cli
    path: list[str] = []
    rest = list(args)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(ctx, rest[0])
        if sub is None:
            raise click.UsageError(f"no command {' '.join([*path, rest[0]])!r}")
        command, path, rest = sub, [*path, rest[0]], rest[1:]
    sub_ctx = command.make_context(" ".join(["ponder", *path]), rest)
    return tuple(path), sub_ctx.params


def values(params: dict[str, Any]) -> Iterator[str]:
    for value in params.values():
        if isinstance(value, (list, tuple)):
            yield from (str(v) for v in value)
        elif value is not None:
            yield str(value)


def needs_model(params: dict[str, Any]) -> bool:
    return any(NEEDS_MODEL.search(part) for v in values(params) for part in re.split("[,+|]", v))


@pytest.fixture
def no_path_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths in examples are made by earlier commands: parse them without looking."""
    monkeypatch.setattr(click.Path, "convert", lambda self, value, param, ctx: value)


def check(args: list[str], where: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    try:
        return parse(args[1:])
    except click.ClickException as exc:
        if "is not installed" in exc.format_message():
            pytest.skip(f"{where}: {exc.format_message()}")
        raise AssertionError(f"{where}: `{shlex.join(args)}`: {exc.format_message()}") from exc


def check_script(args: list[str], where: str) -> None:
    script = ROOT / args[1]
    assert script.is_file(), f"{where}: `{shlex.join(args)}`: no {args[1]}"
    source = script.read_text(encoding="utf-8")
    for word in args[2:]:
        option = word.split("=", 1)[0]
        if re.fullmatch(r"--?[a-z][\w-]*", option):
            assert f'"{option}"' in source, f"{where}: {args[1]} has no option {option}"


@pytest.fixture
def scratch(tmp_path: Path) -> Scratch:
    """A working directory holding copies of docs/ and benchmarks/data/, and an
    environment in which no model can be fetched."""
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copytree(ROOT / "benchmarks" / "data", tmp_path / "benchmarks" / "data")
    env = dict(os.environ)
    env.update(
        PONDER_CACHE_DIR=str(tmp_path / "cache"),
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(tmp_path / "no-wheels"),
        HF_HUB_OFFLINE="1",
        MPLBACKEND="Agg",
        OMP_NUM_THREADS="1",
        NO_COLOR="1",
        COLUMNS="100",
    )
    return tmp_path, env


def run(argv: list[str], scratch: Scratch, where: str) -> None:
    cwd, env = scratch
    try:
        done = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{where}: `{shlex.join(argv[2:])}` ran over {TIMEOUT_S} s")
    assert done.returncode == 0, (
        f"{where}: `{shlex.join(argv[2:])}` exited {done.returncode}\n"
        f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    )


def handle(args: list[str], block: Block, scratch: Scratch, runs: bool) -> str:
    """Run or check one command; say which."""
    if args[0] == "python" and len(args) > 1 and args[1].startswith("benchmarks/"):
        check_script(args, block.source)
        return "checked"
    if args[0] != "ponder":
        return "left alone"
    path, params = check(args, block.source)
    if not runs or path in LONG or needs_model(params):
        return "checked"
    run([sys.executable, "-m", "ponder.cli.main", *args[1:]], scratch, block.source)
    return "run"


README_SHELL = shell_blocks(README)
README_PYTHON = [b for b in blocks(README) if b.lang == "python"]


@pytest.mark.usefixtures("no_path_checks")
@pytest.mark.parametrize("block", README_SHELL, ids=lambda b: b.source)
def test_readme_commands(block: Block, scratch: Scratch) -> None:
    for args in commands(block):
        handle(args, block, scratch, runs=True)


@pytest.mark.slow
@pytest.mark.parametrize("block", README_PYTHON, ids=lambda b: b.source)
def test_readme_python(block: Block, scratch: Scratch) -> None:
    compile(block.text, block.source, "exec")
    if not NEEDS_MODEL.search(block.text):
        run([sys.executable, "-c", block.text], scratch, block.source)


@pytest.mark.usefixtures("no_path_checks")
@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_docs_commands(page: Path, scratch: Scratch) -> None:
    for block in blocks(page):
        if block.lang == "python":
            compile(block.text, block.source, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            continue
        if block.lang not in ("bash", "sh", "shell", "console"):
            continue
        for args in commands(block):
            handle(args, block, scratch, runs=args[:2] == ["ponder", "plan"])


@pytest.mark.usefixtures("no_path_checks")
def test_the_rule() -> None:
    """What runs: no model named, defaults included; the long commands never."""
    block = Block("rule", "bash", "")
    assert needs_model(parse(["ask", "What is 2 + 2?"])[1])
    assert not needs_model(parse(["ask", "What?", "-m", "scripted:a.json"])[1])
    spec = "auto:tiers=scripted:a.json+embedded:qwen2.5-coder-0.5b"
    assert needs_model(parse(["ask", "What?", "-m", "scripted:a.json", "-s", spec])[1])
    assert needs_model(
        parse(["ask", "What?", "-m", "scripted:a.json", "-s", "auto:tiers=ladder"])[1]
    )
    assert needs_model(
        parse(["distill", "generate", "--suite", "arith", "--out", "o", "--to", "r"])[1]
    )
    assert handle(["ponder", "serve", "--model", "scripted:a.json"], block, (ROOT, {}), True) == (
        "checked"
    )
    with pytest.raises(AssertionError, match="No such option"):
        check(["ponder", "plan", "kv", "llama-2-70b", "--contex", "8k"], "rule")


def test_readme_shape() -> None:
    """A guide, not a notebook: at most 300 lines, a benchmark row for every script in
    benchmarks/, and every relative link of the README and docs/ pointing at a file."""
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    rows = set(re.findall(r"^\| `([\w.]+\.py)` \|", text, flags=re.M))
    scripts = {p.name for p in (ROOT / "benchmarks").glob("*.py")}
    assert scripts <= rows, f"no Benchmarks row for {sorted(scripts - rows)}"
    for page in [README, *DOCS]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text("utf-8")):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_readme_claims() -> None:
    """What the README says its offline examples show: the small stand-in's vote is
    wrong, ``calc`` picks the right answer, and ``auto`` escalates to the large one."""
    small = f"scripted:{ROOT / 'docs/examples/small.json'}"
    large = f"scripted:{ROOT / 'docs/examples/large.json'}"
    apples = "Tom has 3 apples and buys 4 more. How many apples does he have?"
    assert ponder.ask("What is 12 + 7?", small, "sc:n=8").answer == "19"
    assert ponder.ask(apples, small, "sc:n=8").answer == "12"
    assert ponder.ask(apples, small, "bon:n=8,scorer=calc").answer == "7"
    auto = f"auto:tiers={small}+{large},plan=g+2@0 > 4@1"
    result = ponder.ask(apples, small, auto)
    assert (result.answer, result.model) == ("7", "large")
    assert [step.get("answer") for step in result.trace if step.get("step") == "stage"] == [
        "12",
        "7",
    ]
