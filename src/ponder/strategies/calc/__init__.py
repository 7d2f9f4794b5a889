"""A programmatic process verifier for arithmetic: find every equation a text states and
recompute it exactly.

An equation is only what the text states as one: a computation and its result joined
by ``=`` (or by "is", "gives", "which is", ... when a computation stands on its left and
a number on its right). Prose around it never joins it: in "Adding 5 gives 12 + 5 = 17"
the equation is ``12 + 5 = 17``. Each side is evaluated with exact fractions (no
``eval``); a chain ``a = b = c`` is checked link by link, and the running-total shorthand
``5 + 3 = 8 - 2 = 6`` is accepted. A side that holds a symbol (``S + 30``, ``2x``,
``\\sqrt{2}``), a unit glued to a number, a scale word ("3 dozen") or words between its
numbers is algebra or prose: that link is left unchecked, never counted false. Where a
side can be read two ways (a number that prose mentions just before it, "In 2023 5 + 3";
a percentage as 20 or 0.2) the link holds if any reading holds, so only a fully numeric
equation that is definitely false counts against a text.

Reading is linear in the text's length: two passes from characters to tokens
(``tokens``, ``words``), a bounded parser (``parse``) and the equations (``links``), each
reading every token a bounded number of times; ``Steps`` counts the work.
"""

from ponder.strategies.calc.links import (
    Equation,
    check_text,
    equations,
    number_counts,
    numbers,
)
from ponder.strategies.calc.tokens import Steps

__all__ = ["Equation", "Steps", "check_text", "equations", "number_counts", "numbers"]
