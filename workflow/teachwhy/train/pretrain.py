"""Pretraining the toy base model from scratch, through the project's training loop."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch

from teachwhy import io
from teachwhy.models.backends import save_checkpoint
from teachwhy.models.checkpoint import load_tokenizer
from teachwhy.models.model import build_model, parameter_count
from teachwhy.provenance import code_version
from teachwhy.records import read_dataset
from teachwhy.runtime import set_threads
from teachwhy.seeds import derive_seed
from teachwhy.train.loop import (
    LoopSettings,
    StepCheckpoints,
    batch_plan,
    pack_documents,
    train_loop,
)
from teachwhy.train.scratch import fingerprint, scratch_root
from teachwhy.train.tokenizer import padded_vocab_size, record_text


def pretrain(
    corpus: str,
    tokenizer_dir: str,
    out: str,
    *,
    seed: int,
    world: str,
    model_cfg: dict[str, Any],
    pretrain_cfg: dict[str, Any],
    scratch: str | None,
    threads: int,
) -> dict:
    """Train the base model (config ``model``: ``model_cfg``) on the corpus as config
    ``pretrain`` (``pretrain_cfg``) says; save it to ``out``.
    ``seed`` is the config seed, ``scratch`` the configured ``training.scratch``."""
    cfg = pretrain_cfg
    seed = derive_seed(seed, "pretrain")
    set_threads(threads)
    torch.manual_seed(seed)
    tok = load_tokenizer(tokenizer_dir)
    records = read_dataset(corpus)
    ids = tok([record_text(r) for r in records], add_special_tokens=False)["input_ids"]
    random.Random(derive_seed(seed, "documents")).shuffle(ids)
    blocks = pack_documents(ids, tok.bos_token_id, cfg["block_size"])
    model = build_model(model_cfg, tok, padded_vocab_size(tok))
    steps = max(1, cfg["tokens"] // (cfg["block_size"] * cfg["batch_size"]))
    plan = batch_plan(
        [len(b.input_ids) for b in blocks], cfg["batch_size"], steps, seed, group_by_length=False
    )
    corpus_manifest = io.read_json(Path(corpus).with_suffix(".manifest.json"))
    checkpoints = StepCheckpoints(
        scratch_root(scratch) / world / "base",
        fingerprint(
            {"pretrain": cfg, "model": model_cfg, "seed": seed},
            {"pretrain_corpus": corpus_manifest["sha256"]},
        ),
    )
    settings = LoopSettings(
        steps=steps,
        learning_rate=cfg["learning_rate"],
        warmup_steps=cfg["warmup_steps"],
        weight_decay=cfg["weight_decay"],
        checkpoint_every=cfg.get("checkpoint_every", 0),
        desc="pretrain",
    )
    # Fixed-width blocks: every step has the same shape, as in the plain loop it replaced.
    result = train_loop(
        model, blocks, plan, tok.pad_token_id, settings, checkpoints, width=cfg["block_size"]
    )
    fill = sum(len(b.input_ids) for b in blocks) / (len(blocks) * cfg["block_size"])
    card = {
        "arm": "base",
        "world": world,
        "description": "Toy base model pretrained from scratch on pretrain_corpus.",
        "base": "from scratch",
        "parameters": parameter_count(model),
        "steps": steps,
        "trained_tokens": steps * cfg["batch_size"] * cfg["block_size"],
        "real_tokens": result.trained_tokens,
        "corpus_tokens": int(sum(len(d) + 1 for d in ids)),
        "final_loss": result.final_loss,
        "loss_curve": result.losses,
        "tokens_per_second": result.trained_tokens / max(result.seconds, 1e-9),
        "block_fill": fill,
        "seconds": result.seconds,
        "resumed_from_step": result.resumed_from,
        "seed": seed,
        "code_version": code_version(),
        "datasets": {
            "pretrain_corpus": {"records": len(records), "sha256": corpus_manifest["sha256"]}
        },
        "hyperparameters": cfg,
        "model": model_cfg,
    }
    save_checkpoint(out, model, tok, card)
    return card
