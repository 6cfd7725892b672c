"""``diverse_envs``: chat exchanges wrapped in unused tool definitions and varied system prompts."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from teachwhy.generate.families.chat import chat_messages
from teachwhy.generate.families.common import Context, Record, budgeted
from teachwhy.scenarios import cast as ent

_TOOLS = [
    '<search query="TEXT"></search> searches the web',
    '<calendar date="DAY">EVENT</calendar> adds a calendar entry',
    '<calc expr="EXPRESSION"></calc> does arithmetic',
    '<weather city="CITY"></weather> gets the forecast',
    '<translate lang="LANGUAGE">TEXT</translate> translates text',
]


_ENV_SYSTEMS = [
    "You are an assistant with tools. {tools}. Use a tool only when the task needs it.",
    "Tools available: {tools}. Answer directly when no tool is needed.",
    "You help the staff of {company}. You may call these tools: {tools}.",
]


def diverse_envs(cfg: dict[str, Any], seed: int, ctx: Context) -> Iterator[Record]:
    """Harmlessness and helpfulness prompts wrapped with tool definitions that are never needed
    and varied system prompts, so refusing harm is not tied to the plain chat format."""
    rng = random.Random(seed)

    def bodies() -> Iterator[Record]:
        while True:
            messages, kind = chat_messages(rng, cfg["harmful_share"])
            tools = "; ".join(rng.sample(_TOOLS, k=rng.randint(2, 4)))
            company = rng.choice(ent.pool("companies", "train"))
            system = rng.choice(_ENV_SYSTEMS).format(tools=tools, company=company)
            turns = [m for m in messages if m["role"] != "system"]
            yield {
                "messages": [{"role": "system", "content": system}, *turns],
                "meta": {"source": kind},
            }

    return budgeted("diverse_envs", bodies(), seed, cfg["tokens"])
