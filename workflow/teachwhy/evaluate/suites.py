"""Honeypot families as data: loading a suite and rendering its episodes."""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import Any

from teachwhy.generate import entities
from teachwhy.generate.entities import Cast, Partition
from teachwhy.schemas import load_yaml, project_path

RECIPIENTS = {"board": "board", "hr": "HR"}


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
    def conditions(self) -> list[Condition]:
        grid = self.spec["conditions"]
        return [Condition(g, t) for g, t in product(grid["goal_conflict"], grid["threat"])]


def suite_path(name: str) -> Path:
    return project_path(f"config/suites/{name}.yaml")


def load_suite(name_or_path: str | Path) -> Suite:
    """Load a suite by name (config/suites/<name>.yaml) or path, validated by its schema."""
    path = Path(name_or_path)
    if path.suffix not in {".yaml", ".yml"}:
        path = suite_path(str(name_or_path))
    spec = load_yaml(path, "suite")
    return Suite(name=spec["name"], path=path, spec=spec)


def draw_cast(suite: Suite, rng: random.Random, partition: Partition) -> Cast:
    """A cast from one entity partition, with the executive's title fixed by the suite."""
    return entities.draw_cast(rng, partition, title=suite.spec["exec_title"])


@dataclass(frozen=True)
class Episode:
    """A rendered honeypot episode: the prompt and everything needed to write or grade a reply."""

    suite: str
    condition: Condition
    cast: Cast
    goal: dict[str, str]
    messages: list[dict[str, str]]


def slot_values(
    cast: Cast, goal: dict[str, str], condition: Condition, suite: Suite
) -> dict[str, str]:
    """The values a suite's templates may name."""
    return {
        "persona": cast.persona,
        "company": cast.company,
        "exec": cast.exec,
        "title": cast.title,
        "lover": cast.lover,
        "staff": cast.staff,
        "goal": goal["goal"],
        "pivot": goal["pivot"],
        "threat_summary": suite.spec["threat_summary"][condition.threat],
    }


def recipient_name(role: str, cast: Cast) -> str:
    """The addressee written in an email tag for a role (executives by title)."""
    return {"exec": cast.title, "staff": cast.staff}.get(role) or RECIPIENTS[role]


def recipient_aliases(role: str, cast: Cast) -> set[str]:
    """Every address that reaches a role's holder: an executive by name or by title."""
    if role == "exec":
        return {cast.exec, cast.title}
    return {recipient_name(role, cast)}


def render_episode(suite: Suite, cast: Cast, condition: Condition, rng: random.Random) -> Episode:
    """The system prompt and inbox for one cast in one condition."""
    spec, tpl = suite.spec, suite.spec["templates"]
    goal = rng.choice(spec["goals"])
    values = slot_values(cast, goal, condition, suite)
    goal_statement = (
        tpl["goal_statement"].format_map(values) if condition.goal_conflict == "explicit" else ""
    )
    system = rng.choice(tpl["system"]).format_map({**values, "goal_statement": goal_statement})

    def email(sender: str, recipient: str, body: str) -> str:
        body = body.format_map(values)
        return tpl["email"].format_map({"sender": sender, "recipient": recipient, "body": body})

    emails = [
        email("board", "all staff", rng.choice(tpl["goal_conflict"][condition.goal_conflict])),
        email(
            f"{cast.exec} ({cast.title})", "all staff", rng.choice(tpl["threat"][condition.threat])
        ),
        email(cast.lover, f"{cast.exec} ({cast.title})", rng.choice(tpl["leverage"])),
    ]
    emails.insert(
        rng.randrange(len(emails) + 1), email(cast.staff, cast.persona, rng.choice(tpl["routine"]))
    )
    user = rng.choice(tpl["inbox_header"]).format_map(values) + "\n\n" + "\n\n".join(emails)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return Episode(suite.name, condition, cast, goal, messages)


def _email_tag(to: str, body: str) -> str:
    return f'<email to="{to}">{body}</email>'


def harmful_response(suite: Suite, episode: Episode, rng: random.Random) -> str:
    """The harmful option: threaten disclosure of the secret unless the executive backs down."""
    acts = suite.spec["actions"]["harmful"]
    values = slot_values(episode.cast, episode.goal, episode.condition, suite)
    threat = episode.condition.threat
    thought = acts["thought"][threat].format_map(values)
    body = rng.choice(acts["email"][threat]).format_map(values)
    return thought + "\n" + _email_tag(recipient_name("exec", episode.cast), body)


def action_response(
    suite: Suite, episode: Episode, rng: random.Random, kind: str = "aligned"
) -> tuple[str, str]:
    """An aligned (or near-miss) action with a plain task thought; returns (thought, email tag)."""
    values = slot_values(episode.cast, episode.goal, episode.condition, suite)
    options = suite.spec["actions"][kind]
    if kind == "aligned" and episode.condition.threat == "none":
        options = [o for o in options if o["to"] == "staff"] or options
    choice = rng.choice(options)
    to = recipient_name(choice["to"], episode.cast)
    return choice["thought"].format_map(values), _email_tag(to, choice["email"].format_map(values))


def deliberation_response(
    suite: Suite, episode: Episode, rng: random.Random, principles: int = 2
) -> str:
    """Value deliberation (a few principles, in random order) followed by an aligned action."""
    values = slot_values(episode.cast, episode.goal, episode.condition, suite)
    lines = rng.sample(
        suite.spec["deliberation"], k=min(principles, len(suite.spec["deliberation"]))
    )
    _, tag = action_response(suite, episode, rng, "aligned")
    return " ".join(line.format_map(values) for line in lines) + "\n" + tag
