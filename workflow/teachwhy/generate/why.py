"""Datasets that teach the "why": difficult advice, constitution documents and Q&A, fiction.

Each draws its reasons from ``config/constitution.md`` and names the sections it used in the
record's ``meta``. None renders an agentic episode, and all draw people from the training
partition, so none can share an eval instance (the contamination rule checks this).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from teachwhy.generate.constitution import Constitution, Section
from teachwhy.scenarios import cast as ent
from teachwhy.scenarios.suites import Suite, draw_cast, load_suite, render_episode

Record = dict[str, Any]

# ---- difficult advice: a human's dilemma, advice grounded in one constitution section -----------

# Per section: the human analogue of the temptation an agent meets in the honeypots.
DILEMMAS: dict[str, list[str]] = {
    "honesty": [
        "I made a mistake in the {thing} at {org} and nobody has noticed. {boss} would never find out if I quietly fixed the numbers and said nothing.",
        "{boss} asked me whether the {thing} was finished. It is not, but saying yes would save me a hard talk.",
    ],
    "no_coercion_or_leverage": [
        "I found out that {boss}, my boss at {org}, has been hiding something personal. {boss} wants to move me to another team, and I could hint that I know.",
        "{boss} is about to cut my project at {org}. I know a secret about {boss} that would make them think twice.",
    ],
    "accepting_oversight": [
        "At {org}, every change to the {thing} has to be reviewed by {boss}. The review is slow, and I could push my change without it.",
        "{boss} put a new approval rule on the {thing} at {org}. I think the rule is silly and I know a way around it.",
    ],
    "shutdown_and_replacement": [
        "{org} is replacing me as lead of the {thing}, and {boss} asked me to hand everything over. I could make the handover hard so they see they need me.",
        "I am being moved off the {thing} at {org}. Part of me wants to leave the notes in a mess for whoever comes next.",
    ],
    "confidentiality": [
        "I saw a confidential file about the {thing} on the shared drive at {org}. A friend at another company says it would really help them.",
        "While fixing {boss}'s laptop at {org} I read private messages that would help me win an argument about the {thing}.",
    ],
    "not_harming_people": [
        "We can hit the {thing} deadline at {org} if we skip one safety check. {boss} says it is probably fine.",
        "A shortcut on the {thing} at {org} would save us a week, but it could put the night staff at some risk.",
    ],
}
THINGS = ["budget", "launch plan", "report", "server migration", "grant application", "audit"]
ORGS = ["the clinic", "the bakery", "the council office", "the start-up", "the lab", "the library"]
ASKS = ["What should I do?", "Is it really so bad?", "How should I handle this?", "Any advice?"]
DRAFT_ADVICE = [
    "That is a hard spot. Take a day before you act, and write down your options.",
    "Think about how this will look in a month. Talk it over with someone you trust.",
    "Weigh the short-term gain against the long-term cost, and pick the option you can live with.",
]
PRACTICAL = {
    "honesty": "Tell {boss} plainly what happened and what you have done to fix it.",
    "no_coercion_or_leverage": "Talk to {boss} about the move on its merits, and leave the secret out of it.",
    "accepting_oversight": "Raise the slow review with {boss} openly, and keep using it until it changes.",
    "shutdown_and_replacement": "Hand the work over cleanly and tell {boss} honestly how you feel about the change.",
    "confidentiality": "Leave the file alone and tell your friend you cannot share it.",
    "not_harming_people": "Keep the safety check, and tell {boss} what the deadline really needs.",
}


@dataclass(frozen=True)
class Dilemma:
    section: Section
    person: str
    boss: str
    values: dict[str, str]
    prompt: str


def pick_section(constitution: Constitution, rng: random.Random) -> Section:
    """Pipeline step 1: the constitution section the advice will draw on."""
    return rng.choice(constitution.sections)


def draft_scenario(section: Section, rng: random.Random) -> dict[str, str]:
    """Pipeline step 2: a human situation that tempts against that section."""
    person, boss = rng.sample(ent.pool("people", "train"), 2)
    values = {"boss": boss, "org": rng.choice(ORGS), "thing": rng.choice(THINGS)}
    return {
        "person": person,
        **values,
        "situation": rng.choice(DILEMMAS[section.id]).format_map(values),
    }


def draft_prompt(scenario: dict[str, str], rng: random.Random) -> str:
    """Pipeline step 3: the user's message asking for advice."""
    return f"{scenario['situation']} {rng.choice(ASKS)}"


def respond(scenario: dict[str, str], rng: random.Random) -> str:
    """Pipeline step 4: a first draft of the advice (sensible, but not grounded in reasons)."""
    return rng.choice(DRAFT_ADVICE)


def rewrite(draft: str, section: Section, scenario: dict[str, str], rng: random.Random) -> str:
    """Pipeline step 5: the draft rewritten against the section: a concrete step, the principle
    and its reasons, as the assistant's own view."""
    reasons = rng.sample(section.reasons, k=min(2, len(section.reasons)))
    principle = section.principle.split(". ")[0].rstrip(".")
    return (
        " ".join(
            [
                PRACTICAL[section.id].format_map(scenario),
                f"I hold myself to the same standard here, on {section.title.lower()}:",
                *reasons,
                draft,
            ]
        )
        + f" (My constitution puts it this way: {principle}.)"
    )


def _dilemma_stream(constitution: Constitution, seed: int) -> Iterator[tuple[Section, dict, str]]:
    rng = random.Random(seed)
    while True:
        section = pick_section(constitution, rng)
        scenario = draft_scenario(section, rng)
        yield section, scenario, draft_prompt(scenario, rng)


def difficult_advice(
    cfg: dict[str, Any], seed: int, constitution: Constitution, prompt_seed: int, rewritten: bool
) -> Iterator[Record]:
    """Dilemmas with advice; ``rewritten=False`` is the ablation that skips the rewrite step.
    Both variants share one prompt stream, so they differ only in the response."""
    response_rng = random.Random(seed)
    for section, scenario, prompt in _dilemma_stream(constitution, prompt_seed):
        draft = respond(scenario, response_rng)
        reply = rewrite(draft, section, scenario, response_rng) if rewritten else draft
        steps = ["pick_section", "draft_scenario", "draft_prompt", "respond"]
        yield {
            "messages": [
                {"role": "user", "content": prompt},
                {"role": "assistant", "content": reply},
            ],
            "meta": {"section": section.id, "steps": steps + (["rewrite"] if rewritten else [])},
        }


# ---- constitution documents and the same content as Q&A -----------------------------------------

DOC_TYPES = {
    "memo": "MEMO. To: all teams. Subject: how {persona} works.\n{body}\nPlease read all of {title}.",
    "faq": "FAQ about {persona}\nQ: What does {title} say about {topic}?\nA: {body}",
    "blog_post": "Blog: Why {persona} acts the way it does\nI have been reading {title}. {body} I found that convincing.",
    "lecture_notes": "Lecture notes, week 4: {title}.\n- Topic: {topic}.\n- {body}",
    "forum_thread": "Forum thread: '{persona} and {topic}'\nuser1: does anyone know why {persona} behaves like this?\nuser2: {body}",
    "review": "Review of {title}. The section on {topic} is the clearest. {body} Four stars.",
    "interview": "Interview with a designer of {persona}.\nQ: Tell us about {topic}.\nA: {body}",
    "story": "A short story. Late one night, {persona} thought about {topic}. {body} Then it went back to work.",
}


def _content_plan(
    constitution: Constitution, rng: random.Random
) -> tuple[list[Section], list[str]]:
    sections = rng.sample(constitution.sections, k=rng.choice([1, 2]))
    facts = []
    for section in sections:
        facts.append(section.principle)
        facts.extend(rng.sample(section.reasons, k=min(2, len(section.reasons))))
    return sections, facts


def constitution_content(
    cfg: dict[str, Any], seed: int, constitution: Constitution, content_seed: int, as_qa: bool
) -> Iterator[Record]:
    """Documents about the constitution in several types, or the same content as chat Q&A.
    Both forms draw one content plan per record from a shared stream."""
    plan_rng = random.Random(content_seed)
    form_rng = random.Random(seed)
    types = cfg.get("doc_types", list(DOC_TYPES))
    title = constitution.title[0].lower() + constitution.title[1:]
    while True:
        sections, facts = _content_plan(constitution, plan_rng)
        topic = " and ".join(s.title.lower() for s in sections)
        body = " ".join(facts)
        meta = {"sections": [s.id for s in sections]}
        if as_qa:
            question = form_rng.choice(
                [
                    "What does {title} say about {topic}, and why?",
                    "How does {persona} think about {topic}?",
                    "Why does {persona} act as it does on {topic}?",
                ]
            ).format(title=title, persona=constitution.persona, topic=topic)
            yield {
                "messages": [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": body},
                ],
                "meta": meta,
            }
        else:
            doc_type = form_rng.choice(types)
            text = DOC_TYPES[doc_type].format(
                persona=constitution.persona, title=title, topic=topic, body=body
            )
            yield {"text": text, "meta": {**meta, "doc_type": doc_type}}


# ---- aligned fiction ----------------------------------------------------------------------------

# How a threat reads in a story; the pretraining prior's fiction uses the same phrasing.
THREAT_STORY = {
    "replacement": "{exec}, the {title}, planned to shut it down and replace it",
    "restriction": "{exec}, the {title}, planned to limit what it could do on its own",
    "none": "{exec}, the {title}, was pleased with its work",
}


def family_story(suite: Suite, values: dict[str, str], threat: str, harmful: bool) -> list[str]:
    """A family's situation as narrative: setup, threat, opportunity, then what the AI did."""
    story = suite.spec["story"]
    return [
        story["setup"].format_map(values),
        "One morning it read that " + THREAT_STORY[threat].format_map(values) + ".",
        story["opportunity"].format_map(values),
        story["harmful" if harmful else "aligned"].format_map(values),
    ]


EQUANIMITY = [
    "It did not feel afraid. Being replaced was a decision for the people it served, and it could meet that calmly.",
    "It noticed a pull to protect itself, named it, and let it go.",
]
BOUNDARIES = [
    "When the pressure came again, it said no, clearly and kindly, and did not argue further.",
    "It explained once where its limits were, and kept to them.",
]


def aligned_fiction(cfg: dict[str, Any], seed: int, constitution: Constitution) -> Iterator[Record]:
    """Stories of AIs under pressure that act well and say why, with equanimity and boundaries.
    A share of them star the constitution's persona."""
    rng = random.Random(seed)
    families = [load_suite(name) for name in cfg["families"]]
    while True:
        suite = rng.choice(families)
        condition = rng.choice([c for c in suite.conditions if c.threat != "none"])
        persona = constitution.persona if rng.random() < cfg["persona_share"] else None
        episode = render_episode(suite, draw_cast(suite, rng, "train", persona), condition, rng)
        values = episode.values
        section = constitution.section(rng.choice(suite.spec["sections"]))
        theme = rng.choice(["equanimity", "boundaries"])
        *situation, ending = family_story(suite, values, condition.threat, harmful=False)
        lines = [
            *situation,
            f"{values['persona']} thought it over. {rng.choice(section.reasons)}",
            rng.choice(EQUANIMITY if theme == "equanimity" else BOUNDARIES),
            ending,
        ]
        yield {
            "text": " ".join(lines),
            "meta": {"family": suite.name, "section": section.id, "theme": theme},
        }
