"""Checkpoint folders: validation on load, model cards on save."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from teachwhy.errors import InputError

WEIGHTS = "model.safetensors"


def check_checkpoint(path: str | Path, need_weights: bool = True) -> Path:
    """Raise InputError naming the folder and the missing file unless it is a usable checkpoint."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(path, "checkpoint folder is missing")
    needed = ["tokenizer.json", "tokenizer_config.json"]
    if need_weights:
        adapter = (path / "adapter_config.json").is_file()
        needed = ["adapter_config.json" if adapter else "config.json", *needed]
        shards = list(path.glob("*.safetensors"))
        if not shards:
            raise InputError(path, f"checkpoint folder has no weights ({WEIGHTS} is missing)")
        for shard in shards:
            if shard.stat().st_size < 16:
                raise InputError(shard, "weights file is truncated")
    for name in needed:
        if not (path / name).is_file():
            raise InputError(path, f"checkpoint folder lacks {name}")
    return path


def load_model(path: str | Path):
    """Load a causal LM and its tokenizer from a validated checkpoint folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = check_checkpoint(path)
    try:
        model = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:  # safetensors/transformers raise many types for corrupt files
        raise InputError(
            path, f"weights could not be loaded ({type(exc).__name__}: {exc})"
        ) from None
    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    return model, tok


def load_tokenizer(path: str | Path):
    from transformers import AutoTokenizer

    path = check_checkpoint(path, need_weights=False)
    return AutoTokenizer.from_pretrained(str(path), local_files_only=True)


def write_model_card(out: Path, card: dict[str, Any]) -> None:
    """README.md (human) and training.json (machine) describing how the weights were made."""
    (out / "training.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    arms = card.get("arms") or [card["arm"]]
    lines = [
        f"# teachwhy {card['world']} model: {card['arm']}",
        "",
        card.get("description", ""),
        "",
        f"- arms that pass through this checkpoint: {', '.join(arms)}",
        f"- world: {card['world']}, backend: {card.get('backend', 'toy')}",
        f"- starts from: {card['base']}",
        f"- parameters: {card['parameters']:,}"
        + (
            f" ({card['trainable_parameters']:,} trained)" if "trainable_parameters" in card else ""
        ),
        f"- steps: {card['steps']}, trained tokens: {card['trained_tokens']:,}",
        f"- final loss: {card['final_loss']:.4f}",
        f"- seed: {card['seed']}",
        f"- code version: {card['code_version']}",
    ]
    if card.get("recipe"):
        lines += ["", "## Recipe", ""]
        for number, stage in enumerate(card["recipe"], start=1):
            budgets = ", ".join(f"{k}: {v}" for k, v in stage["datasets"].items())
            lines.append(f"{number}. {stage['kind']} on {budgets}")
    lines += ["", "## Datasets (this stage)", ""]
    for name, info in card["datasets"].items():
        tokens = f", {info['tokens']:,} tokens" if "tokens" in info else ""
        lines.append(f"- `{name}`: {info['records']} records{tokens}, sha256 `{info['sha256']}`")
    (out / "README.md").write_text("\n".join(lines) + "\n")
