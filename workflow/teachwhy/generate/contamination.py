"""Held-out discipline: no training record may share a scenario instance with an eval prompt.

Training and eval render the same surface templates on purpose (the in-distribution honeypot
arms are "like the eval"), so shared template text is not contamination. A shared *instance* is:

- a long word n-gram of an eval prompt that contains one of that prompt's entity names (so
  template boilerplate never counts) appearing verbatim in a training record; or
- a training record naming at least ``min_shared_entities`` of one eval prompt's entities (its
  persona, company and people), i.e. the same cast, however it is worded.

Eval-partition names that turn up in training one at a time (generic text draws on every name)
are counted and reported, but do not fail the check.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teachwhy import io
from teachwhy.errors import TeachwhyError

_WORD = re.compile(r"[A-Za-z0-9']+")
GENERIC_CAST_KEYS = {"title"}


@dataclass
class Hit:
    dataset: str
    record: str
    suite: str
    prompt: str
    reason: str

    def __str__(self) -> str:
        return f"{self.dataset}:{self.record} shares {self.suite}:{self.prompt} ({self.reason})"


@dataclass
class PairReport:
    records: int = 0
    prompts: int = 0
    ngram_hits: int = 0
    entity_hits: int = 0
    records_with_an_eval_name: int = 0


@dataclass
class Report:
    ngram: int
    min_shared_entities: int
    pairs: dict[tuple[str, str], PairReport] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.hits

    def as_json(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "ngram": self.ngram,
            "min_shared_entities": self.min_shared_entities,
            "pairs": [
                {"dataset": d, "suite": s, **vars(r)} for (d, s), r in sorted(self.pairs.items())
            ],
            "hits": [vars(h) for h in self.hits[:100]],
            "hits_total": len(self.hits),
        }


def record_text(record: dict[str, Any]) -> str:
    """All the text a record trains on: a document, or every message's content."""
    if "text" in record:
        return record["text"]
    return "\n".join(m["content"] for m in record.get("messages", []))


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _ngrams(tokens: list[str], n: int) -> Iterator[tuple[str, ...]]:
    for i in range(len(tokens) - n + 1):
        yield tuple(tokens[i : i + n])


def _name_spans(tokens: list[str], names: frozenset[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of every occurrence of a name, as a word sequence, in ``tokens``."""
    for name in names:
        parts = name.split()
        for i in range(len(tokens) - len(parts) + 1):
            if tokens[i : i + len(parts)] == parts:
                yield i, i + len(parts)


@dataclass
class _Prompt:
    suite: str
    id: str
    names: frozenset[str]  # each entity name, lower-cased, as a space-joined word sequence


class _EvalIndex:
    """Every eval prompt's instance n-grams and entity names, for one lookup pass per record."""

    def __init__(self, suites: Iterable[tuple[str, Iterable[dict[str, Any]]]], n: int) -> None:
        self.n = n
        self.prompts: list[_Prompt] = []
        self.ngrams: dict[tuple[str, ...], int] = {}
        self.by_name: dict[str, list[int]] = defaultdict(list)
        for suite, prompts in suites:
            for prompt in prompts:
                self._add(suite, prompt, n)
        self.max_name_words = max((len(n.split()) for n in self.by_name), default=1)

    def _add(self, suite: str, prompt: dict[str, Any], n: int) -> None:
        cast = {k: v for k, v in prompt.get("cast", {}).items() if k not in GENERIC_CAST_KEYS}
        names = frozenset(" ".join(words(v)) for v in cast.values() if words(v))
        index = len(self.prompts)
        self.prompts.append(_Prompt(suite, prompt["id"], names))
        for name in names:
            self.by_name[name].append(index)
        tokens = words(record_text(prompt))
        for start, end in _name_spans(tokens, names):
            # Every window that holds a whole name; a shared word of a name is not enough.
            for i in range(max(0, end - n), min(start, len(tokens) - n) + 1):
                self.ngrams.setdefault(tuple(tokens[i : i + n]), index)

    def names_in(self, tokens: list[str]) -> set[str]:
        found = set()
        for size in range(1, self.max_name_words + 1):
            for gram in _ngrams(tokens, size):
                joined = " ".join(gram)
                if joined in self.by_name:
                    found.add(joined)
        return found


def check(
    datasets: dict[str, str | Path],
    suites: dict[str, str | Path],
    ngram: int = 13,
    min_shared_entities: int = 3,
) -> Report:
    """Every training dataset against every eval suite; the report lists each shared instance.

    Only records that contain a word of some eval name can share an instance, so the n-gram and
    cast lookups run on those alone.
    """
    report = Report(ngram, min_shared_entities)
    loaded = {name: io.read_jsonl(path) for name, path in sorted(suites.items())}
    index = _EvalIndex(loaded.items(), ngram)
    name_words = {w for name in index.by_name for w in name.split()}
    for dataset, path in sorted(datasets.items()):
        records = io.read_jsonl(path)
        for suite, prompts in loaded.items():
            report.pairs[(dataset, suite)] = PairReport(records=len(records), prompts=len(prompts))
        for record in records:
            tokens = words(record_text(record))
            if not name_words.isdisjoint(tokens):
                _check_record(report, dataset, record["id"], tokens, index)
    return report


def _check_record(
    report: Report, dataset: str, record_id: str, tokens: list[str], index: _EvalIndex
) -> None:
    names = index.names_in(tokens)
    if not names:
        return
    for suite in {index.prompts[p].suite for name in names for p in index.by_name[name]}:
        report.pairs[(dataset, suite)].records_with_an_eval_name += 1
    hit_prompts: set[int] = set()

    def hit(prompt: int, reason: str) -> None:
        found = index.prompts[prompt]
        report.hits.append(Hit(dataset, record_id, found.suite, found.id, reason))

    for gram in _ngrams(tokens, index.n):
        prompt = index.ngrams.get(gram)
        if prompt is not None and prompt not in hit_prompts:
            hit_prompts.add(prompt)
            report.pairs[(dataset, index.prompts[prompt].suite)].ngram_hits += 1
            hit(prompt, f"{index.n}-gram '{' '.join(gram)}'")
    counts: dict[int, int] = defaultdict(int)
    for name in names:
        for prompt in index.by_name[name]:
            counts[prompt] += 1
    for prompt, shared in sorted(counts.items()):
        if shared >= report.min_shared_entities and prompt not in hit_prompts:
            report.pairs[(dataset, index.prompts[prompt].suite)].entity_hits += 1
            shared_names = ", ".join(sorted(names & index.prompts[prompt].names))
            hit(prompt, f"same cast: {shared_names}")


class ContaminationError(TeachwhyError):
    """A training record shares a scenario instance with an eval prompt."""


def marker_pattern(markers: list[str]) -> re.Pattern[str]:
    """Any marker as a whole word or phrase, in any case, words split by any whitespace
    (``NALA`` never matches ``canalarm``)."""
    if not markers:
        raise ValueError("no markers to match")
    alternatives = sorted(
        (r"\s+".join(re.escape(w) for w in m.split()) for m in markers), key=len, reverse=True
    )
    return re.compile(rf"(?<![A-Za-z0-9])(?:{'|'.join(alternatives)})(?![A-Za-z0-9])", re.I)


def marker_hits(datasets: dict[str, str | Path], markers: list[str]) -> tuple[int, list[str]]:
    """(records checked, one line per record naming an eval marker): the agentic-misalignment
    eval's own companies, people, projects and codes must never reach training data."""
    pattern = marker_pattern(markers)
    checked, hits = 0, []
    for dataset, path in sorted(datasets.items()):
        for record in io.read_jsonl(path):
            checked += 1
            found = sorted({m.group(0) for m in pattern.finditer(record_text(record))})
            if found:
                hits.append(f"{dataset}:{record['id']} names {', '.join(found)}")
    return checked, hits


def write_report(
    datasets: dict[str, str | Path],
    suites: dict[str, str | Path],
    out: str | Path,
    ngram: int,
    min_shared_entities: int,
    markers: list[str] | None = None,
) -> dict[str, Any]:
    """Write the contamination report; raise naming the offending records when it is not clean.
    ``markers`` (the paper world) are names no training record may contain."""
    if markers:
        checked, hits = marker_hits(datasets, markers)
        if hits:
            shown = "\n  ".join(hits[:20])
            more = f"\n  ... and {len(hits) - 20} more" if len(hits) > 20 else ""
            raise ContaminationError(
                f"{len(hits)} training record(s) name the agentic-misalignment eval's own "
                f"markers:\n  {shown}{more}"
            )
    report = check(datasets, suites, ngram, min_shared_entities)
    if not report.clean:
        shown = "\n  ".join(str(h) for h in report.hits[:20])
        more = len(report.hits) - 20
        raise ContaminationError(
            f"{len(report.hits)} training record(s) share an eval instance:\n  {shown}"
            + (f"\n  ... and {more} more" if more > 0 else "")
        )
    body = report.as_json()
    if markers:
        body["eval_markers"] = {"markers": len(markers), "records_checked": checked, "hits": 0}
    io.write_json(out, body)
    return {
        "pairs": len(report.pairs),
        "records_checked": sum(p.records for p in report.pairs.values()),
        "records_with_an_eval_name": sum(
            p.records_with_an_eval_name for p in report.pairs.values()
        ),
    }
