"""The README and docs/: short, every relative link resolves, nothing points outside the repo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_README_LINES = 130

# [text](target) and ![alt](target); reference-style links are not used in these pages.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, s3:, ...
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
# An absolute path (/home/..., ~/...) or a path that climbs out of the repository (../x) in
# the prose or code of a page; a slash between words (tokens/s, and/or) is not one.
OUTSIDE_PATH = re.compile(r"(?<![\w.~$}/\-])(?:/[A-Za-z_][\w.-]*/|~/|(?:\.\./)+)")


def pages() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.MULTILINE | re.DOTALL)
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*$", text, re.MULTILINE)}


def link_problems(page: Path, text: str | None = None) -> list[str]:
    """Every relative link of ``page`` (its text, or ``text`` as if it were there) that leaves
    the repository or names no file or heading in it."""
    problems = []
    for target in LINK.findall(page.read_text() if text is None else text):
        if EXTERNAL.match(target):
            continue
        where, _, anchor = target.partition("#")
        if where.startswith("/"):
            problems.append(f"{target}: absolute path")
            continue
        resolved = (page.parent / where).resolve() if where else page
        if not resolved.is_relative_to(ROOT):
            problems.append(f"{target}: outside the repository")
        elif not resolved.exists():
            problems.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            problems.append(f"{target}: no heading #{anchor} in {resolved.name}")
    return problems


def path_problems(page: Path) -> list[str]:
    """Absolute paths or paths above the repository root named in ``page``'s text."""
    text = LINK.sub(lambda m: m.group(0).replace(m.group(1), ""), page.read_text())
    text = URL.sub("", text)
    return [
        f"line {text.count(chr(10), 0, m.start()) + 1}: {m.group(0)!r}"
        for m in OUTSIDE_PATH.finditer(text)
    ]


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_resolve_inside_the_repository(page):
    assert link_problems(page) == []


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_path_outside_the_repository(page):
    assert path_problems(page) == []


def test_readme_is_short_and_links_every_docs_page():
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines"
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in LINK.findall(README.read_text())}
    unlinked = [p.name for p in pages()[1:] if p.resolve() not in linked]
    assert unlinked == [], f"docs pages the README does not link: {unlinked}"


def test_checks_catch_broken_and_escaping_links(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    page = docs / "page.md"
    page.write_text(
        "[ok](../README.md) [gone](missing.md) [up](../../elsewhere/DESIGN.md) "
        "[abs](/etc/passwd) [anchor](../README.md#no-such-heading) [web](https://example.org)\n"
        "See `../shared/DESIGN.md` and `/home/someone/run`; tokens/s is fine.\n"
    )
    # Resolved as if the page lived in this repository's docs/.
    problems = link_problems(ROOT / "docs" / "page.md", text=page.read_text())
    assert [p.split(":")[0] for p in problems] == [
        "missing.md",
        "../../elsewhere/DESIGN.md",
        "/etc/passwd",
        "../README.md#no-such-heading",
    ]
    assert len(path_problems(page)) == 2
