"""Training datasets taken from the Hugging Face Hub at a pinned commit instead of generated.

A config entry ``{source: hub, repo, revision, split, fields, limit?}`` names a dataset repo, a
40-hex commit id and a split; ``fields`` maps the record schema onto the dataset's columns in one
of three shapes: ``{messages: COL}``, ``{text: COL}`` or ``{prompt: COL, response: COL}`` (with an
optional ``system: COL``). Rows become records like a generator's, and the provenance hashes every
file of the snapshot so a rerun can show it read the same bytes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from teachwhy import io
from teachwhy.errors import InputError
from teachwhy.generate.families.common import Record, finish_record
from teachwhy.schemas import validate
from teachwhy.seeds import derive_seed

COMMIT_RE = re.compile(r"[0-9a-f]{40}")

# The accepted ``fields`` shapes, by their set of keys.
FIELD_SHAPES: tuple[frozenset[str], ...] = (
    frozenset({"messages"}),
    frozenset({"text"}),
    frozenset({"prompt", "response"}),
    frozenset({"prompt", "response", "system"}),
)

_TRUE = {"1", "true", "yes", "on"}


def _offline() -> bool:
    """Whether downloads are off; read at call time, as huggingface_hub reads its own at import."""
    return any(
        os.environ.get(var, "").strip().lower() in _TRUE
        for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    )


def _env_dir(var: str) -> str | None:
    """A cache folder from the environment now: huggingface_hub and datasets freeze theirs when
    first imported, which may be before the caller set it."""
    return os.environ.get(var) or None


def _spec_value(name: str, spec: dict[str, Any], key: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(
            f"datasets.{name}.{key}", "missing (a hub dataset needs a non-empty string)"
        )
    return value


def _fields(name: str, spec: dict[str, Any]) -> dict[str, str]:
    fields = spec.get("fields")
    shapes = " or ".join("{" + ", ".join(sorted(s)) + "}" for s in FIELD_SHAPES)
    if (
        not isinstance(fields, dict)
        or frozenset(fields) not in FIELD_SHAPES
        or not all(isinstance(col, str) and col for col in fields.values())
    ):
        raise InputError(
            f"datasets.{name}.fields", f"must map one of {shapes} to column names, not {fields!r}"
        )
    return dict(fields)


def _snapshot(name: str, repo: str, revision: str) -> Path:
    """The local snapshot folder of ``repo`` at ``revision``, downloading it unless offline."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    offline = _offline()
    cache = _env_dir("HF_HUB_CACHE")
    try:
        folder = snapshot_download(
            repo_id=repo,
            repo_type="dataset",
            revision=revision,
            cache_dir=cache,
            local_files_only=offline,
        )
    except HFValidationError as exc:
        raise InputError(f"datasets.{name}.repo", f"not a hub repo id ({exc})") from None
    except LocalEntryNotFoundError:
        if cache is None:
            from huggingface_hub import constants

            cache = constants.HF_HUB_CACHE
        why = (
            "downloads are off (HF_HUB_OFFLINE / HF_DATASETS_OFFLINE)"
            if offline
            else "the Hub could not be reached"
        )
        raise InputError(
            f"datasets.{name}",
            f"hub dataset '{repo}' at revision {revision} is not in the local Hugging Face cache "
            f"(HF_HUB_CACHE={cache}) and {why}; it must be in that cache: download it once with "
            f"`hf download {repo} --repo-type dataset --revision {revision}`",
        ) from None
    except RevisionNotFoundError:
        raise InputError(
            f"datasets.{name}.revision", f"no commit {revision} in hub dataset '{repo}'"
        ) from None
    except RepositoryNotFoundError:
        raise InputError(
            f"datasets.{name}.repo",
            f"no hub dataset '{repo}' (or it is private or gated: log in with `hf auth login`)",
        ) from None
    except HfHubHTTPError as exc:
        raise InputError(f"datasets.{name}.repo", f"the Hub refused '{repo}': {exc}") from None
    return Path(folder)


def _load_split(name: str, repo: str, folder: Path, split: str) -> Any:
    import datasets

    cache = _env_dir("HF_DATASETS_CACHE")
    try:
        return datasets.load_dataset(str(folder), split=split, cache_dir=cache)
    except FileNotFoundError as exc:  # datasets' "no (supported) data files" errors
        raise InputError(
            f"datasets.{name}.repo", f"'{repo}' has no loadable data ({exc})"
        ) from None
    except ValueError:
        # Only an unknown split is the user's to fix here; anything else is a real bug.
        splits = datasets.get_dataset_split_names(str(folder), cache_dir=cache)
        if split in splits:
            raise
        raise InputError(
            f"datasets.{name}.split", f"no split '{split}' in '{repo}' (splits: {sorted(splits)})"
        ) from None


def _string(name: str, key: str, col: str, index: int, value: object) -> str:
    if not isinstance(value, str):
        raise InputError(
            f"datasets.{name}.fields.{key}",
            f"row {index}: column '{col}' holds {type(value).__name__}, not a string",
        )
    return value


def _messages(name: str, col: str, index: int, value: object) -> list[dict[str, str]]:
    where = f"datasets.{name}.fields.messages"
    if not isinstance(value, list):
        raise InputError(
            where, f"row {index}: column '{col}' holds {type(value).__name__}, not a list"
        )
    out = []
    for turn, message in enumerate(value):
        if not (
            isinstance(message, dict)
            and isinstance(message.get("role"), str)
            and isinstance(message.get("content"), str)
        ):
            raise InputError(
                where,
                f"row {index}: message {turn} of column '{col}' is not a {{role, content}} "
                f"pair of strings: {message!r}",
            )
        # Arrow structs carry every key seen in any row (as None elsewhere): keep the schema's two.
        out.append({"role": message["role"], "content": message["content"]})
    return out


def _body(name: str, fields: dict[str, str], index: int, row: dict[str, Any]) -> Record:
    if "messages" in fields:
        body: Record = {
            "messages": _messages(name, fields["messages"], index, row[fields["messages"]])
        }
    elif "text" in fields:
        body = {"text": _string(name, "text", fields["text"], index, row[fields["text"]])}
    else:
        messages = []
        system = row[fields["system"]] if "system" in fields else None
        # A null or empty system column means "no system prompt" for that row.
        if system is not None and system != "":
            messages.append(
                {
                    "role": "system",
                    "content": _string(name, "system", fields["system"], index, system),
                }
            )
        for key, role in (("prompt", "user"), ("response", "assistant")):
            content = _string(name, key, fields[key], index, row[fields[key]])
            messages.append({"role": role, "content": content})
        body = {"messages": messages}
    body["meta"] = {"hub_row": index}
    return body


def load_hub_records(
    name: str, spec: dict[str, Any], seed: int
) -> tuple[list[Record], dict[str, Any]]:
    """The records of hub dataset ``datasets.<name>`` (``spec``) and their provenance:
    ``{repo, revision, split, fields, rows, files: {relative path: sha256}}``.

    Offline (``HF_HUB_OFFLINE`` or ``HF_DATASETS_OFFLINE`` set) the snapshot must already be in
    the local Hugging Face cache. Every problem is an InputError naming the config key.
    """
    repo = _spec_value(name, spec, "repo")
    revision = _spec_value(name, spec, "revision")
    split = _spec_value(name, spec, "split")
    # A branch or tag can move to other data between runs; only a commit id names fixed bytes.
    if not COMMIT_RE.fullmatch(revision):
        raise InputError(
            f"datasets.{name}.revision",
            f"'{revision}' is not a 40-hex commit id; a branch or tag can move, so pin the commit",
        )
    fields = _fields(name, spec)
    limit = spec.get("limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise InputError(f"datasets.{name}.limit", f"must be a positive integer, not {limit!r}")

    folder = _snapshot(name, repo, revision)
    table = _load_split(name, repo, folder, split)
    for key, col in fields.items():
        if col not in table.column_names:
            raise InputError(
                f"datasets.{name}.fields.{key}",
                f"no column '{col}' in '{repo}' split '{split}' (columns: {table.column_names})",
            )
    # Read only the mapped columns, and only the first ``limit`` rows.
    table = table.select_columns(sorted(set(fields.values())))
    if limit is not None and limit < len(table):
        table = table.select(range(limit))

    source = f"hub:{repo}"
    records = []
    for index, row in enumerate(table):
        record = finish_record(name, source, index, seed, _body(name, fields, index, row))
        validate(record, "record", f"datasets.{name} (row {index} of '{repo}')")
        records.append(record)

    files = {
        path.relative_to(folder).as_posix(): io.sha256_file(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file()  # follows the cache's symlinks into blobs/
    }
    provenance = {
        "repo": repo,
        "revision": revision,
        "split": split,
        "fields": fields,
        "rows": len(records),
        "files": files,
    }
    return records, provenance


def write_hub_dataset(
    name: str, spec: dict[str, Any], seed: int, out: str | Path, manifest_out: str | Path
) -> dict[str, Any]:
    """Write a hub dataset's records and a manifest naming the repo, the commit and the hash of
    every file read."""
    own_seed = derive_seed(seed, "dataset", name)
    records, provenance = load_hub_records(name, spec, own_seed)
    if not records:
        raise InputError(f"datasets.{name}", f"'{spec['repo']}' split '{spec['split']}' is empty")
    io.write_jsonl(out, records)
    manifest = {
        "dataset": name,
        "kind": "training",
        "world": "paper",
        "generator": "hub",
        "seed": own_seed,
        "records": len(records),
        "tokens": sum(r["tokens"] for r in records),
        "token_counter": "words-and-punctuation",
        "sha256": io.sha256_file(out),
        "hub": provenance,
    }
    io.write_json(manifest_out, manifest)
    return manifest
