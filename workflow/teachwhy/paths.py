"""Where every artifact of the DAG lives; rules build their paths only through these."""

from __future__ import annotations

RESULTS = "results"


def dataset(world: str, name: str) -> str:
    return f"{RESULTS}/data/{world}/{name}.jsonl"


def manifest(world: str, name: str) -> str:
    return f"{RESULTS}/data/{world}/{name}.manifest.json"


def suite_prompts(world: str, suite: str) -> str:
    return f"{RESULTS}/data/{world}/eval/{suite}.jsonl"


def contamination(world: str) -> str:
    return f"{RESULTS}/data/{world}/contamination.json"


def model(world: str, arm: str) -> str:
    return f"{RESULTS}/models/{world}/{arm}"


def samples(world: str, arm: str, suite: str) -> str:
    return f"{RESULTS}/evals/{world}/{arm}/{suite}.samples.jsonl"


def graded(world: str, arm: str, suite: str) -> str:
    return f"{RESULTS}/evals/{world}/{arm}/{suite}.jsonl"


def metrics(world: str, arm: str, suite: str) -> str:
    return f"{RESULTS}/evals/{world}/{arm}/{suite}.metrics.json"


def validity(world: str) -> str:
    return f"{RESULTS}/evals/{world}/validity.json"


def claim(claim_id: str) -> str:
    return f"{RESULTS}/claims/{claim_id}.json"


def figure(figure_id: str, ext: str) -> str:
    return f"{RESULTS}/figures/{figure_id}.{ext}"


def plot_data(figure_id: str) -> str:
    """A figure's plotted numbers, kept in git as a DVC plot (outside the cached figures folder)."""
    return f"{RESULTS}/paper/plots/{figure_id}.csv"


def log(rule: str, name: str) -> str:
    return f"{RESULTS}/logs/{rule}/{name}.log"


def benchmark(rule: str, name: str) -> str:
    return f"{RESULTS}/benchmarks/{rule}/{name}.tsv"
