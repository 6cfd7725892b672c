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
        needed = ["config.json", *needed]
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
    lines = [
        f"# teachwhy toy model: {card['arm']}",
        "",
        card.get("description", ""),
        "",
        f"- world: {card['world']}",
        f"- base: {card['base']}",
        f"- parameters: {card['parameters']:,}",
        f"- steps: {card['steps']}, trained tokens: {card['trained_tokens']:,}",
        f"- final loss: {card['final_loss']:.4f}",
        f"- seed: {card['seed']}",
        f"- code version: {card['code_version']}",
        "",
        "## Datasets",
        "",
    ]
    for name, info in card["datasets"].items():
        lines.append(f"- `{name}`: {info['records']} records, sha256 `{info['sha256']}`")
    (out / "README.md").write_text("\n".join(lines) + "\n")


def save_checkpoint(out: str | Path, model: Any, tok: Any, card: dict[str, Any]) -> None:
    """Weights (safetensors), tokenizer and model card, renamed into place only when complete."""
    from teachwhy import io

    with io.atomic_path(out) as tmp:
        tmp.mkdir()
        model.save_pretrained(str(tmp))
        tok.save_pretrained(str(tmp))
        write_model_card(tmp, card)
