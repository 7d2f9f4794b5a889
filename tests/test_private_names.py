"""No module of ponder reaches into another's private names (a leading underscore).

A name another module needs is public: ``from ponder.x import _y`` (or ``x._y`` on an
imported ponder module) ties two modules to a detail one of them may change at will.
Inside a module, and on objects (``self._cache``), underscores are as usual.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ponder

SRC = Path(ponder.__file__).parent


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _ponder(node: ast.ImportFrom) -> bool:
    return bool(node.level) or (node.module or "").split(".")[0] == "ponder"


def _modules() -> set[str]:
    names = set()
    for path in SRC.rglob("*.py"):
        parts = ["ponder", *path.relative_to(SRC).with_suffix("").parts]
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def reaches(tree: ast.AST, modules: set[str]) -> list[str]:
    """``module.name`` for each private name of another ponder module used in ``tree``."""
    found, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _ponder(node):
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{node.module}.{alias.name} (line {node.lineno})")
                if f"{node.module}.{alias.name}" in modules:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "ponder":
                    aliases[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in aliases:
                found.append(f"{aliases[owner.id]}.{node.attr} (line {node.lineno})")
    return found


def test_no_module_imports_another_modules_private_names():
    modules = _modules()
    crossing = {
        str(path.relative_to(SRC)): names
        for path in sorted(SRC.rglob("*.py"))
        if (names := reaches(ast.parse(path.read_text(encoding="utf-8")), modules))
    }
    assert not crossing, f"private names used across modules (make them public): {crossing}"


def test_the_scan_sees_both_ways_in():
    code = "from ponder.eval.runner import _solve\nimport ponder.eval.store as s\ns._repair(0)\n"
    assert reaches(ast.parse(code), {"ponder.eval.store"}) == [
        "ponder.eval.runner._solve (line 1)",
        "ponder.eval.store._repair (line 3)",
    ]
