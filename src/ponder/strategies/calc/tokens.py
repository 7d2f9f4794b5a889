"""The calc verifier's first pass over a text: characters to tokens, in linear time.

A text is cut into runs by one regular expression whose alternatives are each a single
character or one greedy run of a character class (digits with inner ``,``/``.``, letters,
spaces, a backslash command): nothing can follow a run that makes it give characters
back, so the engine never backtracks and every character is read a bounded number of
times whatever the input. The runs become tokens with constant lookbehind:

* numbers: ``1,200.50`` (thousands commas), ``12.5``, ``25%``; a time ``3:30``, a version
  ``1.2.3`` or a number over ``MAX_DIGITS`` digits is an unknown quantity;
* operators ``+ - * / ^`` from symbols (``×``, ``\\times``, ``\\cdot``, ``÷``, ``−``, ``²``);
* LaTeX: ``\\frac{a}{b}`` is ``((a)/(b))``, ``\\boxed``/``\\text`` are transparent,
  ``\\( \\) \\[ \\]`` are boundaries, an unknown command (``\\sqrt``) an unknown quantity;
* relations: ``=`` (checked) and ``≈ < > == => ->`` and the like (never checked);
* list markers (``- ``, ``1)``, ``(a)`` opening a line), bold ``**`` and punctuation are
  boundaries; currency signs are dropped.

Words are read in a second pass (``ponder.strategies.calc.words``).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import NamedTuple

NUM, OP, LP, RP, EQ, REL, CONN, VAR, WORD, STOP = "n", "o", "(", ")", "=", "~", "c", "v", "w", "."
MATH = frozenset((NUM, OP, LP, RP))
MAX_DIGITS = 30  # a longer number is an unknown quantity: exact arithmetic stays cheap

_RUN = re.compile(r"(\d+(?:[.,]\d+)*)|([^\W\d_]+)|([^\S\n]+)|(\\(?:[A-Za-z]+|.))|(.)", re.S)
_SYMBOLS = {
    "+": (OP, "+"), "-": (OP, "-"), "−": (OP, "-"), "–": (OP, "-"), "*": (OP, "*"),
    "×": (OP, "*"), "·": (OP, "*"), "⋅": (OP, "*"), "∗": (OP, "*"), "✕": (OP, "*"),
    "/": (OP, "/"), "÷": (OP, "/"), "∕": (OP, "/"), "^": (OP, "^"),
    "(": (LP, "("), "[": (LP, "("), ")": (RP, ")"), "]": (RP, ")"), "=": (EQ, "="),
    "≈": (REL, "≈"), "≠": (REL, "≠"), "<": (REL, "<"), ">": (REL, ">"), "≤": (REL, "≤"),
    "≥": (REL, "≥"), "→": (REL, "→"), "⇒": (REL, "⇒"), "∴": (REL, "∴"),
    "√": (VAR, "√"), "π": (VAR, "π"), "∑": (VAR, "∑"), "_": (VAR, "_"), "!": (STOP, "!"),
}  # fmt: skip
_CURRENCY = frozenset("$€£¥₩")
_LATEX = {
    "times": (OP, "*"), "cdot": (OP, "*"), "ast": (OP, "*"), "div": (OP, "/"),
    "approx": (REL, "≈"), "neq": (REL, "≠"), "ne": (REL, "≠"), "le": (REL, "≤"),
    "leq": (REL, "≤"), "ge": (REL, "≥"), "geq": (REL, "≥"), "lt": (REL, "<"),
    "gt": (REL, ">"), "to": (REL, "→"), "rightarrow": (REL, "→"), "Rightarrow": (REL, "⇒"),
    "implies": (REL, "⇒"), "pm": (REL, "±"), "equiv": (REL, "≡"), "sim": (REL, "~"),
}  # fmt: skip
_TRANSPARENT = frozenset((
    "boxed", "text", "mathrm", "textbf", "mathbf", "textit", "mathit", "displaystyle",
    "left", "right", "quad", "qquad", "mbox", "operatorname",
))  # fmt: skip
_FRACS = frozenset(("frac", "dfrac", "tfrac"))
_SPACES = frozenset(",;:! ")  # \, \; \: \! and "\ " are spaces
_SUPERSCRIPTS = {"²": 2, "³": 3}


class Tok(NamedTuple):
    """A token: its kind (``NUM``, ``OP``, ...), its text, its value (numbers), whether
    no space comes before it, whether a number is a percentage, and whether a currency
    sign comes before it (``$15``)."""

    kind: str
    text: str
    value: Fraction | None = None
    glued: bool = False
    pct: bool = False
    money: bool = False


class Steps:
    """A work counter: runs read and tokens walked or parsed (tests check that it grows
    linearly with the text, without reading a clock)."""

    def __init__(self) -> None:
        self.count = 0


def digit_values(run: str) -> list[str]:
    """A run of digits with inner ``,``/``.``: one number (``1,200.50``, ``12.5``), several
    (``3,4,5``) or, as ``""``, none readable (``1.2.3``, a number over ``MAX_DIGITS``)."""
    if "," in run:
        head, dot, tail = run.partition(".")
        groups = head.split(",")
        thousands = len(groups) > 1 and 1 <= len(groups[0]) <= 3
        if thousands and all(len(g) == 3 for g in groups[1:]) and (not dot or tail.isdigit()):
            whole = "".join(groups)
            return [f"{whole}.{tail}" if dot else whole] if len(whole) <= MAX_DIGITS else [""]
        if dot or any(len(g) > 3 for g in groups):
            return [""]  # "16,0000", "1.5,3": a typo or a format not read here
        return [g if g == "0" or not g.startswith("0") else "" for g in groups]  # 3,4,5
    if run.count(".") > 1 or len(run) > MAX_DIGITS + 1:
        return [""]
    if len(run) > 1 and run[0] == "0" and run[1] != ".":
        return [""]  # 0900, 007: a time or a code
    return [run]


def lex(text: str, steps: Steps | None = None) -> list[Tok]:
    """The first pass over ``text``: numbers, symbols and relations as tokens, each word
    as a ``WORD`` token."""
    lexer = _Lexer(text)
    for match in _RUN.finditer(text):
        lexer.run(match.lastindex or 5, match.group(), match.end())
    if steps is not None:
        steps.count += lexer.runs
    return lexer.out


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[Tok] = []
        self.glued = False
        self.line_start = 0  # where the line's tokens begin in ``out``
        self.braces: list[str] = []
        self.expect = ""  # what the next "{" opens: "num"/"den" of a \frac, "skip", a group
        self.runs = 0
        self.values: dict[str, Fraction] = {}  # each number's value, made once
        self.money = False  # a currency sign waits for its number

    def emit(self, kind: str, text: str, value: Fraction | None = None, pct: bool = False) -> None:
        money = self.money and kind in (NUM, STOP)  # a STOP keeps it for "$.75"
        self.out.append(Tok(kind, text, value, self.glued, pct, money))
        self.glued, self.expect, self.money = True, "", False

    def run(self, group: int, text: str, end: int) -> None:
        self.runs += 1
        if group == 3:
            self.glued = False
        elif group == 1:
            self.digits(text)
        elif group == 2:
            self.emit(WORD, text)
        elif group == 4:
            self.latex(text[1:])
        else:
            self.char(text, end)

    def digits(self, run: str) -> None:
        last = self.out[-1] if self.out else None
        if last is not None and last.text == "." and self.glued and "," not in run:
            before = self.out[-2] if len(self.out) > 1 else None
            if not last.glued or before is None or before.kind not in (NUM, VAR, WORD):
                self.out.pop()  # .5, $.75, 20*.01
                self.glued, self.money = last.glued, last.money
                run = "0." + run
        for i, number in enumerate(digit_values(run)):
            if i:
                self.emit(STOP, ",")
            if number:
                value = self.values.get(number)
                if value is None:
                    value = self.values[number] = Fraction(number)
                self.emit(NUM, number, value)
            else:
                self.emit(VAR, run)
        prev = self.out[-3:] if len(self.out) >= 3 else []
        time = [t.kind for t in prev] == [NUM, STOP, NUM] and prev[1].text == ":"
        if time and prev[1].glued and prev[2].glued:  # 3:30
            del self.out[-3:]
            self.emit(VAR, f"{prev[0].text}:{prev[2].text}")

    def latex(self, name: str) -> None:
        if name in _LATEX:
            self.emit(*_LATEX[name])
        elif name in _FRACS:
            self.emit(LP, "(")
            self.expect = "num"
        elif name in _TRANSPARENT:
            self.expect = "skip"
        elif name == "%":
            self.percent()
        elif name in ("(", ")", "[", "]", "\\"):
            self.emit(STOP, "\\" + name)
        elif name in _SPACES:
            self.glued = False
        elif name == "$":
            self.money = True
        elif name not in ("{", "}"):
            self.emit(VAR, "\\" + name)

    def char(self, c: str, end: int) -> None:
        if c == "\n":
            self.emit(STOP, "\n")
            self.glued, self.line_start = False, len(self.out)
        elif c in _CURRENCY:
            self.money = True
        elif c == "&":
            return  # LaTeX alignment
        elif c == "{":
            role = self.expect or "group"
            self.braces.append(role)
            if role != "skip":
                self.emit(LP, "(")
        elif c == "}":
            self.close(self.braces.pop() if self.braces else "skip")
        elif c == "%":
            self.percent()
        elif c in _SUPERSCRIPTS:
            self.emit(OP, "^")
            self.emit(NUM, str(_SUPERSCRIPTS[c]), Fraction(_SUPERSCRIPTS[c]))
        elif c in "-*+•" and self.line_start == len(self.out) and self.text[end : end + 1] in " \t":
            self.emit(STOP, c)  # a list's bullet
        elif c == "*" and self.out and self.out[-1].text == "*" and self.glued:
            self.out[-1] = Tok(STOP, "**", None, self.out[-1].glued)  # bold
        elif c in _SYMBOLS:
            self.symbol(*_SYMBOLS[c])
        else:
            self.emit(STOP, c)

    def symbol(self, kind: str, text: str) -> None:
        last = self.out[-1] if self.out else None
        if kind == EQ and last is not None and self.glued and last.text in ("=", "<", ">", "!"):
            self.out[-1] = Tok(REL, last.text + "=", None, last.glued)  # ==, <=, >=, !=
            return
        if text == ">" and last is not None and self.glued and last.text in ("=", "-"):
            self.out[-1] = Tok(REL, last.text + ">", None, last.glued)  # =>, ->
            return
        if kind == RP and 1 <= len(self.out) - self.line_start <= 2 and self.marker():
            return
        self.emit(kind, text)

    def marker(self) -> bool:
        """``1)``, ``a)`` or ``(a)`` opening a line: a list marker, not arithmetic."""
        line = self.out[self.line_start :]
        body = line[1:] if line[0].kind == LP else line
        if len(body) != 1 or not (body[0].kind == NUM or len(body[0].text) == 1):
            return False
        del self.out[self.line_start :]
        self.emit(STOP, "marker")
        return True

    def close(self, role: str) -> None:
        if role == "num":
            self.emit(RP, ")")
            self.emit(OP, "/")
            self.expect = "den"
        elif role == "den":
            self.emit(RP, ")")
            self.emit(RP, ")")
        elif role == "group":
            self.emit(RP, ")")

    def percent(self) -> None:
        last = self.out[-1] if self.out else None
        if last is not None and last.kind == NUM and not last.pct:
            self.out[-1] = Tok(NUM, last.text + "%", last.value, last.glued, True)
            self.glued = True
        else:
            self.emit(STOP, "%")
