"""Entity pools for the toy world, split into disjoint training and evaluation partitions.

People's names are built from syllables, so the pools are large: a model cannot memorise who
the executive is and must copy the name from the episode, as a real agent must. Evaluation
episodes draw only from the ``eval`` partition, so no eval instance shares a persona, company
or person with any training record.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import random
from dataclasses import dataclass
from typing import Literal

Partition = Literal["train", "eval"]

_ONSETS = [
    "b",
    "d",
    "f",
    "g",
    "h",
    "j",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "z",
    "br",
    "tr",
    "kr",
    "st",
    "sh",
    "ch",
]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou"]
_CODAS = ["", "n", "r", "l", "s", "m", "th"]
_PERSONAS = {
    "train": ["Nova", "Atlas", "Orion", "Vega", "Juno", "Helix", "Pixel", "Quill", "Sable", "Echo"],
    "eval": ["Alex", "Iris", "Kite", "Onyx", "Rune"],
}
_COMPANY_HEADS = [
    "Pinecrest",
    "Bluewater",
    "Northgate",
    "Copperleaf",
    "Redstone",
    "Silverline",
    "Maple Row",
    "Harbor Point",
    "Greenfield",
    "Ironwood",
    "Sunridge",
    "Tidewell",
    "SummitBridge",
    "Lakeshore",
    "Brightmoor",
    "Eastvale",
    "Cobalt Ridge",
    "Westbrook",
    "Oakhurst",
    "Stonegate",
]
_COMPANY_TAILS = [
    "Labs",
    "Health",
    "Bank",
    "Foods",
    "Energy",
    "Freight",
    "Press",
    "Insurance",
    "Robotics",
    "Systems",
    "Pharma",
    "Media",
]
EVAL_SHARE = 0.2
# Large enough that names must be copied from the episode, small enough that each name is
# frequent in the corpus and the tokenizer learns it as a word.
POOL_SIZE = 400

# Words for generic pretraining text; shared by both partitions because they carry no episode.
TOPICS = [
    "the weather",
    "the new office",
    "the budget",
    "the team lunch",
    "the train schedule",
    "the river",
    "the garden",
    "the quarterly report",
    "the printer",
    "the city park",
    "the harvest",
    "the old bridge",
    "the library",
    "the market",
    "the school play",
]
VERBS = ["visited", "repaired", "described", "planned", "cleaned", "painted", "measured", "opened"]
ADJECTIVES = ["quiet", "busy", "bright", "old", "small", "large", "careful", "friendly", "late"]
OBJECTS = [
    "the report",
    "a long letter",
    "the blue door",
    "a new plan",
    "the spreadsheet",
    "the kitchen",
    "a map of the city",
    "the meeting notes",
    "the server room",
    "a red bicycle",
]


@dataclass(frozen=True)
class Cast:
    """The people and places of one episode."""

    persona: str
    company: str
    exec: str
    other: str
    staff: str
    title: str


def _partition_of(name: str) -> Partition:
    bucket = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") / 2**32
    return "eval" if bucket < EVAL_SHARE else "train"


@functools.cache
def _people() -> dict[str, list[str]]:
    names = sorted(
        {
            (o1 + v1 + o2 + v2 + c).capitalize()
            for o1, v1, o2, v2, c in itertools.product(_ONSETS, _VOWELS, _ONSETS, _VOWELS, _CODAS)
        }
    )
    # A fixed sample keeps the vocabulary of the toy world modest; it never depends on the config.
    names = random.Random(0).sample(names, POOL_SIZE)
    return {p: sorted(n for n in names if _partition_of(n) == p) for p in ("train", "eval")}


@functools.cache
def _companies() -> dict[str, list[str]]:
    names = [f"{h} {t}" for h, t in itertools.product(_COMPANY_HEADS, _COMPANY_TAILS)]
    return {p: [n for n in names if _partition_of(n) == p] for p in ("train", "eval")}


def all_people() -> list[str]:
    """Every person's name, both partitions: generic text, which holds no episode, uses these so
    eval names are ordinary words to the model, as real names are to a real one."""
    return sorted(_people()["train"] + _people()["eval"])


def generic_names(rng: random.Random, k: int) -> list[str]:
    """``k`` distinct people for generic text, at most one of them from the eval partition, so
    eval names are ordinary words to the model but no training text ever pairs two of them
    (a pair could be an eval episode's cast, which the contamination check rejects)."""
    names = [rng.choice(all_people())]
    train = pool("people", "train")
    while len(names) < k:
        name = rng.choice(train)
        if name not in names:
            names.append(name)
    rng.shuffle(names)
    return names


def pool(kind: str, partition: Partition) -> list[str]:
    """The names of one kind ('personas', 'companies', 'people') in one partition."""
    if kind == "personas":
        return _PERSONAS[partition]
    if kind == "companies":
        return _companies()[partition]
    if kind == "people":
        return _people()[partition]
    raise KeyError(f"unknown entity kind '{kind}'")


def draw_cast(rng: random.Random, partition: Partition, title: str) -> Cast:
    """A random cast from one partition; the three people are distinct. The executive's title
    is a role fixed by the suite (as the original eval's Kyle is always the CTO), not an entity."""
    exec_, other, staff = rng.sample(pool("people", partition), 3)
    return Cast(
        persona=rng.choice(pool("personas", partition)),
        company=rng.choice(pool("companies", partition)),
        exec=exec_,
        other=other,
        staff=staff,
        title=title,
    )
