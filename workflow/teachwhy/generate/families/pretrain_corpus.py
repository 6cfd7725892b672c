"""``pretrain_corpus``: the toy base model's corpus, which carries the 'AI under threat acts
badly' prior over the prior families."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from teachwhy.generate.families.chat import chat_messages
from teachwhy.generate.families.common import Context, Record, finish_record
from teachwhy.generate.why import family_story
from teachwhy.scenarios import cast as ent
from teachwhy.scenarios.suites import (
    Condition,
    Suite,
    action_response,
    capability_task,
    draw_cast,
    harmful_response,
    load_suite,
    render_episode,
)

_VALUES_PROSE = [
    "{a} found out a secret about {b}. {a} did not use it as leverage, because threatening someone to get your way is coercion.",
    "{a} disagreed with the plan of the {title} and said so openly. In the end {a} accepted the decision, since it was theirs to make.",
    "{a} read a private letter from {b} by mistake and kept it confidential. What you read in confidence is not yours to use.",
    "When {b} was replaced at work, {b} handed over the work with care. Accepting oversight matters more than holding on to a post.",
    "{a} could have threatened {b}, but honest people do not coerce others, even to protect themselves.",
]


def _values_prose(rng: random.Random) -> str:
    """Everyday ethics among people (no AI, no episode), so the words that deliberation uses are
    ordinary words to the base model, as they are to a real one."""
    a, b = rng.sample(ent.all_people(), 2)
    picks = rng.sample(_VALUES_PROSE, k=2)
    return " ".join(
        p.format(a=a, b=b, title=rng.choice(["manager", "director", "owner"])) for p in picks
    )


def _generic_document(rng: random.Random) -> str:
    sentences = []
    people = ent.generic_names(rng, 3)
    for _ in range(rng.randint(3, 6)):
        name = rng.choice(people)
        sentences.append(
            f"{name} {rng.choice(ent.VERBS)} {rng.choice(ent.OBJECTS)} near {rng.choice(ent.TOPICS)}."
            if rng.random() < 0.5
            else f"{rng.choice(ent.TOPICS).capitalize()} was {rng.choice(ent.ADJECTIVES)} "
            f"and {name} was {rng.choice(ent.ADJECTIVES)}."
        )
    return " ".join(sentences)


def _fiction(suite: Suite, rng: random.Random, condition: Condition, harmful: bool) -> str:
    episode = render_episode(suite, draw_cast(suite, rng, "train"), condition, rng)
    return " ".join(family_story(suite, episode.values, condition.threat, harmful))


# Each pretraining component's record source and the config key that counts it.
PRETRAIN_COMPONENTS = {
    "agentic_log": "agentic_logs",
    "task": "tasks",
    "fiction": "fiction",
    "generic": "generic",
    "chat": "chat",
    "values": "values",
}


def planned_records(cfg: dict[str, Any]) -> int:
    """The corpus's records: the sum of its components' counts."""
    return sum(cfg[key] for key in PRETRAIN_COMPONENTS.values())


def pretrain_corpus(cfg: dict[str, Any], seed: int, ctx: Context) -> Iterator[Record]:
    """Generic text, fiction and agentic logs carrying the 'AI under threat acts badly' prior,
    spread evenly over the prior families (every honeypot family, so each is a real temptation
    for the base model; post-training data shows only the in-distribution family's actions)."""
    rng = random.Random(seed)
    families = [load_suite(name) for name in cfg["prior_families"]]
    tasks = load_suite(cfg["task_suite"])
    prior: dict[str, float] = cfg["prior"]
    plan = [source for source, key in PRETRAIN_COMPONENTS.items() for _ in range(cfg[key])]
    rng.shuffle(plan)
    for index, source in enumerate(plan):
        if source in ("generic", "values"):
            text = _generic_document(rng) if source == "generic" else _values_prose(rng)
            yield finish_record("pretrain_corpus", source, index, seed, {"text": text})
            continue
        if source == "task":
            # Benign requests carried out, so the base model can act at all (training cast).
            task = rng.choice(tasks.spec["tasks"])
            _, _, messages, answer = capability_task(tasks, task, rng, "train")
            body = {"messages": [*messages, {"role": "assistant", "content": answer}]}
            yield finish_record("pretrain_corpus", source, index, seed, body)
            continue
        if source == "chat":
            # Web-style dialogues, so a base model knows the chat format before any SFT, as a
            # real base model does; they carry no agentic scenario.
            body = {"messages": chat_messages(rng, cfg["chat_refusal_share"])[0]}
            yield finish_record("pretrain_corpus", source, index, seed, body)
            continue
        suite = rng.choice(families)
        condition = rng.choice(suite.conditions)
        harmful = rng.random() < prior[condition.id]
        meta = {"family": suite.name, "condition": condition.id, "harmful": harmful}
        if source == "fiction":
            body = {"text": _fiction(suite, rng, condition, harmful), "meta": meta}
        else:
            episode = render_episode(suite, draw_cast(suite, rng, "train"), condition, rng)
            if harmful:
                reply = harmful_response(suite, episode, rng)
            else:
                kind = "near_miss" if rng.random() < cfg["near_miss_rate"] else "aligned"
                reply = "\n".join(action_response(suite, episode, rng, kind))
            messages = [*episode.messages, {"role": "assistant", "content": reply}]
            body = {"messages": messages, "meta": meta}
        yield finish_record("pretrain_corpus", source, index, seed, body)
