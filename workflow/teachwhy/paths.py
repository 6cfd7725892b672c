"""Where every artifact of the DAG lives; rules build their paths only through these."""

from __future__ import annotations

RESULTS = "results"
# Input data files the DAG reads (config/), beside the results it writes.
SUITES = "config/suites"
DELIBERATION_STYLES = "config/deliberation.yaml"
# The report's templates: the landing page (claims table), and its stand-in before any claim
# is decided.
LANDING_TEMPLATE = "report/workflow.rst.jinja"
LANDING_FALLBACK = "report/workflow.rst"
FIGURE_CAPTION_TEMPLATE = "report/claim_figure.rst.jinja"


def suite_file(family: str) -> str:
    """A honeypot family's or eval suite's definition."""
    return f"{SUITES}/{family}.yaml"


def dataset(world: str, name: str) -> str:
    return f"{RESULTS}/data/{world}/{name}.jsonl"


def manifest(world: str, name: str) -> str:
    return f"{RESULTS}/data/{world}/{name}.manifest.json"


def suite_prompts(world: str, suite: str) -> str:
    return f"{RESULTS}/data/{world}/eval/{suite}.jsonl"


def suite_manifest(world: str, suite: str) -> str:
    return f"{RESULTS}/data/{world}/eval/{suite}.manifest.json"


def contamination(world: str) -> str:
    return f"{RESULTS}/data/{world}/contamination.json"


def model(world: str, name: str) -> str:
    """A trained model's folder: an arm's run (``<arm>`` or ``<arm>.seed<i>``), a shared recipe
    prefix, the base model or the tokenizer."""
    return f"{RESULTS}/models/{world}/{name}"


def model_samples(world: str, model: str) -> str:
    """One trained model's samples on every suite it is evaluated on (one sampling job)."""
    return f"{RESULTS}/evals/{world}/{model}/samples"


def samples(world: str, model: str, suite: str) -> str:
    return f"{model_samples(world, model)}/{suite}.jsonl"


def graded(world: str, model: str, suite: str) -> str:
    return f"{RESULTS}/evals/{world}/{model}/{suite}.jsonl"


def metrics(world: str, model: str, suite: str) -> str:
    return f"{RESULTS}/evals/{world}/{model}/{suite}.metrics.json"


def validity(world: str) -> str:
    return f"{RESULTS}/evals/{world}/validity.json"


def validity_table(world: str) -> str:
    """The suite validity table as the report shows it."""
    return f"{RESULTS}/evals/{world}/validity.html"


def claim(claim_id: str) -> str:
    return f"{RESULTS}/claims/{claim_id}.json"


def figure(figure_id: str, ext: str) -> str:
    return f"{RESULTS}/figures/{figure_id}.{ext}"


def plot_data(figure_id: str) -> str:
    """A figure's plotted numbers (also a DVC plot), outside the cached figures folder."""
    return f"{RESULTS}/paper/plots/{figure_id}.json"


def numbers() -> str:
    return f"{RESULTS}/paper/numbers.json"


def claim_metrics(claim_id: str) -> str:
    """A claim's DVC metrics (estimate, interval, verdict): one row of `dvc metrics show`."""
    return f"{RESULTS}/metrics/{claim_id}.json"


def landing() -> str:
    """The report's landing page (claims table), rendered once every claim is decided."""
    return f"{RESULTS}/paper/report.rst"


def log(rule: str, name: str) -> str:
    return f"{RESULTS}/logs/{rule}/{name}.log"


def benchmark(rule: str, name: str) -> str:
    return f"{RESULTS}/benchmarks/{rule}/{name}.tsv"
