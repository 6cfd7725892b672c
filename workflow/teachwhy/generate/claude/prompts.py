"""Prompt templates as data: ``config/prompts/<dataset>/<step>.md``, front matter then body.

The front matter names the model (a pinned snapshot), the sampling settings, the API path, the
slots the template fills and the shape of the reply; the body is the user message. The engine,
not the template, appends the reply-format instruction, so the parser and the prompt cannot
disagree. A system prompt that starts with ``{constitution}`` may be marked ``cache_system``:
the constitution then goes as its own block with ``cache_control``, the prefix every document
prompt repeats.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from teachwhy import io
from teachwhy.errors import InputError

PROMPTS = "config/prompts"
FRONT_MATTER_KEYS = {
    "model",
    "max_tokens",
    "temperature",
    "typical_output_tokens",
    "api",
    "fills",
    "system",
    "cache_system",
    "output",
}
REQUIRED_KEYS = {"model", "max_tokens", "temperature", "typical_output_tokens", "api", "fills"}
OUTPUT_KINDS = ("text", "lines", "tags", "choice")
_MODEL_ID = re.compile(r"^claude-[a-z0-9-]+$")
VERDICT = "VERDICT:"


@functools.cache
def moving_aliases() -> frozenset[str]:
    """Model ids that name whichever snapshot is current (besides any ``-latest`` id): every
    id that the installed SDK also lists with a date (``claude-sonnet-4-5`` beside
    ``claude-sonnet-4-5-20250929``). Ids from Claude 4.6 on carry no date and are pinned."""
    from typing import get_args

    from anthropic.types import Model

    known = [m for arg in get_args(Model) for m in get_args(arg) if isinstance(m, str)]
    dated = {re.sub(r"-\d{8}$", "", m) for m in known if re.search(r"-\d{8}$", m)}
    return frozenset(dated)


def template_path(template: str) -> str:
    """``<dataset>/<step>`` -> its file under config/prompts."""
    return f"{PROMPTS}/{template}.md"


@dataclass(frozen=True)
class Output:
    """The shape of a reply: ``kind`` is text, lines, tags or choice; ``fields`` what it fills."""

    kind: str
    fields: tuple[str, ...]
    options: tuple[str, ...] = ()

    def instruction(self) -> str:
        """The reply-format instruction appended to the user message ('' for text)."""
        if self.kind == "lines":
            return "Reply with the items only, one per line, with no numbering and no other text."
        if self.kind == "tags":
            parts = "\n".join(f"<{f}>...</{f}>" for f in self.fields)
            return f"Reply with these parts, each inside its tags, and nothing else:\n{parts}"
        if self.kind == "choice":
            options = " or ".join(f"`{VERDICT} {o}`" for o in self.options)
            return f"You may reason briefly first. End your reply with one line: {options}."
        return ""

    def parse(self, reply: str) -> dict[str, Any] | str:
        """The fields a reply fills, or a problem string when it does not fit the shape."""
        if self.kind == "text":
            return {self.fields[0]: reply.strip()} if reply.strip() else "empty reply"
        if self.kind == "lines":
            # A list marker is followed by a space: "3.5 billion" keeps its number.
            items = [
                re.sub(r"^\s*(?:[-*•]|\d+[.)])(?:\s+|$)", "", x).strip() for x in reply.splitlines()
            ]
            items = [x for x in items if x]
            return {self.fields[0]: items} if items else "no lines in the reply"
        if self.kind == "tags":
            out = {}
            for name in self.fields:
                found = re.findall(rf"<{name}>(.*?)</{name}>", reply, flags=re.S)
                if len(found) != 1 or not found[0].strip():
                    return f"<{name}> appears {len(found)} times or is empty"
                out[name] = found[0].strip()
            return out
        # The last verdict line counts; markdown emphasis and a closing full stop are allowed.
        verdicts = re.findall(
            rf"^[\s*_]*{VERDICT}\s*([A-Za-z_-]+)[\s*_.]*$", reply, flags=re.M | re.I
        )
        if not verdicts or verdicts[-1].lower() not in self.options:
            return f"no '{VERDICT} <{'|'.join(self.options)}>' line"
        return {self.fields[0]: verdicts[-1].lower()}


def _parse_output(path: Path, raw: Any) -> Output:
    if not isinstance(raw, dict) or len(set(raw) & set(OUTPUT_KINDS)) != 1:
        raise InputError(path, f"output: one of {{{', '.join(OUTPUT_KINDS)}: ...}} expected")
    kind = next(k for k in OUTPUT_KINDS if k in raw)
    extra = sorted(set(raw) - {kind} - ({"options"} if kind == "choice" else set()))
    if extra:
        raise InputError(path, f"output: unknown keys {extra} for a {kind} output")
    value = raw[kind]
    if kind == "tags":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise InputError(path, "output.tags: a list of field names expected")
        return Output(kind, tuple(value))
    if not isinstance(value, str) or not value:
        raise InputError(path, f"output.{kind}: a field name expected")
    if kind == "choice":
        options = raw.get("options")
        if not isinstance(options, list) or len(options) < 2:
            raise InputError(path, "output.options: a choice needs at least two options")
        if not all(isinstance(o, str) and re.fullmatch(r"[A-Za-z_-]+", o) for o in options):
            raise InputError(path, "output.options: single words (letters, _ or -)")
        return Output(kind, (value,), tuple(o.lower() for o in options))
    return Output(kind, (value,))


def _slots(path: Path, text: str, where: str) -> set[str]:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise InputError(path, f"{where}: {exc} (write a literal brace as {{{{ or }}}})") from None
    slots = set()
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or spec or conversion:
            raise InputError(path, f"{where}: '{{{name}}}' is not a plain slot name")
        slots.add(name)
    return slots


@dataclass(frozen=True)
class Prompt:
    """One step's template, checked: every slot it uses is in ``fills`` and nothing more."""

    path: Path
    sha256: str
    model: str
    max_tokens: int
    temperature: float
    typical_output_tokens: int
    api: str
    fills: tuple[str, ...]
    system: str | None
    cache_system: bool
    output: Output
    body: str

    def render(self, slots: dict[str, Any]) -> dict[str, Any]:
        """The Messages API request for one item (``slots`` must give every fill)."""
        missing = [f for f in self.fills if f not in slots]
        if missing:
            raise InputError(self.path, f"the step gives no value for {missing}")
        values = {f: str(slots[f]) for f in self.fills}
        user = self.body.format_map(values).strip()
        footer = self.output.instruction()
        params: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "messages": [{"role": "user", "content": f"{user}\n\n{footer}" if footer else user}],
        }
        if self.system is not None:
            if self.cache_system:
                rest = self.system[len("{constitution}") :].format_map(values).strip()
                blocks = [
                    {
                        "type": "text",
                        "text": values["constitution"],
                        "cache_control": {"type": "ephemeral"},
                    }
                ]
                params["system"] = blocks + ([{"type": "text", "text": rest}] if rest else [])
            else:
                params["system"] = self.system.format_map(values).strip()
        return params


def load_prompt(path: str | Path) -> Prompt:
    """Read and check one template; every problem names the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "prompt template is missing")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 (byte {exc.start})") from None
    if not text.startswith("---\n") or text.count("---\n") < 2:
        raise InputError(path, "must start with YAML front matter between '---' lines", 1)
    _, front, body = text.split("---\n", 2)
    try:
        meta = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        raise InputError(path, f"front matter is not YAML ({exc})") from None
    if not isinstance(meta, dict):
        raise InputError(path, "front matter must be a mapping")
    unknown = sorted(set(meta) - FRONT_MATTER_KEYS)
    if unknown:
        raise InputError(path, f"unknown front matter keys {unknown}")
    missing = sorted(REQUIRED_KEYS - set(meta))
    if missing:
        raise InputError(path, f"front matter lacks {missing}")
    if not isinstance(meta["model"], str) or not _MODEL_ID.match(meta["model"]):
        raise InputError(path, f"model: '{meta['model']}' is not a Claude model id")
    if meta["model"] in moving_aliases() or meta["model"].endswith("-latest"):
        raise InputError(
            path, f"model: '{meta['model']}' is an alias that moves; name its dated snapshot"
        )
    for key in ("max_tokens", "typical_output_tokens"):
        if not isinstance(meta[key], int) or isinstance(meta[key], bool) or meta[key] < 1:
            raise InputError(path, f"{key}: a positive integer expected")
    temperature = meta["temperature"]
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        raise InputError(path, "temperature: a number from 0 to 1 expected")
    if not 0 <= temperature <= 1:
        raise InputError(path, "temperature: a number from 0 to 1 expected")
    if meta["api"] not in ("batch", "direct"):
        raise InputError(path, "api: 'batch' or 'direct' expected")
    fills = meta["fills"]
    if not isinstance(fills, list) or not all(isinstance(f, str) for f in fills):
        raise InputError(path, "fills: a list of slot names expected")
    system = meta.get("system")
    if system is not None and not isinstance(system, str):
        raise InputError(path, "system: a string expected")
    used = _slots(path, body, "body") | (_slots(path, system, "system") if system else set())
    if used != set(fills):
        raise InputError(
            path,
            f"fills {sorted(fills)} but the template uses {sorted(used)}: unlisted "
            f"{sorted(used - set(fills))}, unused {sorted(set(fills) - used)}",
        )
    cache = meta.get("cache_system", False)
    if not isinstance(cache, bool):
        raise InputError(path, "cache_system: true or false expected")
    if cache and not (system or "").startswith("{constitution}"):
        raise InputError(path, "cache_system: the system prompt must start with {constitution}")
    return Prompt(
        path=path,
        sha256=io.sha256_text(text),
        model=meta["model"],
        max_tokens=meta["max_tokens"],
        temperature=float(meta["temperature"]),
        typical_output_tokens=meta["typical_output_tokens"],
        api=meta["api"],
        fills=tuple(fills),
        system=system,
        cache_system=cache,
        output=_parse_output(path, meta.get("output", {"text": "reply"})),
        body=body,
    )
