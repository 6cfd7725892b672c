"""Running the paper world's generation: one job per pipeline step, one per dataset.

A step job plans its items, renders each through its template, gets the answers from the
response cache or from Claude (Message Batches for ``api: batch`` templates, the Messages API
otherwise), parses and checks them, and writes every item (kept or not, with the reason) and a
manifest of what it cost. A dataset job builds records from its steps' kept items. Each step's
fingerprint (its template, its dataset's spec, the seed, the shared files it reads and its
parents' fingerprints) indexes the request keys it used, so whether a run can finish from the
cache alone, with no API key, is known before any job starts.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from teachwhy import io
from teachwhy.errors import InputError, TeachwhyError
from teachwhy.generate.claude.pipelines import (
    DATASET_PLANS,
    STEPS,
    Item,
    PlanContext,
    dataset_steps,
    step_owner,
)
from teachwhy.generate.claude.prompts import Prompt, load_prompt, template_path
from teachwhy.generate.claude.requests import (
    ApiError,
    Ledger,
    Prices,
    Requester,
    ResponseCache,
    request_key,
)
from teachwhy.generate.constitution import load_any as load_constitution
from teachwhy.generate.contamination import marker_pattern
from teachwhy.generate.families.common import finish_record
from teachwhy.schemas import load_yaml, problems, project_path
from teachwhy.seeds import derive_seed

GENERATOR = "anthropic"
KEY_VARIABLE = "ANTHROPIC_API_KEY"
# The generation settings that decide which answers a step keeps (the rest only decide how
# the requests are sent and paid for).
ANSWER_SETTINGS = ("on_max_tokens",)


class MissingKey(TeachwhyError):
    """Requests must be sent and ANTHROPIC_API_KEY is not set."""


def step_dir(world: str) -> str:
    return f"results/data/{world}/steps"


def step_items_path(world: str, step_id: str) -> str:
    return f"{step_dir(world)}/{step_id}.jsonl"


def step_manifest_path(world: str, step_id: str) -> str:
    return f"{step_dir(world)}/{step_id}.manifest.json"


def load_prices(path: str | Path) -> dict[str, Prices]:
    """The dated price table (dollars per million tokens per model)."""
    table = load_yaml(path)
    if not isinstance(table, dict) or not isinstance(table.get("models"), dict):
        raise InputError(path, "a price table needs 'models:' (model id -> prices)")
    if "read_on" not in table:
        raise InputError(path, "read_on: the date the prices were read is required")
    discount = table.get("batch_discount", 0.5)
    prices = {}
    for model, row in table["models"].items():
        try:
            prices[model] = Prices(
                input=float(row["input"]),
                output=float(row["output"]),
                cache_write=float(row["cache_write"]),
                cache_read=float(row["cache_read"]),
                batch_discount=float(discount),
            )
        except (KeyError, TypeError, ValueError):
            raise InputError(
                path, f"models.{model}: input, output, cache_write and cache_read in $/MTok"
            ) from None
    return prices


@dataclass(frozen=True)
class Shared:
    """The shared inputs of a step: the constitution (text and sections), the deliberation
    styles and the names generated data must never use."""

    constitution: str = ""
    sections: tuple[dict[str, str], ...] = ()
    styles: dict[str, str] | None = None
    markers: tuple[str, ...] = ()

    @classmethod
    def load(cls, files: dict[str, str | Path]) -> Shared:
        kwargs: dict[str, Any] = {}
        if "constitution" in files:
            path = project_path(str(files["constitution"]))
            parsed = load_constitution(path)
            kwargs["constitution"] = path.read_text(encoding="utf-8")
            kwargs["sections"] = tuple(
                {
                    "id": s.id,
                    "title": s.title,
                    "text": "\n\nWhy: ".join([s.principle, *[r for r in s.reasons if r]]),
                }
                for s in parsed.sections
            )
        if "styles" in files:
            styles = load_yaml(files["styles"])
            if not isinstance(styles, dict) or not isinstance(styles.get("styles"), dict):
                raise InputError(files["styles"], "styles: a mapping of style -> instruction")
            kwargs["styles"] = {str(k): str(v or "") for k, v in styles["styles"].items()}
        if "markers" in files:
            kwargs["markers"] = tuple(load_markers(files["markers"]))
        return cls(**kwargs)

    def slots(self) -> dict[str, str]:
        return {"constitution": self.constitution, "avoid_names": ", ".join(self.markers)}


def load_markers(path: str | Path) -> list[str]:
    """The agentic-misalignment eval's own names (companies, people, projects, codes)."""
    data = load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("markers"), dict):
        raise InputError(path, "markers: a mapping of kind -> list of names")
    names = []
    for kind, values in data["markers"].items():
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise InputError(path, f"markers.{kind}: a list of names")
        names.extend(values)
    if not names:
        raise InputError(path, "markers: no names (the check would have nothing to look for)")
    return names


def shared_files(config: dict[str, Any]) -> dict[str, str]:
    """The shared input files of the generation steps, by name."""
    generation = config["generation"]
    return {
        "constitution": config["constitution"],
        "styles": generation["styles"],
        "markers": generation["markers"],
    }


def spent(config: dict[str, Any]) -> float:
    """Dollars the run's ledger holds so far (0 before the first paid answer)."""
    root = Path(config["generation"]["cache"]) / "ledger"
    total = 0.0
    for path in sorted(root.glob("*.jsonl")) if root.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                total += json.loads(line)["usd"]
            except (ValueError, KeyError):
                continue  # a line still being written
    return total


# Where answers are cached, what they cost, how requests are sent and capped: none of it
# changes which answers a step keeps, so a change reruns no job.
SENDING_KEYS = (
    "cache",
    "prices",
    "budget_usd",
    "api",
    "concurrency",
    "max_retries",
    "timeout_seconds",
    "poll_seconds",
    "max_poll_seconds",
    "batch_rounds",
)
_RESOURCE_PREFIX = "claude_"


def sending_resources(generation: dict[str, Any]) -> dict[str, str]:
    """The sending settings as a step job's resources (strings: Snakemake takes ints or str)."""
    return {f"{_RESOURCE_PREFIX}{k}": str(generation[k]) for k in SENDING_KEYS}


def sending_settings(resources: Any) -> dict[str, Any]:
    """The sending settings back from a job's resources, typed as the schema has them."""
    types = {"cache": str, "prices": str, "api": str, "concurrency": int, "max_retries": int}
    types["batch_rounds"] = int
    return {
        k: types.get(k, float)(getattr(resources, f"{_RESOURCE_PREFIX}{k}")) for k in SENDING_KEYS
    }


def fingerprint(
    step_id: str,
    spec: dict[str, Any],
    seed: int,
    shared_files: dict[str, str],
    answer_settings: dict[str, Any],
    parents: list[str],
) -> str:
    """The hash of everything that decides a step's requests and which answers it keeps.
    ``shared_files`` maps each shared input the step reads to its file's sha256; ``parents``
    are the parents' fingerprints."""
    step = STEPS[step_id]
    blob = {
        "step": step_id,
        "template": io.sha256_file(project_path(template_path(step.prompt))),
        "spec": spec,
        "seed": seed,
        "shared": {k: shared_files[k] for k in step.reads},
        "settings": answer_settings,
        "parents": parents,
    }
    return io.sha256_text(json.dumps(blob, sort_keys=True, default=str))


def plan_context(
    step_id: str, spec: dict[str, Any], parents: dict[str, list[Item]], seed: int, shared: Shared
) -> PlanContext:
    """What a step plans from; its random stream is seeded by the config seed and its id."""
    return PlanContext(
        spec=spec,
        parents=parents,
        rng=random.Random(derive_seed(seed, "step", step_id)),
        constitution=shared.constitution,
        sections=list(shared.sections),
        styles=shared.styles or {},
        avoid_names=shared.markers,
    )


def read_items(path: str | Path) -> list[Item]:
    """A step's items file; a line that is not an item is named."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "step output is missing")
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"not valid JSON ({exc.msg})", line=number) from None
        if not isinstance(item, dict) or "id" not in item or "status" not in item:
            raise InputError(path, "an item needs an id and a status", line=number)
        items.append(item)
    return items


def kept(items: list[Item]) -> list[Item]:
    return [item for item in items if item["status"] == "kept"]


def _text(message: dict[str, Any]) -> str:
    return "".join(b.get("text", "") for b in message["content"] if b.get("type") == "text")


class LazyClient:
    """An ``anthropic.Anthropic`` made on first use: a step whose answers are all cached never
    needs the key, and one that must send requests says so without a traceback."""

    def __init__(self, what: str, max_retries: int, timeout: float) -> None:
        self.what, self.max_retries, self.timeout = what, max_retries, timeout
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            if not os.environ.get(KEY_VARIABLE):
                raise MissingKey(
                    f"{self.what}: requests are not in the response cache and {KEY_VARIABLE} "
                    "is not set; set it in the environment (never in config)"
                )
            import anthropic

            self._client = anthropic.Anthropic(max_retries=self.max_retries, timeout=self.timeout)
        return getattr(self._client, name)


def _requester(generation: dict[str, Any], label: str, client: Any) -> Requester:
    cache = Path(generation["cache"])
    prices = load_prices(project_path(generation["prices"]))
    ledger = Ledger(cache / "ledger", prices, float(generation["budget_usd"]), label)
    return Requester(
        client,
        ResponseCache(cache / "responses"),
        ledger,
        cache / "batches",
        concurrency=generation["concurrency"],
        on_max_tokens=generation["on_max_tokens"],
        poll_seconds=generation["poll_seconds"],
        max_poll_seconds=generation["max_poll_seconds"],
        rounds=generation["batch_rounds"],
    )


def _answer_fields(
    prompt: Prompt, step: Any, item: Item, message: dict | None, markers: re.Pattern[str] | None
) -> Item:
    """An item with its answer parsed in, and its status: kept, or why not. An answer that
    names one of the eval's markers is rejected here, so it never reaches a record."""
    out = dict(item)
    out.pop("model", None)  # a parent's answering model is not this step's
    if message is None:
        out.update(status="no_answer", reason="cut off at max_tokens or not answered")
        return out
    out["model"] = message["model"]
    parsed = prompt.output.parse(_text(message))
    if isinstance(parsed, str):
        out.update(status="unparsed", reason=parsed)
        return out
    out.update(parsed)
    named = sorted({m.group(0) for value in parsed.values() for m in _marker_hits(markers, value)})
    if named:
        out.update(status="rejected", reason=f"names the eval's markers: {', '.join(named)}")
        return out
    problem = step.check(out) if step.check else None
    out.update(status="rejected" if problem else "kept", reason=problem or "")
    return out


def _marker_hits(pattern: re.Pattern[str] | None, value: Any) -> list[re.Match[str]]:
    if pattern is None:
        return []
    texts = value if isinstance(value, list) else [value]
    return [m for text in texts for m in pattern.finditer(str(text))]


def run_step(
    step_id: str,
    spec: dict[str, Any],
    parents: dict[str, str],
    out: str | Path,
    manifest_out: str | Path,
    *,
    seed: int,
    shared_files: dict[str, str],
    generation: dict[str, Any],
) -> dict[str, Any]:
    """Run one pipeline step (``spec`` is its dataset's config; ``parents`` maps each parent
    step to its items file; ``shared_files`` names the shared inputs it reads)."""
    step = STEPS[step_id]
    start = time.perf_counter()
    prompt = load_prompt(project_path(template_path(step.prompt)))
    shared = Shared.load(shared_files)
    parent_items = {p: kept(read_items(path)) for p, path in parents.items()}
    for parent, found in parent_items.items():
        if not found:
            raise InputError(
                parents[parent],
                f"no item was kept, so step {step_id} has nothing to build on (see the "
                "statuses and reasons in its manifest)",
            )
    parent_fps = [io.read_json(_manifest_of(parents[p]))["fingerprint"] for p in step.parents]
    items = step.plan(plan_context(step_id, spec, parent_items, seed, shared))
    slots = shared.slots()
    # The item id is part of each answer's key: two items that render the same prompt are two
    # samples (at temperature 1 two different answers), not one answer shared.
    requests = {
        item["id"]: (prompt.render({**slots, **item}), f"{prompt.sha256}/{item['id']}")
        for item in items
    }
    keys = {rid: request_key(params, salt) for rid, (params, salt) in requests.items()}
    client = LazyClient(
        f"{step_owner(step_id)} (step {step_id})",
        generation["max_retries"],
        generation["timeout_seconds"],
    )
    requester = _requester(generation, step_id.replace("/", "."), client)
    requester.ledger.what = f"{step_owner(step_id)} (step {step_id})"
    mode = generation["api"] if generation["api"] != "auto" else prompt.api
    with tqdm(total=len(requests), desc=step_id, unit="req", mininterval=1.0) as bar:
        try:
            if mode == "batch":
                answers = requester.batch(step_id, requests, progress=bar)
            else:
                answers = requester.direct(requests, progress=bar)
        except Exception as exc:
            # An error the SDK gave up on (bad key, unknown model, a batch gone): its message,
            # not a traceback. Answers paid so far are cached; a rerun continues.
            if type(exc).__module__.split(".")[0] != "anthropic":
                raise
            raise ApiError(f"{step_owner(step_id)} (step {step_id}): {exc}") from None
    markers = marker_pattern(list(shared.markers)) if shared.markers else None
    done = []
    for item in items:
        row = _answer_fields(prompt, step, item, answers.get(item["id"]), markers)
        row["request"] = keys[item["id"]]
        done.append(row)
    io.write_jsonl(out, done)
    fp = fingerprint(
        step_id, spec, seed, _file_hashes(shared_files),
        {k: generation[k] for k in ANSWER_SETTINGS}, parent_fps,
    )  # fmt: skip
    io.write_json(
        Path(generation["cache"]) / "index" / f"{fp}.json",
        {"step": step_id, "keys": sorted(keys.values())},
    )
    manifest = _step_manifest(step_id, prompt, mode, fp, done, requester, keys, start)
    io.write_json(manifest_out, manifest)
    return manifest


def _manifest_of(items_path: str | Path) -> Path:
    path = Path(items_path)
    return path.with_name(path.name.removesuffix(".jsonl") + ".manifest.json")


def _file_hashes(files: dict[str, str]) -> dict[str, str]:
    return {name: io.sha256_file(project_path(str(path))) for name, path in files.items()}


def _usage_totals(requester: Requester, keys: dict[str, str]) -> dict[str, Any]:
    """Tokens and dollars of every answer the step uses, cached or new."""
    totals = {"input": 0, "output": 0, "cache_write": 0, "cache_read": 0}
    for key in set(keys.values()):
        message = requester.cache.get(key)
        if message is None:
            continue
        usage = message.get("usage", {})
        totals["input"] += usage.get("input_tokens") or 0
        totals["output"] += usage.get("output_tokens") or 0
        totals["cache_write"] += usage.get("cache_creation_input_tokens") or 0
        totals["cache_read"] += usage.get("cache_read_input_tokens") or 0
    usd = sum(requester.ledger.spent_on(k) for k in set(keys.values()))
    return {"tokens": totals, "usd_all_answers": round(usd, 6)}


def _step_manifest(step_id, prompt, mode, fp, done, requester, keys, start) -> dict[str, Any]:
    statuses: dict[str, int] = {}
    for row in done:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    counts = requester.counts.as_dict()
    reported = sorted({row["model"] for row in done if "model" in row})
    return {
        "step": step_id,
        "dataset": step_owner(step_id),
        "template": str(prompt.path.relative_to(project_path("."))),
        "template_sha256": prompt.sha256,
        "fingerprint": fp,
        "api": mode,
        "model_requested": prompt.model,
        "models_reported": reported,
        "planned": len(done),
        "statuses": dict(sorted(statuses.items())),
        "rejection_rate": round(1 - statuses.get("kept", 0) / len(done), 4) if done else 0.0,
        "this_run": {k: counts[k] for k in counts if k != "models"},
        **_usage_totals(requester, keys),
        "seconds": round(time.perf_counter() - start, 2),
    }


# ---- datasets -----------------------------------------------------------------------------


def assemble_dataset(
    name: str,
    steps: dict[str, str],
    manifests: dict[str, str],
    out: str | Path,
    manifest_out: str | Path,
    *,
    seed: int,
) -> dict[str, Any]:
    """Build dataset ``name``'s records from its steps' kept items (``steps`` maps each step it
    reads to its items file) and write them with a manifest that sums up the provenance of
    every step it needs (``manifests``, step id -> manifest file)."""
    start = time.perf_counter()
    plan = DATASET_PLANS[name]
    items = {step_id: kept(read_items(steps[step_id])) for step_id in plan.steps}
    own_seed = derive_seed(seed, "dataset", name)
    records = []
    for index, body in enumerate(plan.build(items)):
        record = finish_record(
            name, body.get("meta", {}).get("source", name), index, own_seed, body
        )
        problem = problems(record, "record")
        if problem:
            raise InputError(out, f"record {index}: {problem[0]}")
        records.append(record)
    if not records:
        raise InputError(
            f"datasets.{name}",
            f"no item survived its steps ({', '.join(plan.steps)}); see their manifests",
        )
    io.write_jsonl(out, records)
    manifest = {
        "dataset": name,
        "kind": "training",
        "world": "paper",
        "generator": GENERATOR,
        "seed": own_seed,
        "records": len(records),
        "tokens": sum(r["tokens"] for r in records),
        "token_counter": "words-and-punctuation",
        "sha256": io.sha256_file(out),
        **_provenance(name, manifests),
        "generation_seconds": round(time.perf_counter() - start, 2),
    }
    io.write_json(manifest_out, manifest)
    return manifest


def _provenance(name: str, manifests: dict[str, str]) -> dict[str, Any]:
    """Per step and in total: models as reported, template hashes, requests sent this run,
    cache hits, tokens and dollars. A step of another dataset is marked shared (its cost is
    that dataset's too)."""
    per_step = {}
    total = {"sent": 0, "cache_hits": 0, "usd_this_run": 0.0, "usd_all_answers": 0.0}
    tokens = {"input": 0, "output": 0, "cache_write": 0, "cache_read": 0}
    models: set[str] = set()
    for step_id, path in manifests.items():
        m = io.read_json(path)
        per_step[step_id] = {
            "shared_from": None if m["dataset"] == name else m["dataset"],
            "template": m["template"],
            "template_sha256": m["template_sha256"],
            "models_reported": m["models_reported"],
            "planned": m["planned"],
            "statuses": m["statuses"],
            "rejection_rate": m["rejection_rate"],
            "this_run": m["this_run"],
            "tokens": m["tokens"],
            "usd_all_answers": m["usd_all_answers"],
        }
        models.update(m["models_reported"])
        total["sent"] += m["this_run"]["sent"]
        total["cache_hits"] += m["this_run"]["cache_hits"]
        total["usd_this_run"] += m["this_run"]["usd"]
        total["usd_all_answers"] += m["usd_all_answers"]
        for k in tokens:
            tokens[k] += m["tokens"][k]
    total = {k: round(v, 6) if isinstance(v, float) else v for k, v in total.items()}
    return {"models_reported": sorted(models), "requests": total, "tokens_api": tokens,
            "steps": per_step}  # fmt: skip


# ---- before any job -----------------------------------------------------------------------


def step_fingerprints(config: dict[str, Any], shared_files: dict[str, str]) -> dict[str, str]:
    """Every generator step's fingerprint under ``config`` (parents first)."""
    hashes = _file_hashes(shared_files)
    settings = {k: config["generation"][k] for k in ANSWER_SETTINGS}
    out: dict[str, str] = {}

    def visit(step_id: str) -> str:
        if step_id not in out:
            parents = [visit(p) for p in STEPS[step_id].parents]
            spec = config["datasets"][step_owner(step_id)]
            out[step_id] = fingerprint(step_id, spec, config["seed"], hashes, settings, parents)
        return out[step_id]

    for name in generated_datasets(config):
        for step_id in DATASET_PLANS[name].steps:
            visit(step_id)
    return out


def generated_datasets(config: dict[str, Any]) -> list[str]:
    return [n for n, s in config["datasets"].items() if s.get("generator") == GENERATOR]


def cold_steps(config: dict[str, Any], shared_files: dict[str, str]) -> list[str]:
    """The steps that would send requests: neither their output (made under the same
    fingerprint) nor every answer they need is on disk."""
    cache = Path(config["generation"]["cache"])
    world = config["world"]
    cold = []
    for step_id, fp in step_fingerprints(config, shared_files).items():
        manifest = Path(step_manifest_path(world, step_id))
        if manifest.is_file() and io.read_json(manifest).get("fingerprint") == fp:
            continue
        index = cache / "index" / f"{fp}.json"
        responses = ResponseCache(cache / "responses")
        if index.is_file() and all(
            responses.path(k).is_file() for k in io.read_json(index)["keys"]
        ):
            continue
        cold.append(step_id)
    return cold


def check_key(config: dict[str, Any], shared_files: dict[str, str]) -> None:
    """Stop before any job when requests must be sent and there is no key to send them."""
    if os.environ.get(KEY_VARIABLE) or not generated_datasets(config):
        return
    cold = cold_steps(config, shared_files)
    if cold:
        needing = [
            name for name in generated_datasets(config) if set(dataset_steps(name)) & set(cold)
        ]
        raise MissingKey(
            f"{KEY_VARIABLE} is not set, and these datasets need requests the response cache "
            f"({config['generation']['cache']}) does not hold: {', '.join(needing)} (steps "
            f"{', '.join(cold)}). Set the key in the environment, or `dvc pull` the cache."
        )


def check_key_before_jobs(config: dict[str, Any]) -> None:
    """Snakefile ``onstart`` hook: :func:`check_key` as a Snakemake error (no traceback)."""
    if config["world"] != "paper":
        return
    try:
        check_key(config, shared_files(config))
    except MissingKey as exc:
        from snakemake_interface_common.exceptions import WorkflowError

        raise WorkflowError(str(exc)) from None
