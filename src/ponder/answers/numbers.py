"""Numbers in model outputs: the patterns that find them, exact parsing (fractions, LaTeX,
currency, thousands separators) and the canonical form. Also the answer kinds."""

from __future__ import annotations

import math
import re
from fractions import Fraction

from ponder.errors import ConfigError

KINDS = ("auto", "number", "choice", "text", "expr")


def require_str(value: object, name: str) -> str:
    """``value`` when it is a str; ConfigError naming ``name`` otherwise."""
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a str, got {type(value).__name__}")
    return value


def require_kind(kind: object) -> str:
    """``kind`` when it is one of ``KINDS``; ConfigError otherwise."""
    if kind not in KINDS:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    return str(kind)


REL_TOL = Fraction(1, 10**6)  # numbers this close (relatively) are the same answer

_DECIMALS = 6

_NUM = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?![0-9])|\.[0-9]+(?![0-9])"

_SIGN = "[-−－+]"

_CUR = "[$€£₩¥]"

_SCAN_RE = re.compile(
    rf"(?<![\w.])(?P<sign>{_SIGN})?(?:{_CUR}\s?)?(?P<sign2>{_SIGN})?(?P<num>{_NUM})"
    rf"(?:\s?/\s?(?P<den>{_NUM}))?"
)

_UNIT = r"(?:[^\W\d_]|°)(?:[^\W\d_]|[./'’°-]|\s(?=[^\s\d]))*"  # "dollars", "km/h", "m²"

_FULL_RE = re.compile(  # every whitespace run has one owner: no catastrophic backtracking
    rf"(?P<sign>{_SIGN})?\s?(?:{_CUR}\s*)?(?P<sign2>{_SIGN})?(?P<num>{_NUM})"
    rf"(?:\s*/\s*(?P<den>{_NUM}))?(?:\s*%)?(?:\s*{_UNIT})?[$.!]?"
)

_LATEX_SUBS = (
    (re.compile(r"\{,\}"), ","),
    (re.compile(r"\\[dt]?frac\s*\{\s*([-−]?[0-9.,]+)\s*\}\s*\{\s*([0-9.,]+)\s*\}"), r"\1/\2"),
    (re.compile(r"\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}"), r" \1"),
    (re.compile(r"\\[,!;]"), ""),
    (re.compile(r"\\([%$])"), r"\1"),
    (re.compile(r"\\(?:left|right)\b"), ""),
)


def clean_latex(text: str) -> str:
    """LaTeX number markup (``\\frac``, ``\\$``, ``\\%``...) rewritten as plain text."""
    for pattern, replacement in _LATEX_SUBS:
        text = pattern.sub(replacement, text)
    return text


def _match_value(m: re.Match[str]) -> Fraction | None:
    value = Fraction(m["num"].replace(",", ""))
    if m["den"] is not None:
        den = Fraction(m["den"].replace(",", ""))
        if den == 0:
            return None
        value /= den
    minus = sum(1 for sign in (m["sign"], m["sign2"]) if sign and sign != "+")
    return -value if minus % 2 else value


def parse_value(text: str) -> Fraction | None:
    """``parse_number`` as an exact Fraction."""
    m = _FULL_RE.fullmatch(clean_latex(text).strip())
    return _match_value(m) if m else None


def format_value(value: Fraction) -> str:
    """Canonical decimal: integers exact, others to 6 decimals (6 significant digits below 1)."""
    if value.denominator == 1:
        return str(value.numerator)
    places = _DECIMALS
    if abs(value) < 1:
        magnitude = math.log10(abs(value.numerator)) - math.log10(value.denominator)
        places = max(places, _DECIMALS - 1 - math.floor(magnitude))
    scaled = round(value * 10**places)
    if scaled == 0:
        return "0"
    digits = str(abs(scaled)).rjust(places + 1, "0")
    text = f"{digits[:-places]}.{digits[-places:]}".rstrip("0").rstrip(".")
    return f"-{text}" if scaled < 0 else text


def parse_number(text: str) -> float | None:
    """One number, with optional sign, currency, thousands separators, %, unit or fraction.

    ``"-$1,234.50"`` -> -1234.5, ``"3/4"`` and ``"\\frac{3}{4}"`` -> 0.75, ``"18 dollars"`` -> 18.0,
    ``"50%"`` -> 50.0 (percent is kept as a unit, as GSM8K gold answers write it).  Anything
    else, a list such as ``"1, 2, 3"`` included, gives None.
    """
    value = parse_value(require_str(text, "text"))
    return float(value) if value is not None else None


def numbers_in(text: str) -> list[Fraction]:
    """Every number in ``text``, in order."""
    found = (_match_value(m) for m in _SCAN_RE.finditer(text))
    return [value for value in found if value is not None]


# a choice letter alone ("(B)", "b."), and one that leads an answer ("B) 12", "**C**")
LONE_CHOICE_RE = re.compile(r"\s*[(\[]?([A-Za-z])[)\].:]?\s*")
LEAD_LETTER_RE = re.compile(r"[\s(\[*$:]*([A-Za-z])(?:\s*[)\].:*]|\s*$)")
