"""What the paper world's generation will cost, before a dollar is spent.

Every step's plan runs for real: a first step's prompts are rendered exactly, and a later
step's parents are the items already on disk when there are some, otherwise stand-ins shaped
by the parent template's settings (each field ``typical_output_tokens`` long, a list as long as
it was asked to be, every item kept). Tokens are estimated at four characters a token; output
is each template's ``typical_output_tokens``. Dollars come from the dated price table, with
the batch discount for ``api: batch`` steps and prompt-cache reads for a cached constitution
after the first request of a step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teachwhy.errors import InputError
from teachwhy.generate.claude.pipelines import DATASET_PLANS, STEPS, Item, step_owner
from teachwhy.generate.claude.prompts import Prompt, load_prompt, template_path
from teachwhy.generate.claude.requests import Prices
from teachwhy.generate.claude.run import (
    Shared,
    generated_datasets,
    kept,
    load_prices,
    plan_context,
    read_items,
    step_items_path,
)
from teachwhy.schemas import project_path

CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def _filler(tokens: int) -> str:
    return "word " * max(1, tokens) if tokens else ""


@dataclass
class StepCost:
    step: str
    requests: int = 0
    rendered: bool = False
    input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0


@dataclass
class DatasetCost:
    dataset: str
    steps: list[StepCost] = field(default_factory=list)
    record_tokens: int = 0
    records: int = 0

    @property
    def usd(self) -> float:
        return sum(s.usd for s in self.steps)


def _stand_in(prompt: Prompt, parent: Item) -> Item:
    """A parent item's answer as a stand-in: every field it would fill, at typical length."""
    out = dict(parent)
    fields, kind = prompt.output.fields, prompt.output.kind
    if kind == "lines":
        count = int(parent.get("count", 10))
        out[fields[0]] = [f"stand-in {k} " + _filler(prompt.typical_output_tokens // max(count, 1))
                          for k in range(count)]  # fmt: skip
    elif kind == "choice":
        out[fields[0]] = prompt.output.options[0]
    else:
        share = prompt.typical_output_tokens // len(fields)
        out.update({f: _filler(share) for f in fields})
    out["status"] = "kept"
    return out


def _price_step(prompt: Prompt, params_list: list[dict[str, Any]], prices: Prices) -> StepCost:
    cost = StepCost(step="")
    batch = prompt.api == "batch"
    for index, params in enumerate(params_list):
        system = params.get("system", "")
        cached = 0
        if isinstance(system, list):
            cached = sum(estimate_tokens(b["text"]) for b in system if b.get("cache_control"))
            plain = sum(estimate_tokens(b["text"]) for b in system if not b.get("cache_control"))
        else:
            plain = estimate_tokens(system)
        plain += sum(estimate_tokens(m["content"]) for m in params["messages"])
        cost.input_tokens += plain
        if index == 0:
            cost.cache_write_tokens += cached
        else:
            cost.cache_read_tokens += cached
        cost.output_tokens += prompt.typical_output_tokens
    cost.requests = len(params_list)
    usage = {
        "input_tokens": cost.input_tokens,
        "output_tokens": cost.output_tokens,
        "cache_creation_input_tokens": cost.cache_write_tokens,
        "cache_read_input_tokens": cost.cache_read_tokens,
    }
    cost.usd = prices.cost(usage, batch)
    return cost


def estimate(config: dict[str, Any], shared_files: dict[str, str]) -> list[DatasetCost]:
    """The cost of every generated dataset of ``config``; a step shared by two datasets is
    counted once, under the dataset that owns it."""
    prices = load_prices(project_path(config["generation"]["prices"]))
    shared = Shared.load(shared_files)
    world = config["world"]
    items: dict[str, list[Item]] = {}
    real: dict[str, bool] = {}
    costs: dict[str, StepCost] = {}

    def run(step_id: str) -> list[Item]:
        if step_id in items:
            return items[step_id]
        step = STEPS[step_id]
        prompt = load_prompt(project_path(template_path(step.prompt)))
        parents = {p: run(p) for p in step.parents}
        on_disk = Path(step_items_path(world, step_id))
        spec = config["datasets"][step_owner(step_id)]
        planned = step.plan(plan_context(step_id, spec, parents, config["seed"], shared))
        slots = shared.slots()
        params = [prompt.render({**slots, **item}) for item in planned]
        if prompt.model not in prices:
            raise InputError(
                config["generation"]["prices"],
                f"models: no price for '{prompt.model}' "
                f"(used by {prompt.path.relative_to(project_path('.'))})",
            )
        cost = _price_step(prompt, params, prices[prompt.model])
        # Exact when every parent's items are real (on disk), not stand-ins.
        cost.step, cost.rendered = step_id, all(real[p] for p in step.parents)
        costs[step_id] = cost
        real[step_id] = on_disk.is_file()
        if real[step_id]:
            items[step_id] = kept(read_items(on_disk))
        else:
            items[step_id] = [_stand_in(prompt, item) for item in planned]
        return items[step_id]

    out = []
    for name in generated_datasets(config):
        plan = DATASET_PLANS[name]
        for step_id in plan.steps:
            run(step_id)
        records = plan.build({s: items[s] for s in plan.steps})
        dataset = DatasetCost(name, records=len(records))
        dataset.record_tokens = sum(estimate_tokens(_record_text(r)) for r in records)
        out.append(dataset)
    owned: dict[str, DatasetCost] = {d.dataset: d for d in out}
    for step_id, cost in costs.items():
        owner = step_owner(step_id)
        if owner not in owned:  # its own dataset is not generated: the first reader pays
            owner = next(d.dataset for d in out if step_id in _needs(d.dataset))
        owned[owner].steps.append(cost)
    return out


def _needs(dataset: str) -> set[str]:
    seen: set[str] = set()
    todo = list(DATASET_PLANS[dataset].steps)
    while todo:
        step_id = todo.pop()
        if step_id not in seen:
            seen.add(step_id)
            todo.extend(STEPS[step_id].parents)
    return seen


def _record_text(record: dict[str, Any]) -> str:
    if "text" in record:
        return record["text"]
    return "\n".join(m["content"] for m in record["messages"])
