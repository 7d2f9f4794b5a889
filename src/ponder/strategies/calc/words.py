"""The calc verifier's second pass: what each word is, next to the numbers around it.

* number words up to ninety (``twenty-five``) are numbers, mixed numbers ``3 1/2`` one
  number; a number glued to letters (``5kg``, ``2x``, ``1st``) or followed by a scale
  word ("3 dozen", "2 million") is an unknown quantity;
* between two numbers only, ``plus``, ``minus``, ``times``, ``x``, ``over``,
  ``divided by`` and ``multiplied by`` are operators; ``20% of``, ``1/2 of``,
  ``half of``, ``twice`` multiply;
* ``is``, ``gives``, ``which is``, ... are connectors, which ``ponder.strategies.calc.
  links`` reads as ``=`` only between a computation and a number;
* a single letter next to an operator, a relation or a bracket is a variable
  (``S + 30``); a word after a number may be its unit (``unit``); other words are prose.
"""

from __future__ import annotations

from fractions import Fraction

from ponder.expressions import NUMBER_WORDS
from ponder.strategies.calc.tokens import (
    CONN,
    EQ,
    LP,
    NUM,
    OP,
    REL,
    RP,
    VAR,
    WORD,
    Steps,
    Tok,
    lex,
)

NUMBER_VALUES = {w: i for i, w in enumerate(NUMBER_WORDS)} | {
    w: 10 * i
    for i, w in enumerate(("thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"), 3)
}
_TENS = frozenset(w for w, v in NUMBER_VALUES.items() if v >= 20)
_WORD_OPS = {"plus": "+", "minus": "-", "times": "*", "over": "/", "x": "*"}
_WORD_BY = {"divided": "/", "multiplied": "*"}
_MULTIPLES = {"twice": 2, "double": 2, "triple": 3}
_PARTS = {"half": Fraction(1, 2), "halves": Fraction(1, 2), "quarter": Fraction(1, 4)} | {
    word: Fraction(1, d)
    for d, stem in enumerate(("third", "fourth", "fifth", "sixth", "seventh", "eighth"), 3)
    for word in (stem, stem + "s")
}
_PARTS |= {"quarters": Fraction(1, 4), "tenth": Fraction(1, 10), "tenths": Fraction(1, 10)}
_SCALES = frozenset((
    "dozen", "dozens", "hundred", "hundreds", "thousand", "thousands", "million", "millions",
    "billion", "billions", "trillion", "trillions",
))  # fmt: skip
CONNECTORS = (
    ("is", "equal", "to"), ("gives", "us"), ("which", "is"), ("which", "gives"),
    ("that", "is"), ("that", "makes"), ("this", "gives"), ("results", "in"), ("comes", "to"),
    ("to", "get"), ("we", "get"), ("is",), ("equals",), ("gives",), ("makes",), ("yields",),
)  # fmt: skip
"""Phrases that may state an equation, the longest first."""
_CONNECTOR_HEADS = {phrase[0] for phrase in CONNECTORS}
_LETTER_UNITS = frozenset("mgshl")
_NOT_UNITS = frozenset((
    "and", "or", "of", "more", "less", "fewer", "than", "times", "per", "each", "so", "then",
    "but", "in", "at", "for", "to", "from", "by", "on", "with", "is", "are", "was", "were",
    "be", "been", "the", "an", "total", "left", "remaining", "over", "under", "plus",
    "minus", "equals", "gives", "makes", "which", "that", "this", "it", "its", "their", "his",
    "her", "there", "here", "as", "if", "when", "we", "you", "they", "he", "she", "also",
    "only", "now", "thus", "hence", "therefore", "extra", "additional", "another", "mod",
    "modulo",
))  # fmt: skip


def tokenize(text: str, steps: Steps | None = None) -> list[Tok]:
    """The tokens of ``text``: both passes, each linear in its length."""
    return read_words(lex(text, steps))


def unit(tok: Tok) -> str | None:
    """The unit a word after a number names (``apples``, ``km``, ``m``), singular; None
    when the word is not one."""
    if tok.kind != WORD or tok.glued:
        return None
    word = tok.text.lower()
    if (len(word) == 1 and tok.text not in _LETTER_UNITS) or word in _NOT_UNITS:
        return None
    return word[:-1] if len(word) > 2 and word.endswith("s") else word


def read_words(toks: list[Tok]) -> list[Tok]:
    """The second pass over ``lex``'s tokens (see the module's docstring)."""
    out: list[Tok] = []
    i, n = 0, len(toks)
    while i < n:
        tok = toks[i]
        i += 1
        if tok.kind == WORD:
            i = _word(toks, i, tok, out)
        elif tok.kind == NUM and tok.glued and out and out[-1].kind in (WORD, VAR):
            out[-1] = Tok(VAR, out[-1].text + tok.text, None, out[-1].glued)  # x1, A4
        elif tok.kind == NUM and _tight(toks, i - 1, "-") and out and out[-1].kind == WORD:
            out.append(Tok(VAR, f"{tok.text}-{toks[i + 1].text}", None, tok.glued))  # pages 1-2
            i += 2
        elif tok.kind == NUM and _tight(toks, i - 1, "/") and out and out[-1].text == "/":
            out += [Tok(LP, "("), tok, toks[i], toks[i + 1], Tok(RP, ")")]  # 25 / 1/3
            i += 2
        elif tok.kind == NUM and (size := _mixed(toks, i - 1)):
            top, bottom = toks[i - 1 + size - 3], toks[i - 1 + size - 1]
            value = Fraction(tok.text) + Fraction(top.text) / Fraction(bottom.text)
            text = f"{tok.text} {top.text}/{bottom.text}"
            out.append(Tok(NUM, text, value, tok.glued, False, tok.money))
            i += size - 1
        else:
            out.append(tok)
    return [_letter(out, j) for j in range(len(out))]


def _tight(toks: list[Tok], k: int, op: str) -> bool:
    """``1/3`` or ``1-2`` written without spaces after a space: a fraction that binds
    first ("25 / 1/3" is 75), or a range that is no subtraction ("Weeks 1-2")."""
    if k + 2 >= len(toks) or toks[k].glued:
        return False
    a, sign, b = toks[k : k + 3]
    if not (sign.kind == OP and sign.text == op and sign.glued and b.kind == NUM and b.glued):
        return False
    after = toks[k + 3] if k + 3 < len(toks) else None
    if after is not None and after.glued and after.kind in (NUM, OP, LP):
        return False
    small = a.value is not None and b.value is not None and a.value < b.value
    return op == "/" or small


def _mixed(toks: list[Tok], k: int) -> int:
    """``3 1/2`` or ``1 and 1/4``: a whole number, then a proper fraction written with
    ``/``; how many tokens it spans (0: none)."""
    joined = k + 1 < len(toks) and toks[k + 1].text.lower() == "and"
    size = 5 if joined else 4
    if k + size > len(toks):
        return 0
    whole, top, slash, bottom = toks[k], *toks[k + size - 3 : k + size]
    if not (top.kind == bottom.kind == NUM and slash.kind == OP and slash.text == "/"):
        return 0
    if top.glued or not (slash.glued and bottom.glued):
        return 0
    plain = all(t.text.isdigit() for t in (whole, top, bottom))
    return size if plain and 0 < int(top.text) < int(bottom.text) else 0


def _word(toks: list[Tok], i: int, tok: Tok, out: list[Tok]) -> int:
    """Append what the word ``tok`` (followed by ``toks[i:]``) is; the next index."""
    low = tok.text.lower()
    prev = out[-1] if out else None
    if prev is not None and prev.kind == NUM and tok.glued:  # 5kg, 2x, 1st; but 4x5
        if low == "x" and i < len(toks) and toks[i].kind in (NUM, LP):
            out.append(Tok(OP, "*", None, True))
        else:
            out[-1] = Tok(VAR, prev.text + tok.text, None, prev.glued)
        return i
    if low in NUMBER_VALUES:
        _number_word(toks, i, tok, out)
        return i
    if prev is not None and prev.kind == NUM and (low == "percent" or low in _SCALES):
        pct = low == "percent"  # "25 percent"; "3 dozen" is no plain number
        value = prev.value if pct else None
        out[-1] = Tok(NUM if pct else VAR, f"{prev.text} {tok.text}", value, prev.glued, pct)
        return i
    taken = _fraction_word(toks, i, tok, out) or _operator_word(toks, i, tok, out)
    if taken:
        return i + taken - 1
    if low in _CONNECTOR_HEADS:
        for phrase in CONNECTORS:
            words = toks[i - 1 : i - 1 + len(phrase)]
            if tuple(t.text.lower() for t in words if t.kind == WORD) == phrase:
                out.append(Tok(CONN, " ".join(phrase), None, tok.glued))
                return i - 1 + len(phrase)
    out.append(tok)
    return i


def _number_word(toks: list[Tok], i: int, tok: Tok, out: list[Tok]) -> None:
    value = NUMBER_VALUES[tok.text.lower()]
    hyphen = len(out) >= 2 and out[-1].text == "-" and toks[i - 2].glued and tok.glued
    tens = out[-2] if hyphen else None
    if tens is not None and tens.kind == NUM and tens.text.lower() in _TENS:
        out.pop()  # twenty-five
        value += NUMBER_VALUES[tens.text.lower()]
        out[-1] = Tok(NUM, f"{tens.text}-{tok.text}", Fraction(value), tens.glued)
        return
    out.append(Tok(NUM, tok.text, Fraction(value), tok.glued))


def _fraction_word(toks: list[Tok], i: int, tok: Tok, out: list[Tok]) -> int:
    """ "half of 40", "one-third", "two thirds of 30": a fraction (and ``of`` as a
    product); how many words it took (0: none; "the third day" is prose)."""
    part = _PARTS.get(tok.text.lower())
    if part is None:
        return 0
    count = None
    spelled = len(out) >= 2 and out[-2].kind == NUM and out[-2].text.isalpha()
    if spelled and out[-1].text == "-" and out[-1].glued and tok.glued:
        count = out[-2]  # one-third
        del out[-2:]
    elif out and out[-1].kind == NUM and out[-1].text.isalpha() and not tok.glued:
        count = out.pop()  # two thirds
    following = toks[i + 1] if i + 1 < len(toks) else None
    of = i < len(toks) and toks[i].text.lower() == "of"
    of = of and following is not None and following.kind in (NUM, LP)
    if count is None and not of:
        return 0
    value = part * (count.value or 1 if count is not None else 1)
    text = f"{count.text}-{tok.text}" if count is not None else tok.text
    first = count if count is not None else tok
    out.append(Tok(NUM, text, value, first.glued))
    if of:
        out.append(Tok(OP, "of", None, True))
    return 2 if of else 1


def _operator_word(toks: list[Tok], i: int, tok: Tok, out: list[Tok]) -> int:
    """Append the operator the word stands for here; how many words it took (0: none)."""
    low = tok.text.lower()
    prev = out[-1] if out else None
    nxt = toks[i] if i < len(toks) else None
    before = prev is not None and prev.kind in (NUM, RP)
    after = nxt is not None and nxt.kind in (NUM, LP)
    product = [Tok(OP, "of", None, True)]  # "*", but no right side goes on past it
    if before and after and low in _WORD_OPS:
        out.append(Tok(OP, _WORD_OPS[low], None, tok.glued))
        return 1
    if before and low in _WORD_BY and nxt is not None and nxt.text.lower() == "by":
        out.append(Tok(OP, _WORD_BY[low], None, tok.glued))
        return 2
    if low == "of" and prev is not None and prev.kind == NUM and after:
        fraction = len(out) >= 2 and out[-2].kind == OP and out[-2].text == "/"
        if prev.pct or fraction:  # 20% of 50, 1/2 of 40
            out += product
            return 1
    if low in _MULTIPLES and after:  # twice 20
        out += [Tok(NUM, tok.text, Fraction(_MULTIPLES[low]), tok.glued), Tok(OP, "*", None, True)]
        return 1
    return 0


def _letter(out: list[Tok], j: int) -> Tok:
    """A single letter (``x``, ``S``) next to an operator, a relation or a bracket is a
    variable; after a number, a unit (``250 m``); anywhere else a word (``a``, ``I``)."""
    tok = out[j]
    if tok.kind != WORD or len(tok.text) != 1:
        return tok
    if tok.text in _LETTER_UNITS and j and out[j - 1].kind == NUM and not tok.glued:
        return tok
    near = [out[k] for k in (j - 1, j + 1) if 0 <= k < len(out)]
    close = [t for t in near if t.kind in (OP, EQ, REL, LP, RP)]
    return Tok(VAR, tok.text, None, tok.glued) if close else tok
