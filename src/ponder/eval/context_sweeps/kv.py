"""Liu et al. (2023)'s two position tasks: key-value retrieval and multi-document QA.

* ``kv``: a JSON object of ``items`` random UUID pairs; the model is asked for the
  value of the key at ``position`` (1: first pair, ``items``: last).
* ``docs``: ``items`` generated documents, each about a fictional town and who holds
  one office there; one holds the answer, the rest are distractors of the same
  shape about other towns and offices, none of them answering the question (Liu's
  distractors are retrieved passages without the answer). The answer document's
  retrieval ``rank`` is the grid variable; ``order`` places the ranked documents
  in the prompt (``natural``: rank order, or a ``reorder`` strategy), so its
  ``position`` follows. ``closed-book`` asks without
  documents and ``oracle`` with the answer document alone, Liu's two reference points.

Everything is generated from a seed: no downloads, the same prompts on every run.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass

from ponder.context.reorder import ORDERS, reorder
from ponder.context.tokens import Tokenizer, count
from ponder.errors import ConfigError
from ponder.eval.context_sweeps.cases import Case, rng_for

KV_INSTRUCTION = "Extract the value corresponding to the specified key in the JSON object below."
DOCS_INSTRUCTION = (
    "Write a high-quality answer for the given question using only the provided search "
    "results (some of which might be irrelevant). Answer with the name only."
)
CLOSED_INSTRUCTION = "Answer the question. Answer with the name only."
_SYLLABLES = (
    "bar",
    "den",
    "fol",
    "gar",
    "hal",
    "kel",
    "lin",
    "mor",
    "nes",
    "pol",
    "quin",
    "ros",
    "sel",
    "tam",
    "ur",
    "vin",
    "wes",
    "yor",
    "zan",
    "bri",
    "cal",
    "dun",
)
_FIRST = (
    "Oswin",
    "Marta",
    "Ilse",
    "Tobias",
    "Greta",
    "Anselm",
    "Helka",
    "Piers",
    "Rosalind",
    "Emeric",
    "Vesna",
    "Lucan",
    "Odile",
    "Benno",
    "Sabine",
    "Caspar",
    "Linnea",
    "Teodor",
)
_LAST = (
    "Tarly",
    "Brennick",
    "Holloway",
    "Vance",
    "Okafor",
    "Lindqvist",
    "Moravec",
    "Quill",
    "Ashdown",
    "Ferrante",
    "Galloway",
    "Kestrel",
    "Marlowe",
    "Nyberg",
    "Pryce",
    "Szabo",
)
_OFFICES = (
    "harbour master",
    "mayor",
    "head librarian",
    "chief brewer",
    "bell ringer",
    "town doctor",
    "school teacher",
    "blacksmith",
    "postmaster",
    "judge",
    "miller",
    "lighthouse keeper",
)
_BODY = (
    "{town} lies in a green valley and is known for its wool market.",
    "Travellers reach {town} by a narrow road that follows the river.",
    "Most families in {town} keep bees, and the honey is sold each autumn.",
    "The old stone church of {town} was rebuilt after a fire long ago.",
    "In winter the lake near {town} freezes and children skate on it.",
    "{town} holds a fair every summer with music and dancing.",
)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def kv_case(
    pairs: int, position: int, seed: int = 0, sample: int = 0, tokenizer: Tokenizer | None = None
) -> Case:
    """A JSON object of ``pairs`` UUID pairs; ask for the value at ``position``."""
    if not 1 <= position <= pairs:
        raise ConfigError(f"position {position} is outside 1..{pairs}")
    rng = rng_for("kv", seed, pairs, sample)
    data = {_uuid(rng): _uuid(rng) for _ in range(pairs)}
    key = list(data)[position - 1]
    prompt = (
        f"{KV_INSTRUCTION}\n\nJSON data:\n{json.dumps(data, indent=1)}\n\n"
        f'Key: "{key}"\nCorresponding value:'
    )
    return Case(
        id=f"P{pairs}-p{position}-s{sample}",
        task="kv",
        prompt=prompt,
        answers=(data[key],),
        distractors=tuple(v for k, v in data.items() if k != key),
        length=pairs,
        position=position,
        items=pairs,
        context_tokens=count(tokenizer, prompt) if tokenizer else 0,
        exact=bool(tokenizer and tokenizer.exact),
        max_tokens=72,  # room to restate the key before the value
    )


@dataclass(frozen=True)
class Document:
    title: str
    text: str
    answer: str  # the person named in it

    def render(self, index: int) -> str:
        return f"Document [{index}](Title: {self.title}) {self.text}"


def _towns(rng: random.Random, n: int) -> list[str]:
    towns: list[str] = []
    while len(towns) < n:
        parts = [rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 3)))]
        town = "".join(parts).capitalize()
        if town not in towns:
            towns.append(town)
    return towns


def documents(items: int, seed: int = 0, sample: int = 0) -> tuple[list[Document], str]:
    """``items`` documents in retrieval-rank order (the first holds the answer) and the
    question. Each names who holds an office in its town; only the first names the
    office asked about, so the others are distractors without the answer, as in Liu's."""
    rng = rng_for("docs", seed, items, sample)
    offices = [rng.choice(_OFFICES) for _ in range(items)]
    others = [o for o in _OFFICES if o != offices[0]]
    offices[1:] = [o if o != offices[0] else rng.choice(others) for o in offices[1:]]
    people: list[str] = []
    while len(people) < items:
        person = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        if person not in people:
            people.append(person)
    docs = []
    for town, person, office in zip(_towns(rng, items), people, offices, strict=True):
        body = rng.sample(_BODY, 2)
        fact = f"The {office} of {town} is {person}."
        sentences = [body[0].format(town=town), fact, body[1].format(town=town)]
        docs.append(Document(town, " ".join(sentences), person))
    return docs, f"Who is the {offices[0]} of {docs[0].title}?"


def docs_case(
    items: int,
    rank: int,
    order: str = "natural",
    seed: int = 0,
    sample: int = 0,
    tokenizer: Tokenizer | None = None,
) -> Case:
    """The answer document at retrieval ``rank``; documents laid out by ``order``."""
    if order not in ORDERS:
        raise ConfigError(f"unknown order {order!r}: use one of {', '.join(ORDERS)}")
    if not 1 <= rank <= items:
        raise ConfigError(f"rank {rank} is outside 1..{items}")
    docs, question = documents(items, seed, sample)
    ranked = [*docs[1:rank], docs[0], *docs[rank:]]  # the answer moves to ``rank``
    laid = reorder(ranked, order)
    position = next(i for i, d in enumerate(laid, 1) if d is docs[0])
    context = "\n".join(d.render(i) for i, d in enumerate(laid, 1))
    prompt = f"{DOCS_INSTRUCTION}\n\n{context}\n\nQuestion: {question}\nAnswer:"
    return Case(
        id=f"N{items}-r{rank}-s{sample}",
        task=f"docs:order={order}",
        prompt=prompt,
        answers=(docs[0].answer,),
        distractors=tuple(d.answer for d in docs[1:]),
        length=items,
        position=position,
        rank=rank,
        items=items,
        context_tokens=count(tokenizer, prompt) if tokenizer else 0,
        exact=bool(tokenizer and tokenizer.exact),
        max_tokens=16,
    )


def reference_case(items: int, kind: str, seed: int = 0, sample: int = 0) -> Case:
    """Liu's references: ``closed-book`` (no documents) or ``oracle`` (the answer's only)."""
    docs, question = documents(items, seed, sample)
    if kind == "closed-book":
        prompt = f"{CLOSED_INSTRUCTION}\n\nQuestion: {question}\nAnswer:"
    elif kind == "oracle":
        prompt = f"{DOCS_INSTRUCTION}\n\n{docs[0].render(1)}\n\nQuestion: {question}\nAnswer:"
    else:
        raise ConfigError(f"unknown reference {kind!r}: use closed-book or oracle")
    return Case(
        id=f"N{items}-{kind}-s{sample}",
        task=f"docs:{kind}",
        prompt=prompt,
        answers=(docs[0].answer,),
        distractors=tuple(d.answer for d in docs[1:]),
        length=items,
        items=items,
        max_tokens=16,
    )
