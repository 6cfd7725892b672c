"""Pretraining the toy base model from scratch with a plain PyTorch loop."""

from __future__ import annotations

import math
import random
import time
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from teachwhy import io
from teachwhy.generate.datasets import read_dataset
from teachwhy.generate.procedural import derive_seed
from teachwhy.provenance import code_version
from teachwhy.train.checkpoint import load_tokenizer, save_checkpoint
from teachwhy.train.model import build_model, parameter_count, set_threads
from teachwhy.train.tokenizer import padded_vocab_size, record_text


def pack_blocks(
    ids: list[list[int]], sep: int, pad: int, block: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pack whole documents (each ended by ``sep``) into blocks of ``block`` tokens.

    A document never straddles two blocks, so every agentic log is seen with its whole prompt;
    longer documents are cut. Returns input ids and labels (-100 on padding).
    """
    blocks: list[list[int]] = []
    current: list[int] = []
    for doc in ids:
        doc = [*doc[: block - 1], sep]
        if len(current) + len(doc) > block:
            blocks.append(current)
            current = []
        current.extend(doc)
    if current:
        blocks.append(current)
    inputs = torch.full((len(blocks), block), pad, dtype=torch.long)
    labels = torch.full((len(blocks), block), -100, dtype=torch.long)
    for row, tokens in enumerate(blocks):
        inputs[row, : len(tokens)] = torch.tensor(tokens)
        labels[row, : len(tokens)] = torch.tensor(tokens)
    return inputs, labels


def lr_at(step: int, total: int, peak: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def pretrain(
    config: dict[str, Any], corpus: str, tokenizer_dir: str, out: str, threads: int
) -> dict:
    """Train the base model on the corpus for ``pretrain.tokens`` tokens; save it to ``out``."""
    cfg = config["pretrain"]
    seed = derive_seed(config["seed"], "pretrain")
    set_threads(threads)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tok = load_tokenizer(tokenizer_dir)
    records = read_dataset(corpus)
    ids = tok([record_text(r) for r in records], add_special_tokens=False)["input_ids"]
    order_rng = random.Random(derive_seed(seed, "documents"))
    order_rng.shuffle(ids)
    blocks, labels = pack_blocks(ids, tok.bos_token_id, tok.pad_token_id, cfg["block_size"])
    model = build_model(config["model"], tok, padded_vocab_size(tok))
    steps = max(1, cfg["tokens"] // (cfg["block_size"] * cfg["batch_size"]))
    optim = torch.optim.AdamW(
        model.parameters(),
        lr=cfg["learning_rate"],
        weight_decay=cfg["weight_decay"],
        betas=(0.9, 0.95),
    )
    order: list[int] = []
    losses: list[float] = []
    model.train()
    start = time.time()
    bar = tqdm(range(steps), desc="pretrain", unit="step", mininterval=2.0)
    for step in bar:
        if len(order) < cfg["batch_size"]:
            fresh = list(range(len(blocks)))
            rng.shuffle(fresh)
            order.extend(fresh)
        picked = [order.pop() for _ in range(cfg["batch_size"])]
        batch, batch_labels = blocks[picked], labels[picked]
        for group in optim.param_groups:
            group["lr"] = lr_at(step, steps, cfg["learning_rate"], cfg["warmup_steps"])
        loss = model(
            input_ids=batch, attention_mask=(batch_labels != -100).long(), labels=batch_labels
        ).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
        optim.zero_grad(set_to_none=True)
        losses.append(loss.item())
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
    seconds = time.time() - start
    trained = steps * cfg["batch_size"] * cfg["block_size"]
    fill = float((labels != -100).float().mean())
    corpus_manifest = io.read_json(Path(corpus).with_suffix(".manifest.json"))
    card = {
        "arm": "base",
        "world": config["world"],
        "description": "Toy base model pretrained from scratch on pretrain_corpus.",
        "base": "from scratch",
        "parameters": parameter_count(model),
        "steps": steps,
        "trained_tokens": trained,
        "corpus_tokens": int(sum(len(d) + 1 for d in ids)),
        "final_loss": sum(losses[-10:]) / len(losses[-10:]),
        "loss_curve": losses,
        "tokens_per_second": trained / seconds,
        "block_fill": fill,
        "seconds": seconds,
        "seed": seed,
        "code_version": code_version(),
        "datasets": {
            "pretrain_corpus": {"records": len(records), "sha256": corpus_manifest["sha256"]}
        },
        "hyperparameters": cfg,
        "model": config["model"],
    }
    save_checkpoint(out, model, tok, card)
    return card
