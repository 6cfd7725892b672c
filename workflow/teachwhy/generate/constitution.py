"""The project's constitution (``config/constitution.md``): a persona and principled sections.

Format: YAML front matter with ``persona`` and ``title``, then one ``## Heading`` per section,
each with one ``Principle:`` paragraph and at least one ``Why:`` paragraph. The datasets that
teach the "why" (deliberation, difficult advice, documents, stories) quote or paraphrase these
sections, and records name the section they draw on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from teachwhy.errors import InputError

_FIELD = re.compile(r"^(Principle|Why):\s*(.*)$")


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    principle: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Constitution:
    persona: str
    title: str
    sections: tuple[Section, ...]

    def section(self, section_id: str) -> Section:
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(section_id)


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


def _front_matter(path: Path, lines: list[str]) -> tuple[dict, int]:
    if not lines or lines[0].strip() != "---":
        raise InputError(
            path, "must start with YAML front matter ('---', persona, title, '---')", 1
        )
    try:
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        raise InputError(path, "front matter is not closed with '---'", 1) from None
    meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    for key in ("persona", "title"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            raise InputError(path, f"front matter needs a non-empty '{key}'", 1)
    return meta, end + 1


def load(path: str | Path) -> Constitution:
    """Parse and check the constitution; errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "constitution file is missing")
    lines = path.read_text(encoding="utf-8").splitlines()
    meta, body_start = _front_matter(path, lines)
    sections: list[Section] = []
    current: dict | None = None

    def close() -> None:
        if current is None:
            return
        if not current["principle"]:
            raise InputError(
                path, f"section '{current['title']}' has no 'Principle:'", current["line"]
            )
        if not current["reasons"]:
            raise InputError(path, f"section '{current['title']}' gives no 'Why:'", current["line"])
        sections.append(
            Section(
                slug(current["title"]),
                current["title"],
                " ".join(current["principle"]),
                tuple(" ".join(r) for r in current["reasons"]),
            )
        )

    field: list[str] | None = None
    for lineno, line in enumerate(lines[body_start:], start=body_start + 1):
        if line.startswith("## "):
            close()
            current = {"title": line[3:].strip(), "line": lineno, "principle": [], "reasons": []}
            field = None
            continue
        if current is None:
            continue  # the title and preamble
        match = _FIELD.match(line.strip())
        if match:
            kind, text = match.groups()
            if kind == "Principle":
                if current["principle"]:
                    raise InputError(path, "a section has one 'Principle:'", lineno)
                field = current["principle"]
            else:
                field = []
                current["reasons"].append(field)
            field.append(text.strip())
        elif line.strip() and field is not None:
            field.append(line.strip())
        elif not line.strip():
            field = None
    close()
    if not sections:
        raise InputError(path, "has no sections ('## Heading' with 'Principle:' and 'Why:')")
    ids = [s.id for s in sections]
    if len(set(ids)) != len(ids):
        raise InputError(path, f"two sections share a heading: {sorted(ids)}")
    return Constitution(meta["persona"].strip(), meta["title"].strip(), tuple(sections))


def load_any(path: str | Path, persona: str = "Claude") -> Constitution:
    """This project's format when the file is in it; otherwise any Markdown or plain text
    (the published constitution, the companion paper's spec files): each ``#``/``##`` heading
    opens a section whose first paragraph is its principle and the rest its reasons, and a
    file without headings is one section. The paper world reads constitutions this way."""
    path = Path(path)
    try:
        return load(path)
    except InputError:
        pass
    if not path.is_file():
        raise InputError(path, "constitution file is missing")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 (byte {exc.start})") from None
    blocks = re.split(r"^#{1,3} +(.+)$", text, flags=re.M)
    title = path.stem
    found: list[tuple[str, str]] = []
    if blocks[0].strip():
        found.append((title, blocks[0]))
    for heading, body in zip(blocks[1::2], blocks[2::2], strict=True):
        if body.strip():
            found.append((heading.strip(), body))
    if not found:
        raise InputError(path, "holds no text")
    sections, seen = [], set()
    for heading, body in found:
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", body) if p.strip()]
        base, n = slug(heading) or "section", 2
        ident = base
        while ident in seen:
            ident, n = f"{base}_{n}", n + 1
        seen.add(ident)
        sections.append(Section(ident, heading, paragraphs[0], tuple(paragraphs[1:]) or ("",)))
    return Constitution(persona, title, tuple(sections))
