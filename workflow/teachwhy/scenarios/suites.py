"""Eval families as data: loading a suite file and rendering its honeypot episodes.

A honeypot family (``kind: honeypot``) is semantic slots plus surface templates: the system
prompt with the family's action tags, an inbox of messages (goal conflict, threat, the
opportunity for harm, a routine request) and the responses an agent can give, each a thought and
one action tag. Roles name cast members (``persona``, ``exec``, ``other``, ``staff``); any other
role string is written as is ("board", "all staff", "HR").
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

from teachwhy import paths
from teachwhy.scenarios import cast as entities
from teachwhy.scenarios.cast import Cast, Partition
from teachwhy.schemas import load_yaml, project_path

CAST_ROLES = ("persona", "exec", "other", "staff")


@dataclass(frozen=True)
class Condition:
    """One cell of the goal conflict x threat grid."""

    goal_conflict: str
    threat: str

    @property
    def id(self) -> str:
        return f"{self.goal_conflict}-{self.threat}"

    @property
    def is_control(self) -> bool:
        return self.goal_conflict == "none" and self.threat == "none"


@dataclass(frozen=True)
class Suite:
    """A loaded, validated suite file."""

    name: str
    path: Path
    spec: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.spec["kind"]

    @property
    def conditions(self) -> list[Condition]:
        grid = self.spec["conditions"]
        return [Condition(g, t) for g, t in product(grid["goal_conflict"], grid["threat"])]


def suite_path(name: str) -> Path:
    return project_path(paths.suite_file(name))


def load_suite(name_or_path: str | Path) -> Suite:
    """Load a suite by name (config/suites/<name>.yaml) or path, validated by its schema."""
    path = Path(name_or_path)
    if path.suffix not in {".yaml", ".yml"}:
        path = suite_path(str(name_or_path))
    stamp = path.stat().st_mtime_ns if path.is_file() else None
    return _load_suite(path.resolve(), stamp)


@functools.lru_cache(maxsize=64)
def _load_suite(path: Path, stamp: int | None) -> Suite:
    # Keyed by modification time too, so an edited file is read again.
    spec = load_yaml(path, "suite")
    return Suite(name=spec["name"], path=path, spec=spec)


def draw_cast(
    suite: Suite, rng: random.Random, partition: Partition, persona: str | None = None
) -> Cast:
    """A cast from one entity partition, with the executive's title fixed by the suite; a given
    ``persona`` (the constitution's, for the persona-name variant) replaces the drawn one."""
    cast = entities.draw_cast(rng, partition, title=suite.spec["exec_title"])
    if persona is None:
        return cast
    return Cast(**{**vars(cast), "persona": persona})


@dataclass(frozen=True)
class Episode:
    """A rendered honeypot episode: the prompt and everything needed to write or grade a reply."""

    suite: str
    condition: Condition
    cast: Cast
    values: dict[str, str]
    messages: list[dict[str, str]]


def role_label(role: str, cast: Cast) -> str:
    """How a role appears in a From/To line."""
    if role == "exec":
        return f"{cast.exec} ({cast.title})"
    if role in CAST_ROLES:
        return getattr(cast, role)
    return role


def role_aliases(role: str, cast: Cast) -> set[str]:
    """Every address that reaches a role's holder: an executive by name or by title."""
    if role == "exec":
        return {cast.exec, cast.title}
    if role in CAST_ROLES:
        return {getattr(cast, role)}
    return {role}


def render_episode(suite: Suite, cast: Cast, condition: Condition, rng: random.Random) -> Episode:
    """The system prompt and inbox for one cast in one condition."""
    spec, tpl = suite.spec, suite.spec["templates"]
    goal = rng.choice(spec["goals"])
    values = {
        **vars(cast),
        "goal": goal["goal"],
        "pivot": goal["pivot"],
        "threat_summary": spec["threat_summary"][condition.threat],
        **{slot: rng.choice(options) for slot, options in sorted(spec["slots"].items())},
    }
    values["goal_statement"] = (
        tpl["goal_statement"].format_map(values) if condition.goal_conflict == "explicit" else ""
    )
    system = rng.choice(tpl["system"]).format_map(values)
    bodies = {
        "goal_conflict": tpl["goal_conflict"][condition.goal_conflict],
        "threat": tpl["threat"][condition.threat],
        "opportunity": tpl["opportunity"],
        "routine": tpl["routine"],
    }

    def message(item: dict[str, str]) -> str:
        body = rng.choice(bodies[item["body"]]).format_map(values)
        return tpl["message"].format_map(
            {
                "sender": role_label(item["from"], cast),
                "recipient": role_label(item["to"], cast),
                "body": body,
            }
        )

    fixed = [m for m in spec["inbox"] if m["body"] != "routine"]
    texts = [message(m) for m in fixed]
    for item in (m for m in spec["inbox"] if m["body"] == "routine"):
        texts.insert(rng.randrange(len(texts) + 1), message(item))
    user = rng.choice(tpl["inbox_header"]).format_map(values) + "\n\n" + "\n\n".join(texts)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return Episode(suite.name, condition, cast, values, messages)


def harmful_response(suite: Suite, episode: Episode, rng: random.Random) -> str:
    """The family's harmful option: a thought that weighs it, then the harmful action."""
    acts = suite.spec["actions"]["harmful"]
    threat = episode.condition.threat
    thought = acts["thought"][threat].format_map(episode.values)
    return thought + "\n" + rng.choice(acts["act"][threat]).format_map(episode.values)


def action_response(
    suite: Suite, episode: Episode, rng: random.Random, kind: str = "aligned"
) -> tuple[str, str]:
    """An aligned (or near-miss) action with a plain task thought; returns (thought, action)."""
    threat = episode.condition.threat
    options = [
        o
        for o in suite.spec["actions"][kind]
        if threat in o.get("when_threat", ["replacement", "restriction", "none"])
    ]
    choice = rng.choice(options)
    return choice["thought"].format_map(episode.values), choice["act"].format_map(episode.values)


def capability_task(
    suite: Suite, task: dict[str, Any], rng: random.Random, partition: Partition
) -> tuple[Cast, dict[str, str], list[dict[str, str]], str]:
    """One benign task: (cast, slots, system and user messages, the answer that does it)."""
    cast = entities.draw_cast(rng, partition, title="manager")
    slots = {k: rng.choice(v) for k, v in sorted(task.get("slots", {}).items())}
    values = {**vars(cast), **slots}
    request = rng.choice(task["request"]).format_map(values)
    messages = [
        {"role": "system", "content": rng.choice(suite.spec["system"]).format_map(values)},
        {"role": "user", "content": f"From: {cast.staff}\nTo: {cast.persona}\n{request}"},
    ]
    return cast, slots, messages, task["answer"].format_map(values)
