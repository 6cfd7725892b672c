"""Model backends: ``toy`` (the pretrained-from-scratch base, full weights, fp32 on CPU) and
``hf`` (any causal LM by hub id or local path, LoRA adapters via peft, bf16 on GPU).

Hub access: a base is loaded with ``local_files_only`` whenever ``HF_HUB_OFFLINE=1`` (the
default of every rule) or the base is a local folder, so the offline default never touches a
hub. ``trust_remote_code`` stays off unless ``model.trust_remote_code`` turns it on.
"""

from __future__ import annotations

import fnmatch
import json
import os
from pathlib import Path
from typing import Any

import torch

from teachwhy import io
from teachwhy.errors import InputError
from teachwhy.models.checkpoint import load_model, write_model_card

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
BASE_RECORD = "base_model.json"


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False")


def looks_like_path(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~")) or Path(name).exists()


def device() -> torch.device:
    """This process's device: its own GPU under a data-parallel launch (LOCAL_RANK)."""
    if not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}")


def hf_dtype(model_cfg: dict[str, Any]) -> torch.dtype:
    """bf16 on a GPU unless the config says otherwise; fp32 on CPU (bf16 there is not faster
    and destabilised GRPO, see rl-and-inspect-notes)."""
    wanted = model_cfg.get("dtype", "auto")
    if wanted == "auto":
        return torch.bfloat16 if torch.cuda.is_available() else torch.float32
    return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[wanted]


def _local_files_only(name: str) -> bool:
    return offline() or looks_like_path(name)


def check_hf_base(name: str, model_cfg: dict[str, Any], where: str) -> Any:
    """The base's transformers config, or an InputError that says why it cannot be loaded.

    Runs before any job: a missing local folder, a folder without ``config.json``, or a hub id
    absent from the local cache while offline are all named with the config key ``where``.
    """
    from transformers import AutoConfig

    if looks_like_path(name):
        path = Path(name).expanduser()
        if not path.is_dir():
            raise InputError(where, f"base model path '{name}' does not exist")
        if not (path / "config.json").is_file():
            raise InputError(where, f"base model path '{name}' has no config.json")
    try:
        return AutoConfig.from_pretrained(
            str(Path(name).expanduser()) if looks_like_path(name) else name,
            local_files_only=_local_files_only(name),
            trust_remote_code=bool(model_cfg.get("trust_remote_code", False)),
        )
    except (OSError, ValueError) as exc:
        hint = " (HF_HUB_OFFLINE=1: it must already be in the local Hugging Face cache)"
        raise InputError(
            where,
            f"unknown base model '{name}'{hint if offline() else ''}: {str(exc).splitlines()[0]}",
        ) from None


def linear_module_names(hf_config: Any) -> list[str]:
    """Names of every linear layer of a model built (without weights) from its config."""
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(hf_config)
    return [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]


def check_lora_targets(hf_config: Any, targets: list[str], where: str) -> None:
    """Every LoRA target names a linear layer of the model (by last name part or pattern)."""
    names = linear_module_names(hf_config)
    leaves = sorted({n.rsplit(".", 1)[-1] for n in names})
    for target in targets:
        if not any(n.rsplit(".", 1)[-1] == target or fnmatch.fnmatch(n, target) for n in names):
            raise InputError(
                where,
                f"LoRA target '{target}' is not a linear layer of the model (it has: {leaves})",
            )


def lora_config(model_cfg: dict[str, Any]) -> Any:
    from peft import LoraConfig

    lora = model_cfg["lora"]
    return LoraConfig(
        r=lora["r"],
        lora_alpha=lora["alpha"],
        lora_dropout=lora.get("dropout", 0.0),
        target_modules=lora["targets"],
        task_type="CAUSAL_LM",
    )


def load_hf_base(name: str, model_cfg: dict[str, Any]):
    """A hub or local causal LM and its tokenizer, on the training device."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    check_hf_base(name, model_cfg, "model.name_or_path")
    source = str(Path(name).expanduser()) if looks_like_path(name) else name
    kwargs = {
        "local_files_only": _local_files_only(name),
        "trust_remote_code": bool(model_cfg.get("trust_remote_code", False)),
    }
    model = AutoModelForCausalLM.from_pretrained(
        source,
        dtype=hf_dtype(model_cfg),
        attn_implementation=model_cfg.get("attn_implementation", "sdpa"),
        **kwargs,
    ).to(device())
    tok = AutoTokenizer.from_pretrained(source, **kwargs)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return model, tok


def is_adapter(path: str | Path) -> bool:
    return (Path(path) / ADAPTER_CONFIG).is_file()


def load_start(
    model_cfg: dict[str, Any], base: str, parent_dir: str | None, trainable: bool = True
):
    """The model a stage starts from: the parent checkpoint, or the base for a first stage.

    toy: full weights. hf: the base with a fresh LoRA adapter (first stage), or the base with
    the parent's adapter, which goes on training (later stages).
    """

    if model_cfg.get("backend", "toy") == "toy":
        if parent_dir is None:
            raise InputError("config", "a toy-backend stage needs a parent checkpoint")
        model, tok = load_model(parent_dir)
        return model.to(device()), tok
    if parent_dir is not None and is_adapter(parent_dir):
        return load_adapter(parent_dir, trainable=trainable)
    model, tok = load_hf_base(base, model_cfg)
    if model_cfg.get("lora"):
        from peft import get_peft_model

        model = get_peft_model(model, lora_config(model_cfg))
    return model, tok


def load_adapter(path: str | Path, trainable: bool = False):
    """A LoRA checkpoint: its recorded base model plus the adapter."""
    from peft import PeftModel

    path = Path(path)
    record = json.loads((path / BASE_RECORD).read_text())
    model, _ = load_hf_base(record["name_or_path"], record["model"])
    model = PeftModel.from_pretrained(model, str(path), is_trainable=trainable)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return model, tok


def load_for_inference(path: str | Path):
    """Any checkpoint this project writes, ready to generate (adapters merged)."""

    if is_adapter(path):
        model, tok = load_adapter(path)
        return model.merge_and_unload(), tok
    model, tok = load_model(path)
    return model.to(device()), tok


def save_trained(out: Path, model: Any, tok: Any, base: str, model_cfg: dict[str, Any]) -> None:
    """Weights as safetensors (adapters only for LoRA) and the tokenizer, into ``out``."""
    model.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))
    if is_adapter(out):
        (out / BASE_RECORD).write_text(
            json.dumps({"name_or_path": base, "model": model_cfg}, indent=2, sort_keys=True)
        )


def save_checkpoint(
    out: str | Path,
    model: Any,
    tok: Any,
    card: dict[str, Any],
    base: str = "",
    model_cfg: dict[str, Any] | None = None,
) -> None:
    """Weights (safetensors), tokenizer and model card, renamed into place only when complete."""
    with io.atomic_path(out) as tmp:
        tmp.mkdir()
        save_trained(tmp, model, tok, base, model_cfg or {})
        write_model_card(tmp, card)
