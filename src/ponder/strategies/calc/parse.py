"""The calc verifier's arithmetic: a longest-prefix parser over tokens, in exact
fractions (never ``eval``), bounded in depth and in the size of the numbers it makes, so
each token is read a bounded number of times and each step costs a bounded amount."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ponder.strategies.calc.tokens import LP, NUM, OP, RP, Steps, Tok
from ponder.strategies.calc.words import unit

MAX_BITS = 1024  # a value past this size is left unchecked: exact arithmetic stays cheap
MAX_DEPTH = 40  # brackets and signs nested deeper are left unchecked


class Unknown(Exception):
    """The side cannot be read as arithmetic: leave the link unchecked."""


class Syntax(Exception):
    """Not an expression here (a longest-prefix parse stops before it)."""


@dataclass(frozen=True)
class Side:
    start: int
    end: int
    values: tuple[Fraction, ...]  # one per reading (a percentage: as N / 100, then as N)
    has_op: bool
    units: frozenset[str] = frozenset()  # unit words after its numbers ("250 m")


def parse(toks: list[Tok], lo: int, hi: int, steps: Steps, of: bool = True) -> Side | None:
    """The longest expression starting at ``lo`` (before ``hi``), under each reading of
    its percentages; None when it cannot be read as arithmetic. ``of=False`` stops it at
    an ``of`` ("= 1/3 of $150" states 1/3, and goes on)."""
    values: list[Fraction] = []
    for scale in (Fraction(1, 100), Fraction(1)):
        parser = Parser(toks, lo, hi, scale, steps, of)
        try:
            values.append(parser.expression())
        except (Unknown, ZeroDivisionError):
            return None
        except Syntax:
            return Side(lo, lo, (), False)
        if not any(t.pct for t in toks[lo : parser.pos]):
            break  # no percentage: one reading
    return Side(lo, parser.pos, tuple(values), parser.has_op, frozenset(parser.units))


class Parser:
    """Longest-prefix recursive descent over ``+ - * / ^``, brackets and implicit
    products (``2(3)``), in exact fractions. A sum that adds a bare percentage to a
    plain number ("50 + 20%") is ambiguous: ``Unknown``."""

    def __init__(
        self, toks: list[Tok], lo: int, hi: int, scale: Fraction, steps: Steps, of: bool = True
    ) -> None:
        self.toks, self.pos, self.hi, self.scale, self.steps = toks, lo, hi, scale, steps
        self.products = ("*", "/", "of") if of else ("*", "/")
        self.depth = 0
        self.has_op = False
        self.units: set[str] = set()

    def _peek(self) -> Tok | None:
        self.steps.count += 1
        return self.toks[self.pos] if self.pos < self.hi else None

    def expression(self) -> Fraction:
        value, pct = self.term()
        mixed = False
        while (tok := self._peek()) is not None and tok.kind == OP and tok.text in ("+", "-"):
            mark = self.pos
            self.pos += 1
            try:
                right, right_pct = self.term()
            except Syntax:
                self.pos = mark
                break
            mixed = mixed or pct != right_pct
            value = value + right if tok.text == "+" else value - right
            self.has_op = True
            _check(value)
        if mixed:
            raise Unknown("a percentage added to a plain number")
        return value

    def term(self) -> tuple[Fraction, bool]:
        value, pct = self.power()
        while (tok := self._peek()) is not None:
            implicit = tok.kind == LP and tok.glued and tok.text == "("
            if not (implicit or (tok.kind == OP and tok.text in self.products)):
                break
            mark = self.pos
            self.pos += 0 if implicit else 1
            try:
                right, _ = self.power()
            except Syntax:
                self.pos = mark
                break
            value = value / right if tok.text == "/" else value * right
            pct, self.has_op = False, True
            _check(value)
        return value, pct

    def power(self) -> tuple[Fraction, bool]:
        base, pct = self.unary()
        tok = self._peek()
        if tok is None or tok.text != "^":
            return base, pct
        mark = self.pos
        self.pos += 1
        try:
            exponent, _ = self.power()
        except Syntax:
            self.pos = mark
            return base, pct
        if exponent.denominator != 1 or abs(exponent) > 64 or _bits(base) > 64:
            raise Unknown("a power too large to check")
        self.has_op = True
        return base**exponent.numerator, False

    def unary(self) -> tuple[Fraction, bool]:
        tok = self._peek()
        if tok is None:
            raise Syntax("an operand was expected")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise Unknown("nested too deep")
        try:
            if tok.kind == OP and tok.text == "-":
                self.pos += 1
                value, pct = self.unary()
                return -value, pct
            if tok.kind == LP:
                self.pos += 1
                value = self.expression()
                close = self._peek()
                if close is None or close.kind != RP:
                    raise Syntax("an unclosed bracket")
                self.pos += 1
                return value, False
            if tok.kind == NUM and tok.value is not None:
                self.pos += 1
                self._unit()
                if tok.money:
                    self.units.add("$")
                return (tok.value * self.scale, True) if tok.pct else (tok.value, False)
            raise Syntax("an operand was expected")
        finally:
            self.depth -= 1

    def _unit(self) -> None:
        """Take a unit word after a number when the computation goes on after it."""
        named = unit(self.toks[self.pos]) if self.pos < self.hi else None
        if named is None:
            return
        after = self.toks[self.pos + 1] if self.pos + 1 < self.hi else None
        if (after is None and self.pos + 1 == self.hi) or (
            after is not None and after.kind in (OP, RP)
        ):
            self.units.add(named)
            self.pos += 1


def _bits(value: Fraction) -> int:
    return max(value.numerator.bit_length(), value.denominator.bit_length())


def _check(value: Fraction) -> None:
    if _bits(value) > MAX_BITS:
        raise Unknown("a value too large to check")
