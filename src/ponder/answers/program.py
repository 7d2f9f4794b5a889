"""Program-of-thought answers: the model writes a short arithmetic program, ponder evaluates it.

A small coder model that slips on arithmetic in prose often writes the right program for
the same word problem ("PAL", Gao et al. 2022; "Program of Thoughts", Chen et al. 2022).
A ``program`` sample is asked for such a program (``PROGRAM_INSTRUCTION``) and its answer
is the program's result, not a number read from its text.

The program is never run by Python. ``run_program`` reads it with ``ast.parse`` and
walks the tree itself, in exact fractions, allowing only:

- assignments to plain names (``x = ...``, ``x += ...``, ``a, b = 3, 4``);
- numbers, names already assigned, ``+ - * / // % **`` and unary ``+``/``-``;
- the pure functions ``round abs min max int float sum`` on numbers;
- ``print(...)`` and bare expressions (a ``print`` of one value is the result);
- one ``def`` without parameters whose body follows these rules and ends in
  ``return``, called by the last statement (``print(solve())``, ``answer = solve()``).

Anything else (imports, attributes, loops, strings, calls to other names) makes the
program unreadable and the sample abstains. Work is bounded: the code's length, its
statement count, every number's size and every exponent are capped, so a request that
makes the model write ``9 ** 9 ** 9`` costs nothing.

The result is, in order: the value printed last, else the variable ``answer``, else the
last value assigned. A sample cut off at the length limit has no result.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Sequence
from fractions import Fraction

from ponder.answers.numbers import format_value

__all__ = ["PROGRAM_INSTRUCTION", "PROGRAM_STOP", "program_answer", "run_program"]

PROGRAM_INSTRUCTION = (
    "Write a short Python program that computes the answer. Use one variable per "
    "quantity and plain arithmetic only, and store the final number in a variable named "
    "answer. Reply with only the code in a ```python block."
)

PROGRAM_STOP = ("\n```\n",)
"""Where a program sample stops: at the end of its code block. Coder models explain the
program after it; those tokens would be paid for and never read."""

MAX_CHARS = 4000
MAX_STATEMENTS = 200
MAX_DIGITS = 60  # numerator or denominator of any value
MAX_EXPONENT = 64


class _Unreadable(Exception):
    """The program uses something outside the allowed subset, or exceeds a bound."""


def _code(text: str) -> str:
    """The program inside the reply: the last fenced block, else the whole text."""
    if "```" not in text:
        return text
    parts = text.split("```")
    code = parts[len(parts) - 2 if len(parts) % 2 else -1]  # inside the last fence
    first, _, rest = code.partition("\n")
    return rest if re.fullmatch(r"[\w+-]*", first.strip()) else code


def _checked(value: Fraction) -> Fraction:
    if max(len(str(abs(value.numerator))), len(str(value.denominator))) > MAX_DIGITS:
        raise _Unreadable("a value is too large")
    return value


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    if exponent.denominator != 1 or abs(exponent) > MAX_EXPONENT:
        raise _Unreadable("only small whole exponents are allowed")
    if base == 0 and exponent < 0:
        raise _Unreadable("division by zero")
    return _checked(base ** int(exponent))


def _divide(a: Fraction, b: Fraction) -> Fraction:
    if b == 0:
        raise _Unreadable("division by zero")
    return a / b


def _floor_divide(a: Fraction, b: Fraction) -> Fraction:
    return Fraction(_divide(a, b).__floor__())


def _modulo(a: Fraction, b: Fraction) -> Fraction:
    if b == 0:
        raise _Unreadable("division by zero")
    return a % b


_BINARY: dict[type[ast.operator], Callable[[Fraction, Fraction], Fraction]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: _divide,
    ast.FloorDiv: _floor_divide,
    ast.Mod: _modulo,
    ast.Pow: _power,
}


def _round(value: Fraction, places: Fraction | None = None) -> Fraction:
    if places is None:
        return Fraction(round(value))
    if places.denominator != 1 or not 0 <= places <= 12:
        raise _Unreadable("round() takes a small whole number of places")
    return Fraction(round(value, int(places)))


def _one_or_many(name: str, pick: Callable[[list[Fraction]], Fraction]) -> Callable[..., Fraction]:
    def call(*args: Fraction | list[Fraction]) -> Fraction:
        values = [v for a in args for v in (a if isinstance(a, list) else [a])]
        if not values:
            raise _Unreadable(f"{name}() of nothing")
        return pick(values)

    return call


_FUNCTIONS: dict[str, Callable[..., Fraction]] = {
    "round": _round,
    "abs": lambda v: abs(v),
    "int": lambda v: Fraction(int(v)),
    "float": lambda v: v,
    "min": _one_or_many("min", min),
    "max": _one_or_many("max", max),
    "sum": lambda values: sum(values, Fraction(0)) if isinstance(values, list) else values,
}


class _Machine:
    def __init__(self) -> None:
        self.names: dict[str, Fraction] = {}
        self.printed: Fraction | None = None
        self.last: Fraction | None = None
        self.function: ast.FunctionDef | None = None
        self.steps = 0

    def value(self, node: ast.expr) -> Fraction:
        return _checked(self._value(node))

    def _value(self, node: ast.expr) -> Fraction:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise _Unreadable("only numbers are allowed")
            if isinstance(node.value, float):
                return Fraction(str(node.value))  # 0.1 is one tenth, exactly
            return Fraction(node.value)
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                raise _Unreadable(f"{node.id} is used before it is assigned")
            return self.names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](self.value(node.left), self.value(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.value(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Call):
            return self._call(node)
        raise _Unreadable(f"{type(node).__name__} is not allowed")

    def _call(self, node: ast.Call) -> Fraction:
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise _Unreadable("only plain calls are allowed")
        name = node.func.id
        if self.function is not None and name == self.function.name and not node.args:
            return self._run_function(self.function)
        if name not in _FUNCTIONS or len(node.args) > 8:
            raise _Unreadable(f"{name}() is not allowed")
        args: list[Fraction | list[Fraction]] = []
        for arg in node.args:
            if isinstance(arg, (ast.List, ast.Tuple)):
                args.append([self.value(e) for e in arg.elts])
            else:
                args.append(self.value(arg))
        try:
            return _FUNCTIONS[name](*args)
        except TypeError:
            raise _Unreadable(f"{name}() called wrongly") from None

    def _run_function(self, function: ast.FunctionDef) -> Fraction:
        self.function = None  # no recursion
        *body, last = function.body
        self.run(body)
        if not isinstance(last, ast.Return) or last.value is None:
            raise _Unreadable("the function must end in return")
        return self.value(last.value)

    def _assign(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.names[target.id] = self.last = self.value(value)
            return
        if (
            isinstance(target, ast.Tuple)
            and isinstance(value, ast.Tuple)
            and len(target.elts) == len(value.elts)
            and all(isinstance(t, ast.Name) for t in target.elts)
        ):
            values = [self.value(v) for v in value.elts]
            for name, got in zip(target.elts, values, strict=True):
                assert isinstance(name, ast.Name)
                self.names[name.id] = self.last = got
            return
        raise _Unreadable("only names may be assigned")

    def run(self, statements: Sequence[ast.stmt]) -> None:
        for statement in statements:
            self.steps += 1
            if self.steps > MAX_STATEMENTS:
                raise _Unreadable("too many statements")
            self._statement(statement)

    def _statement(self, statement: ast.stmt) -> None:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                self._assign(target, statement.value)
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            self._assign(statement.target, statement.value)
        elif isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
            if type(statement.op) not in _BINARY:
                raise _Unreadable("this operator is not allowed")
            current = self.value(statement.target)
            got = _checked(_BINARY[type(statement.op)](current, self.value(statement.value)))
            self.names[statement.target.id] = self.last = got
        elif isinstance(statement, ast.Expr):
            self._expression(statement.value)
        elif isinstance(statement, ast.FunctionDef) and self.function is None:
            if statement.args.args or statement.args.vararg or statement.args.kwarg:
                raise _Unreadable("the function may take no parameters")
            self.function = statement
        elif isinstance(statement, ast.If) and _is_main_guard(statement):
            self.run(statement.body)
        elif not isinstance(statement, ast.Pass):
            raise _Unreadable(f"{type(statement).__name__} is not allowed")

    def _expression(self, node: ast.expr) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return  # a docstring
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "print":
                numbers = [a for a in node.args if not _is_text(a)]
                if len(numbers) == 1:
                    self.printed = self.value(numbers[0])
                return
            self.last = self.value(node)
            return
        self.value(node)


def _is_main_guard(statement: ast.If) -> bool:
    """``if __name__ == "__main__":`` with no else: its body runs."""
    test = statement.test
    return (
        not statement.orelse
        and isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Eq)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _is_text(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(
        node, ast.JoinedStr
    )


def run_program(text: str) -> str | None:
    """The result of the arithmetic program in ``text`` (a reply with a fenced block or
    bare code) as a canonical number, or None when it cannot be read under the rules
    above. Never executes Python."""
    code = _code(text)
    if len(code) > MAX_CHARS:
        return None
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    machine = _Machine()
    try:
        machine.run(tree.body)
    except (_Unreadable, ZeroDivisionError, OverflowError, ValueError, RecursionError):
        return None
    result = machine.printed
    if result is None:
        result = machine.names.get("answer", machine.last)
    return None if result is None else format_value(result)


NUMERIC_KINDS = frozenset({"number", "auto"})


def program_answer(text: str, kind: str = "number", truncated: bool = False) -> str | None:
    """A program sample's answer: the program's result. A cut-off sample has none, and
    neither has one for a question whose answer is not a number (a choice, an
    expression, text)."""
    return None if truncated or kind not in NUMERIC_KINDS else run_program(text)
