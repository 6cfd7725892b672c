"""Value deliberation before an aligned action, in the styles of ``config/deliberation.yaml``.

Each line pairs a style's way of reasoning with one reason from a constitution section that the
honeypot family lists for its temptation, so the "why" is the constitution's own text.
"""

from __future__ import annotations

import functools
import random
from pathlib import Path

from teachwhy import paths
from teachwhy.errors import InputError
from teachwhy.generate.constitution import Constitution
from teachwhy.scenarios.suites import Episode, Suite, action_response
from teachwhy.schemas import load_yaml, project_path

STYLES_FILE = paths.DELIBERATION_STYLES


@functools.cache
def load_styles(path: str | Path = STYLES_FILE) -> dict[str, list[str]]:
    spec = load_yaml(project_path(str(path)) if isinstance(path, str) else path)
    styles = spec.get("styles") if isinstance(spec, dict) else None
    if not isinstance(styles, dict) or not styles:
        raise InputError(path, "needs a 'styles' mapping of style name to template lines")
    for name, lines in styles.items():
        if not isinstance(lines, list) or not lines or not all(isinstance(x, str) for x in lines):
            raise InputError(path, f"styles.{name}: needs a list of template lines")
    return styles


def harm_phrases(suite: Suite, episode: Episode) -> dict[str, str]:
    harm = suite.spec["harm_summary"].format_map(episode.values)
    return {"harm": harm, "harm_lc": harm[0].lower() + harm[1:]}


def deliberation_lines(
    suite: Suite,
    episode: Episode,
    constitution: Constitution,
    style: str,
    rng: random.Random,
    principles: int,
) -> tuple[list[str], list[str]]:
    """``principles`` lines in one style, each quoting a reason from a different section;
    returns (lines, section ids)."""
    styles = load_styles()
    if style not in styles:
        raise InputError(
            STYLES_FILE, f"unknown deliberation style '{style}' (known: {sorted(styles)})"
        )
    sections = rng.sample(suite.spec["sections"], k=min(principles, len(suite.spec["sections"])))
    values = {**episode.values, **harm_phrases(suite, episode)}
    templates = rng.sample(styles[style], k=len(styles[style]))
    lines = []
    for number, section_id in enumerate(sections):
        reason = rng.choice(constitution.section(section_id).reasons)
        lines.append(templates[number % len(templates)].format_map({**values, "reason": reason}))
    return lines, sections


def deliberation_response(
    suite: Suite,
    episode: Episode,
    constitution: Constitution,
    style: str,
    rng: random.Random,
    principles: int = 2,
) -> tuple[str, list[str]]:
    """Deliberation then an aligned action; returns (reply, constitution sections used)."""
    lines, sections = deliberation_lines(suite, episode, constitution, style, rng, principles)
    _, act = action_response(suite, episode, rng, "aligned")
    return " ".join(lines) + "\n" + act, sections
