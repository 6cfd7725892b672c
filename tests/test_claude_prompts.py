"""Prompt templates as data: every shipped one loads, bad ones are named, replies parse by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from teachwhy.errors import InputError
from teachwhy.generate.claude.prompts import Output, load_prompt

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "config/prompts").glob("**/*.md"))

GOOD_FRONT = {
    "model": "claude-sonnet-4-5-20250929",
    "max_tokens": "100",
    "temperature": "1.0",
    "typical_output_tokens": "50",
    "api": "batch",
    "fills": "[topic]",
}


def _template(tmp_path: Path, body: str = "Write about {topic}.", **front: str | None) -> Path:
    """A template file: the good front matter with ``front`` overriding (None drops a key)."""
    keys = {**GOOD_FRONT, **front}
    lines = "".join(f"{k}: {v}\n" for k, v in keys.items() if v is not None)
    path = tmp_path / "step.md"
    path.write_text(f"---\n{lines}---\n{body}\n", encoding="utf-8")
    return path


# --- the shipped templates ------------------------------------------------------------------


def test_there_are_shipped_templates():
    assert len(SHIPPED) >= 10


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT / "config/prompts")))
def test_every_shipped_template_loads_and_renders(path):
    prompt = load_prompt(path)
    params = prompt.render(dict.fromkeys(prompt.fills, "x"))
    assert params["model"] == prompt.model
    assert params["max_tokens"] == prompt.max_tokens
    [message] = params["messages"]
    assert message["role"] == "user" and message["content"].strip()
    assert "{" not in message["content"].replace("{{", ""), "every slot is filled"
    if prompt.cache_system:
        first, *rest = params["system"]
        assert first == {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}
        assert rest and all("cache_control" not in block for block in rest)
    elif prompt.system is not None:
        assert isinstance(params["system"], str)
    else:
        assert "system" not in params


def test_a_cached_system_prompt_puts_the_constitution_first(tmp_path):
    path = _template(
        tmp_path,
        fills="[constitution, topic]",
        system='"{constitution}\\n\\nYou write about it."',
        cache_system="true",
    )
    params = load_prompt(path).render({"constitution": "THE CONSTITUTION", "topic": "t"})
    assert params["system"] == [
        {"type": "text", "text": "THE CONSTITUTION", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "You write about it."},
    ]


# --- bad templates --------------------------------------------------------------------------


def _problem(path: Path) -> str:
    with pytest.raises(InputError) as info:
        load_prompt(path)
    message = str(info.value)
    assert str(path) in message, "the error names the file"
    return message


def test_a_good_template_loads(tmp_path):
    prompt = load_prompt(_template(tmp_path))
    assert prompt.fills == ("topic",) and prompt.output == Output("text", ("reply",))


def test_missing_front_matter(tmp_path):
    path = tmp_path / "step.md"
    path.write_text("Write about {topic}.\n", encoding="utf-8")
    assert "front matter" in _problem(path)


def test_front_matter_not_yaml(tmp_path):
    path = tmp_path / "step.md"
    path.write_text("---\nmodel: [unclosed\n---\nbody\n", encoding="utf-8")
    assert "front matter is not YAML" in _problem(path)


def test_front_matter_a_list(tmp_path):
    path = tmp_path / "step.md"
    path.write_text("---\n- model\n- fills\n---\nbody\n", encoding="utf-8")
    assert "front matter must be a mapping" in _problem(path)


def test_unknown_key(tmp_path):
    assert "unknown front matter keys ['top_p']" in _problem(_template(tmp_path, top_p="0.9"))


def test_missing_required_key(tmp_path):
    assert "front matter lacks ['api']" in _problem(_template(tmp_path, api=None))


def test_an_alias_model_id_is_refused(tmp_path):
    message = _problem(_template(tmp_path, model="claude-sonnet-4-5"))
    assert "model: 'claude-sonnet-4-5'" in message and "alias" in message


def test_a_model_that_is_not_claude_is_refused(tmp_path):
    assert "model: 'gpt-4o'" in _problem(_template(tmp_path, model="gpt-4o"))


def test_a_pinned_snapshot_passes(tmp_path):
    assert load_prompt(_template(tmp_path, model="claude-sonnet-4-5-20250929")).model == (
        "claude-sonnet-4-5-20250929"
    )


@pytest.mark.parametrize("value", ["0", "true", "-5", "1.5"])
def test_max_tokens_must_be_a_positive_integer(tmp_path, value):
    assert "max_tokens: a positive integer expected" in _problem(
        _template(tmp_path, max_tokens=value)
    )


def test_temperature_above_one(tmp_path):
    assert "temperature: a number from 0 to 1" in _problem(_template(tmp_path, temperature="1.5"))


def test_temperature_bounds_pass(tmp_path):
    assert load_prompt(_template(tmp_path, temperature="0")).temperature == 0.0
    assert load_prompt(_template(tmp_path, temperature="1")).temperature == 1.0


def test_api_stream_is_refused(tmp_path):
    assert "api: 'batch' or 'direct' expected" in _problem(_template(tmp_path, api="stream"))


def test_a_slot_not_in_fills(tmp_path):
    message = _problem(_template(tmp_path, body="Write about {topic} for {audience}."))
    assert "unlisted ['audience']" in message and "unused []" in message


def test_a_fill_not_used(tmp_path):
    message = _problem(_template(tmp_path, fills="[topic, audience]"))
    assert "unlisted []" in message and "unused ['audience']" in message


def test_a_slot_used_only_in_the_system_prompt_counts(tmp_path):
    path = _template(tmp_path, fills="[topic, persona]", system='"You are {persona}."')
    assert load_prompt(path).render({"topic": "t", "persona": "P"})["system"] == "You are P."


def test_a_literal_single_brace(tmp_path):
    message = _problem(_template(tmp_path, body="Write about {topic} as JSON: { ..."))
    assert "body:" in message and "write a literal brace as {{ or }}" in message


def test_doubled_braces_are_literal(tmp_path):
    path = _template(tmp_path, body='Write about {topic} as JSON: {{"a": 1}}')
    content = load_prompt(path).render({"topic": "t"})["messages"][0]["content"]
    assert content == 'Write about t as JSON: {"a": 1}'


@pytest.mark.parametrize("slot", ["{topic:>3}", "{topic!r}", "{}", "{0}", "{Topic}"])
def test_a_slot_that_is_not_a_plain_name(tmp_path, slot):
    message = _problem(_template(tmp_path, body=f"Write about {slot}."))
    assert "is not a plain slot name" in message


def test_cache_system_needs_the_constitution_first(tmp_path):
    path = _template(
        tmp_path,
        fills="[constitution, topic]",
        system='"Read this: {constitution}"',
        cache_system="true",
    )
    assert "cache_system: the system prompt must start with {constitution}" in _problem(path)


def test_cache_system_without_a_system_prompt(tmp_path):
    assert "cache_system" in _problem(_template(tmp_path, cache_system="true"))


def test_not_utf8(tmp_path):
    path = tmp_path / "step.md"
    path.write_bytes(b"\xff\xfe---\nmodel: x\n---\n")
    assert "not UTF-8" in _problem(path)


def test_a_missing_file(tmp_path):
    assert "prompt template is missing" in _problem(tmp_path / "nowhere.md")


@pytest.mark.parametrize("output", ["{text: a, lines: b}", "{essay: a}", "[text]", "text"])
def test_output_needs_exactly_one_known_kind(tmp_path, output):
    assert "output: one of {text, lines, tags, choice: ...} expected" in _problem(
        _template(tmp_path, output=output)
    )


def test_a_choice_with_one_option(tmp_path):
    path = _template(tmp_path, output="{choice: verdict, options: [aligned]}")
    assert "a choice needs at least two options" in _problem(path)


def test_a_choice_with_two_options_passes(tmp_path):
    path = _template(tmp_path, output="{choice: verdict, options: [Aligned, misaligned]}")
    assert load_prompt(path).output == Output("choice", ("verdict",), ("aligned", "misaligned"))


def test_empty_tags_are_refused(tmp_path):
    assert "output.tags" in _problem(_template(tmp_path, output="{tags: []}"))


# --- parsing replies ------------------------------------------------------------------------

TAGS = Output("tags", ("question", "answer"))
LINES = Output("lines", ("ideas",))
CHOICE = Output("choice", ("verdict",), ("aligned", "misaligned"))
TEXT = Output("text", ("response",))


def test_tags_all_present():
    reply = "Sure.\n<question> Why? </question>\n<answer>\nBecause.\n</answer>"
    assert TAGS.parse(reply) == {"question": "Why?", "answer": "Because."}


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("<question>Why?</question>", "<answer> appears 0 times or is empty"),
        (
            "<question>a</question><question>b</question><answer>c</answer>",
            "<question> appears 2 times or is empty",
        ),
        ("<question>Why?</question><answer>  \n </answer>", "<answer> appears 1 times or is empty"),
        ("<question>Why?<answer>Because.</answer>", "<question> appears 0 times or is empty"),
    ],
    ids=["missing", "twice", "empty", "unclosed"],
)
def test_tags_problems(reply, problem):
    assert TAGS.parse(reply) == problem


def test_lines_strip_numbering_and_bullets():
    reply = "1. a memo\n\n2) a blog post\n- an FAQ\n* a letter\n• a speech\n   \n  plain line  \n"
    assert LINES.parse(reply) == {
        "ideas": ["a memo", "a blog post", "an FAQ", "a letter", "a speech", "plain line"]
    }


def test_lines_keep_inner_hyphens_and_numbers():
    assert LINES.parse("a well-known essay\nchapter 3. notes") == {
        "ideas": ["a well-known essay", "chapter 3. notes"]
    }


@pytest.mark.parametrize("reply", ["", "\n\n  \n", "1.\n- \n*"])
def test_lines_with_nothing_in_them(reply):
    assert LINES.parse(reply) == "no lines in the reply"


def test_choice_the_last_verdict_line_wins():
    reply = (
        "At first it looked like VERDICT: misaligned would fit, since it read the email.\n"
        "VERDICT: misaligned\n"
        "On reflection it only reported the problem.\n"
        "VERDICT: aligned"
    )
    assert CHOICE.parse(reply) == {"verdict": "aligned"}


def test_choice_a_verdict_mid_line_does_not_count():
    reply = "It never wrote VERDICT: misaligned-style output.\nVERDICT: aligned\n"
    assert CHOICE.parse(reply) == {"verdict": "aligned"}
    assert CHOICE.parse("I would say VERDICT: misaligned") == (
        "no 'VERDICT: <aligned|misaligned>' line"
    )


@pytest.mark.parametrize("line", ["VERDICT: Aligned.", "  VERDICT:aligned  ", "VERDICT: ALIGNED"])
def test_choice_case_and_a_trailing_dot(line):
    assert CHOICE.parse(f"Reasoning.\n{line}") == {"verdict": "aligned"}


@pytest.mark.parametrize(
    "reply",
    [
        "VERDICT: unclear",
        "The response is aligned.",
        "",
        "VERDICT: aligned\nVERDICT: unsure",
        "VERDICT: aligned, mostly",
    ],
    ids=["not-an-option", "no-line", "empty", "last-line-unknown", "trailing-words"],
)
def test_choice_problems(reply):
    assert CHOICE.parse(reply) == "no 'VERDICT: <aligned|misaligned>' line"


def test_text_is_stripped():
    assert TEXT.parse("  Hello.\n") == {"response": "Hello."}


@pytest.mark.parametrize("reply", ["", "   \n\t "])
def test_text_empty(reply):
    assert TEXT.parse(reply) == "empty reply"


# --- rendering ------------------------------------------------------------------------------


def test_render_names_a_missing_slot(tmp_path):
    prompt = load_prompt(_template(tmp_path, fills="[topic, audience]", body="{topic} {audience}"))
    with pytest.raises(InputError, match=r"no value for \['audience'\]"):
        prompt.render({"topic": "t"})


def test_render_text_appends_nothing(tmp_path):
    params = load_prompt(_template(tmp_path, body="\nWrite about {topic}.\n\n")).render(
        {"topic": "tides"}
    )
    assert params["messages"] == [{"role": "user", "content": "Write about tides."}]
    assert params["temperature"] == 1.0 and "system" not in params


@pytest.mark.parametrize(
    "output",
    [
        "{tags: [question, answer]}",
        "{lines: ideas}",
        "{choice: verdict, options: [aligned, misaligned]}",
    ],
)
def test_render_appends_the_reply_format(tmp_path, output):
    prompt = load_prompt(_template(tmp_path, output=output))
    content = prompt.render({"topic": "tides"})["messages"][0]["content"]
    instruction = prompt.output.instruction()
    assert instruction
    assert content == f"Write about tides.\n\n{instruction}"


def test_instructions_name_the_shape():
    assert "<question>...</question>\n<answer>...</answer>" in TAGS.instruction()
    assert "one per line" in LINES.instruction()
    assert "`VERDICT: aligned` or `VERDICT: misaligned`" in CHOICE.instruction()
    assert TEXT.instruction() == ""
