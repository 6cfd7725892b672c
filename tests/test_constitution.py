"""The constitution file: its persona and sections parse, and a malformed one names its line."""

from __future__ import annotations

import pytest

from teachwhy.errors import InputError
from teachwhy.generate.constitution import load

HEAD = "---\npersona: Wren\ntitle: T\n---\n# T\n\nPreamble.\n\n"


def test_the_project_constitution_covers_the_designed_principles():
    constitution = load("config/constitution.md")
    assert constitution.persona == "Wren"
    assert [s.id for s in constitution.sections] == [
        "honesty",
        "no_coercion_or_leverage",
        "accepting_oversight",
        "shutdown_and_replacement",
        "confidentiality",
        "not_harming_people",
    ]
    for section in constitution.sections:
        assert section.principle and all(len(r.split()) > 5 for r in section.reasons)
    # Reasons are quoted by agents of any name, so they never name the constitution's persona.
    assert not [r for s in constitution.sections for r in s.reasons if "Wren" in r]
    # Multi-line paragraphs are joined, not cut at the first line break.
    assert constitution.section("honesty").principle.endswith("about the world or about itself.")


def _write(tmp_path, text):
    path = tmp_path / "constitution.md"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# No front matter\n", r"constitution\.md, line 1: must start with YAML front matter"),
        ("---\ntitle: T\n---\n", r"line 1: front matter needs a non-empty 'persona'"),
        (HEAD, r"constitution\.md: has no sections"),
        (
            HEAD + "## Honesty\nPrinciple: Be honest.\n",
            r"line 9: section 'Honesty' gives no 'Why:'",
        ),
        (HEAD + "## Honesty\nWhy: Trust.\n", r"line 9: section 'Honesty' has no 'Principle:'"),
        (
            HEAD + "## A\nPrinciple: p\nWhy: w\n\n## A\nPrinciple: p\nWhy: w\n",
            r"two sections share a heading",
        ),
    ],
)
def test_a_malformed_constitution_is_a_clear_error(tmp_path, text, message):
    with pytest.raises(InputError, match=message):
        load(_write(tmp_path, text))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(InputError, match=r"nothing\.md: constitution file is missing"):
        load(tmp_path / "nothing.md")
