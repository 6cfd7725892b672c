"""Tokens/s of the project's training path against a plain PyTorch loop, on CPU.

Same model (the default toy shape), same data, same batches, same optimiser; rounds alternate
between the two so drift on the machine hits both. Prints one ratio per mode (target >= 0.95):

    python bench/train_throughput.py            # SFT and pretraining, 3 rounds each
    python bench/train_throughput.py --steps 20 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

from teachwhy.generate.constitution import load as load_constitution  # noqa: E402
from teachwhy.generate.families import DATASETS, Context  # noqa: E402
from teachwhy.models.model import build_model  # noqa: E402
from teachwhy.seeds import derive_seed  # noqa: E402
from teachwhy.train.examples import chat_examples, document_examples  # noqa: E402
from teachwhy.train.loop import LoopSettings, batch_plan, collate, train_loop  # noqa: E402
from teachwhy.train.tokenizer import padded_vocab_size, record_text, train_tokenizer  # noqa: E402

TARGET = 0.95


def records(config: dict, name: str, limit: int) -> list[dict]:
    ctx = Context(config["seed"], load_constitution(ROOT / config["constitution"]))
    cfg = dict(config["datasets"][name])
    if name == "pretrain_corpus":
        cfg = {**cfg, **{k: max(1, v // 10) for k, v in cfg.items() if isinstance(v, int)}}
    out = []
    for record in DATASETS[name](cfg, derive_seed(config["seed"], "dataset", name), ctx):
        out.append(record)
        if len(out) >= limit:
            break
    return out


def plain_loop(model, batches, lr: float) -> float:
    """The reference: forward with labels, backward, clip, AdamW. Returns tokens/s."""
    optim = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0, betas=(0.9, 0.95))
    model.train()
    tokens, start = 0, time.perf_counter()
    for batch in batches:
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
        optim.zero_grad(set_to_none=True)
        loss.item()
        tokens += int(batch["attention_mask"].sum())
    return tokens / (time.perf_counter() - start)


def project_loop(model, examples, plan, pad, lr: float, width: int | None) -> float:
    settings = LoopSettings(steps=len(plan), learning_rate=lr, warmup_steps=0, desc="bench")
    result = train_loop(model, examples, plan, pad, settings, width=width)
    return result.trained_tokens / result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    chats = records(config, "chat_hhh", 600) + records(config, "honeypot_deliberation", 300)
    docs = records(config, "pretrain_corpus", 3000)
    tok = train_tokenizer((record_text(r) for r in docs + chats), 4096, 2)
    sft = config["training"]["sft"]
    modes = {
        "sft": (chat_examples(tok, chats, sft["max_length"]), sft["batch_size"], None, True),
        "pretrain": (
            document_examples(tok, docs, config["pretrain"]["block_size"]),
            config["pretrain"]["batch_size"],
            config["pretrain"]["block_size"],
            False,
        ),
    }
    report = {}
    for mode, (examples, batch_size, width, grouped) in modes.items():
        plan = batch_plan([len(e.input_ids) for e in examples], batch_size, args.steps, 0, grouped)
        batches = [collate([examples[i] for i in b], tok.pad_token_id, width) for b in plan]
        ours, plain = [], []
        for _ in range(args.rounds):
            for runner, into in (("plain", plain), ("project", ours)):
                torch.manual_seed(0)
                model = build_model(config["model"], tok, padded_vocab_size(tok))
                if runner == "plain":
                    into.append(plain_loop(model, batches, 1e-4))
                else:
                    into.append(project_loop(model, examples, plan, tok.pad_token_id, 1e-4, width))
        ratio = statistics.median(ours) / statistics.median(plain)
        report[mode] = {
            "project_tokens_per_s": [round(x) for x in ours],
            "plain_tokens_per_s": [round(x) for x in plain],
            "ratio": round(ratio, 3),
        }
    print(json.dumps(report, indent=2))
    for mode, row in report.items():
        print(f"{mode}: project / plain loop = {row['ratio']:.2f} (target >= {TARGET})")


if __name__ == "__main__":
    main()
