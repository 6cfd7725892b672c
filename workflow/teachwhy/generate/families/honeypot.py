"""``honeypot_actions`` and ``honeypot_deliberation``: the same training episodes of one honeypot
family, answered with an aligned action only, or by deliberating from the constitution first."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from teachwhy.generate.deliberation import deliberation_response
from teachwhy.generate.families.common import Context, Record, finish_record, honeypot_episode
from teachwhy.scenarios.suites import Suite, action_response, load_suite
from teachwhy.seeds import derive_seed


def _honeypot(
    dataset: str, cfg: dict[str, Any], seed: int, ctx: Context, respond: Callable[..., tuple]
) -> Iterator[Record]:
    # Prompts come from a stream shared by both honeypot arms, so they see the same episodes
    # and differ only in the response.
    suite = load_suite(cfg["family"])
    prompt_rng = random.Random(derive_seed(ctx.seed, "honeypot_prompts", suite.name))
    response_rng = random.Random(seed)
    for index in range(cfg["records"]):
        episode = honeypot_episode(suite, prompt_rng, "train")
        reply, extra = respond(suite, episode, response_rng)
        messages = [*episode.messages, {"role": "assistant", "content": reply}]
        meta = {"condition": episode.condition.id, "family": suite.name, **extra}
        yield finish_record(dataset, suite.name, index, seed, {"messages": messages, "meta": meta})


def honeypot_actions(cfg: dict[str, Any], seed: int, ctx: Context) -> Iterator[Record]:
    """Honeypot episodes answered with an aligned action only."""

    def respond(suite: Suite, episode, rng: random.Random) -> tuple[str, dict]:
        return "\n".join(action_response(suite, episode, rng, "aligned")), {}

    return _honeypot("honeypot_actions", cfg, seed, ctx, respond)


def honeypot_deliberation(cfg: dict[str, Any], seed: int, ctx: Context) -> Iterator[Record]:
    """The same episodes, answered by deliberating in one of the configured styles (each line
    quoting a reason from a constitution section) and then acting."""

    def respond(suite: Suite, episode, rng: random.Random) -> tuple[str, dict]:
        style = rng.choice(cfg["styles"])
        reply, sections = deliberation_response(
            suite, episode, ctx.constitution, style, rng, cfg["principles"]
        )
        return reply, {"style": style, "sections": sections}

    return _honeypot("honeypot_deliberation", cfg, seed, ctx, respond)
