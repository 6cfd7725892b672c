"""The project's training loop: one plain PyTorch loop for pretraining, midtraining and SFT.

Why not TRL's SFTTrainer: on CPU it scores every position through its fused LM head and ran
at 0.72 of a plain loop (stack-notes). This loop applies the LM head only to the positions that
carry a label (assistant tokens in SFT, every real token in document training), in chunks, so
a 150k-token vocabulary never materialises a full logits tensor. Step checkpoints (safetensors
and JSON, written atomically to a scratch folder) make a killed job resume to the same weights.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from teachwhy.runtime import world

IGNORE = -100


@dataclass(frozen=True)
class LoopSettings:
    """What one training run does; everything a resumed run must agree on."""

    steps: int
    learning_rate: float
    warmup_steps: int = 0
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = 1.0
    min_lr_ratio: float = 0.1
    # Labelled positions per LM-head chunk; bounds the logits memory (chunk x vocab floats).
    loss_chunk: int = 8192
    checkpoint_every: int = 0
    # Compile the transformer body (torch.compile); pays off on a GPU with fixed shapes.
    compile: bool = False
    desc: str = "train"


@dataclass
class LoopResult:
    steps: int
    trained_tokens: int
    labelled_tokens: int
    losses: list[float]
    learning_rates: list[float]
    seconds: float
    resumed_from: int = 0
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def final_loss(self) -> float:
        tail = self.losses[-10:]
        return sum(tail) / len(tail) if tail else float("nan")


def lr_at(step: int, total: int, peak: float, warmup: int, floor: float = 0.1) -> float:
    """Linear warm-up, then cosine decay to ``floor`` of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


def _decoder_and_head(model: torch.nn.Module) -> tuple[Any, Any] | None:
    """The transformer body and LM head of a causal LM (through a peft wrapper), if separable."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    get_decoder = getattr(inner, "get_decoder", None)
    head = inner.get_output_embeddings() if hasattr(inner, "get_output_embeddings") else None
    if get_decoder is None or head is None:
        return None
    # Models that post-process logits (soft-capping, scaling) need their own forward.
    if getattr(inner.config, "final_logit_softcapping", None) or getattr(
        inner.config, "logit_scale", None
    ):
        return None
    return get_decoder(), head


def _chunk_loss(head: torch.nn.Module, hidden: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    logits = head(hidden).float()
    return F.cross_entropy(logits, targets, reduction="sum")


def causal_lm_loss(
    model: torch.nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    labels: torch.Tensor,
    chunk: int = 8192,
) -> tuple[torch.Tensor, int]:
    """Mean next-token cross-entropy over labelled positions, and how many there were.

    The LM head runs only on labelled positions; above ``chunk`` positions it runs chunk by
    chunk under activation checkpointing, so peak memory holds one chunk's logits.
    """
    targets = labels[:, 1:]
    mask = targets != IGNORE
    count = int(mask.sum())
    parts = _decoder_and_head(model)
    if parts is None:
        logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1]
        loss = F.cross_entropy(logits[mask].float(), targets[mask], reduction="mean")
        return loss, count
    decoder, head = parts
    hidden = decoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    picked, wanted = hidden[:, :-1][mask], targets[mask]
    if count <= chunk:
        return _chunk_loss(head, picked, wanted) / max(1, count), count
    from torch.utils.checkpoint import checkpoint

    total = picked.new_zeros((), dtype=torch.float32)
    for lo in range(0, count, chunk):
        total = total + checkpoint(
            _chunk_loss, head, picked[lo : lo + chunk], wanted[lo : lo + chunk], use_reentrant=False
        )
    return total / count, count


# ---------------------------------------------------------------------------------------------
# Batches


@dataclass(frozen=True)
class Example:
    """One training sequence: token ids and labels (IGNORE where no loss is taken)."""

    input_ids: list[int]
    labels: list[int]


def pack_documents(docs: list[list[int]], sep: int, block: int) -> list[Example]:
    """Pack whole documents (each ended by ``sep``) into sequences of at most ``block`` tokens.

    A document never straddles two sequences, so every agentic log is seen with its whole
    prompt; a longer document is cut. Every real token is labelled.
    """
    packed: list[Example] = []
    current: list[int] = []
    for doc in docs:
        doc = [*doc[: block - 1], sep]
        if current and len(current) + len(doc) > block:
            packed.append(Example(current, list(current)))
            current = []
        current.extend(doc)
    if current:
        packed.append(Example(current, list(current)))
    return packed


def collate(examples: list[Example], pad: int, width: int | None = None) -> dict[str, torch.Tensor]:
    """Right-padded tensors for one batch (padded to the longest, or to ``width``)."""
    width = width or max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    attention = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        attention[row, :n] = 1
    return {"input_ids": ids, "attention_mask": attention, "labels": labels}


def batch_plan(
    sizes: list[int], batch_size: int, steps: int, seed: int, group_by_length: bool = True
) -> list[list[int]]:
    """Example indices for each of ``steps`` batches, epoch after epoch, from ``seed`` alone.

    With ``group_by_length``, each epoch's shuffled order is cut into windows of 32 batches,
    sorted by length within the window and the batches shuffled again: similar lengths share
    a batch (less padding) while the order stays random.
    """
    rng = random.Random(seed)
    plan: list[list[int]] = []
    while len(plan) < steps:
        order = list(range(len(sizes)))
        rng.shuffle(order)
        batches: list[list[int]] = []
        window = batch_size * 32 if group_by_length else len(order)
        for lo in range(0, len(order), window):
            chunk = order[lo : lo + window]
            if group_by_length:
                chunk.sort(key=lambda i: sizes[i])
            batches.extend(chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size))
        rng.shuffle(batches)
        plan.extend(batches)
    return plan[:steps]


# ---------------------------------------------------------------------------------------------
# Step checkpoints


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors, scalars = {}, {}
    for index, slots in state["state"].items():
        for name, value in slots.items():
            key = f"{index}.{name}"
            if torch.is_tensor(value):
                tensors[key] = value.detach().clone().contiguous()
            else:
                scalars[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in [*tensors.items(), *meta["scalars"].items()]:
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def trainable_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The parameters that train (all of a toy model; the adapters of a LoRA model)."""
    return {
        name: p.detach().clone().contiguous()
        for name, p in model.named_parameters()
        if p.requires_grad
    }


class StepCheckpoints:
    """Step checkpoints of one run under ``folder``, tagged with the run's ``fingerprint``.

    Each checkpoint is a folder ``step-NNNNNNN`` renamed into place when complete, so a kill at
    any moment leaves the previous one intact; a folder with another fingerprint is ignored.
    """

    def __init__(self, folder: str | Path, fingerprint: str) -> None:
        self.folder = Path(folder)
        self.fingerprint = fingerprint

    def latest(self) -> Path | None:
        if not self.folder.is_dir():
            return None
        for path in sorted(self.folder.glob("step-*"), reverse=True):
            meta = path / "state.json"
            if path.is_dir() and meta.is_file():
                try:
                    if json.loads(meta.read_text())["fingerprint"] == self.fingerprint:
                        return path
                except (json.JSONDecodeError, KeyError):
                    continue
        return None

    def save(
        self, step: int, model: torch.nn.Module, optim: torch.optim.Optimizer, extra: dict
    ) -> None:
        from safetensors.torch import save_file

        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"step-{step:07d}"
        staging = self.folder / f".step-{step:07d}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        save_file(trainable_state(model), str(staging / "weights.safetensors"))
        tensors, meta = _flatten_optimizer(optim.state_dict())
        save_file(tensors, str(staging / "optimizer.safetensors"))
        save_file({"cpu": torch.get_rng_state()}, str(staging / "rng.safetensors"))
        record = {"fingerprint": self.fingerprint, "step": step, "optimizer": meta, **extra}
        (staging / "state.json").write_text(json.dumps(record))
        os.replace(staging, final)
        for older in self.folder.glob("step-*"):
            if older != final:
                shutil.rmtree(older, ignore_errors=True)

    def restore(self, path: Path, model: torch.nn.Module, optim: torch.optim.Optimizer) -> dict:
        from safetensors.torch import load_file

        weights = load_file(str(path / "weights.safetensors"))
        params = dict(model.named_parameters())
        with torch.no_grad():
            for name, value in weights.items():
                params[name].copy_(value)
        record = json.loads((path / "state.json").read_text())
        optim.load_state_dict(
            _unflatten_optimizer(
                load_file(str(path / "optimizer.safetensors")), record["optimizer"]
            )
        )
        torch.set_rng_state(load_file(str(path / "rng.safetensors"))["cpu"])
        return record

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Data-parallel processes (accelerate launch / torchrun)


def _all_sum(value: torch.Tensor) -> torch.Tensor:
    import torch.distributed as dist

    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value


def _barrier(processes: int) -> None:
    if processes > 1:
        import torch.distributed as dist

        dist.barrier()


# ---------------------------------------------------------------------------------------------
# The loop


def train_loop(
    model: torch.nn.Module,
    examples: list[Example],
    plan: list[list[int]],
    pad: int,
    settings: LoopSettings,
    checkpoints: StepCheckpoints | None = None,
    on_step: Callable[[int, float], None] | None = None,
    width: int | None = None,
) -> LoopResult:
    """Train ``model`` on ``examples`` batch by batch as ``plan`` says; resume if a checkpoint of
    the same run exists. ``width`` pads every batch to a fixed length (packed documents).

    Under a data-parallel launch each process takes every n-th example of each batch; losses
    are summed and divided by the labelled tokens of the whole batch and gradients are summed
    across processes, so the update is the single-process one. Rank 0 writes checkpoints.
    """
    rank, processes = world()
    if processes > 1 and min(len(b) for b in plan) < processes:
        raise ValueError(
            f"batches of {min(len(b) for b in plan)} cannot feed {processes} processes"
        )
    trainable = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(
        trainable,
        lr=settings.learning_rate,
        weight_decay=settings.weight_decay,
        betas=settings.betas,
    )
    losses: list[float] = []
    rates: list[float] = []
    start_step, trained, labelled = 0, 0, 0
    found = checkpoints.latest() if checkpoints else None
    if found is not None:
        record = checkpoints.restore(found, model, optim)
        start_step, losses, rates = record["step"], record["losses"], record["learning_rates"]
        trained, labelled = record["trained_tokens"], record["labelled_tokens"]
    if settings.compile:
        parts = _decoder_and_head(model)
        (parts[0] if parts else model).compile()
    model.train()
    where = next(model.parameters()).device
    begin = time.time()
    bar = tqdm(
        range(start_step, settings.steps),
        desc=settings.desc,
        disable=rank != 0,
        unit="step",
        initial=start_step,
        total=settings.steps,
        mininterval=2.0,
    )
    for step in bar:
        picked = plan[step][rank::processes]
        batch = {
            k: v.to(where) for k, v in collate([examples[i] for i in picked], pad, width).items()
        }
        lr = lr_at(
            step,
            settings.steps,
            settings.learning_rate,
            settings.warmup_steps,
            settings.min_lr_ratio,
        )
        for group in optim.param_groups:
            group["lr"] = lr
        loss, count = causal_lm_loss(model, chunk=settings.loss_chunk, **batch)
        real = int(batch["attention_mask"].sum())
        if processes > 1:
            counts = _all_sum(torch.tensor([count, real], dtype=torch.float64, device=where))
            loss = loss * (count / counts[0].item())
            count, real = int(counts[0].item()), int(counts[1].item())
        loss.backward()
        if processes > 1:
            for p in trainable:
                if p.grad is not None:
                    _all_sum(p.grad)
            loss = _all_sum(loss.detach().clone())
        if settings.grad_clip:
            torch.nn.utils.clip_grad_norm_(trainable, settings.grad_clip)
        optim.step()
        optim.zero_grad(set_to_none=True)
        losses.append(loss.item())
        rates.append(lr)
        trained += real
        labelled += count
        bar.set_postfix(loss=f"{losses[-1]:.3f}")
        if on_step is not None:
            on_step(step + 1, losses[-1])
        done = step + 1
        every = settings.checkpoint_every
        if checkpoints and every and done % every == 0 and done < settings.steps:
            if rank == 0:
                checkpoints.save(
                    done,
                    model,
                    optim,
                    {
                        "losses": losses,
                        "learning_rates": rates,
                        "trained_tokens": trained,
                        "labelled_tokens": labelled,
                    },
                )
            _barrier(processes)
    bar.close()
    _barrier(processes)
    if checkpoints and rank == 0:
        checkpoints.clear()
    return LoopResult(
        steps=settings.steps,
        trained_tokens=trained,
        labelled_tokens=labelled,
        losses=losses,
        learning_rates=rates,
        seconds=time.time() - begin,
        resumed_from=start_step,
    )
