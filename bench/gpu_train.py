"""SFT throughput and model FLOPs utilisation of the project's training path on one GPU.

A randomly initialised Qwen3-0.6B-shaped model (built from config; nothing is downloaded),
batch 8 x 2048 tokens, assistant-only labels on half of each sequence, through
``teachwhy.train.loop.train_loop`` (labelled-position chunked LM head). MFU counts
6 x parameters + 12 x layers x hidden x sequence FLOPs per token against 989 TFLOP/s (H100/H200
dense bf16). Target: at least 40% MFU.

    python bench/gpu_train.py                       # bf16 weights, compiled
    python bench/gpu_train.py --no-compile --weights fp32
    python bench/gpu_train.py --tiny --device cpu   # a seconds-long smoke run of the same path
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

from teachwhy.train.loop import IGNORE, Example, LoopSettings, train_loop  # noqa: E402

PEAK_FLOPS = 989e12
TARGET_MFU = 0.40
QWEN3_06B = dict(
    vocab_size=151936,
    hidden_size=1024,
    intermediate_size=3072,
    num_hidden_layers=28,
    num_attention_heads=16,
    num_key_value_heads=8,
    head_dim=128,
    max_position_embeddings=40960,
    tie_word_embeddings=True,
)
TINY = dict(
    vocab_size=1024,
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    max_position_embeddings=512,
    tie_word_embeddings=True,
)


def flops_per_token(model: torch.nn.Module, cfg: dict, seq: int) -> float:
    params = sum(p.numel() for p in model.parameters())
    attention = 12 * cfg["num_hidden_layers"] * cfg["num_attention_heads"] * cfg["head_dim"] * seq
    return 6 * params + attention


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=8, help="steps excluded from timing")
    parser.add_argument("--weights", choices=["bf16", "fp32"], default="bf16")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--attn", default="sdpa")
    parser.add_argument("--loss-chunk", type=int, default=4096)
    parser.add_argument("--tiny", action="store_true", help="a tiny model (smoke test)")
    args = parser.parse_args()
    from transformers import Qwen3Config, Qwen3ForCausalLM

    cfg = TINY if args.tiny else QWEN3_06B
    seq = min(args.seq, cfg["max_position_embeddings"])
    dtype = torch.bfloat16 if args.weights == "bf16" else torch.float32
    torch.manual_seed(0)
    model = Qwen3ForCausalLM(Qwen3Config(**cfg, attn_implementation=args.attn))
    model = model.to(device=args.device, dtype=dtype)
    gen = torch.Generator().manual_seed(0)
    examples = []
    for _ in range(args.batch * (args.steps + args.warmup)):
        ids = torch.randint(0, cfg["vocab_size"], (seq,), generator=gen).tolist()
        examples.append(Example(ids, [IGNORE] * (seq // 2) + ids[seq // 2 :]))
    plan = [
        list(range(i * args.batch, (i + 1) * args.batch)) for i in range(args.steps + args.warmup)
    ]
    times: list[float] = []

    def stamp(step: int, loss: float) -> None:
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter())

    settings = LoopSettings(
        steps=len(plan),
        learning_rate=1e-5,
        loss_chunk=args.loss_chunk,
        compile=not args.no_compile,
        desc="gpu_train",
    )
    result = train_loop(model, examples, plan, 0, settings, on_step=stamp, width=seq)
    timed = times[args.warmup :]
    seconds = timed[-1] - timed[0]
    tokens = args.batch * seq * (len(timed) - 1)
    tps = tokens / seconds
    mfu = tps * flops_per_token(model, cfg, seq) / PEAK_FLOPS
    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device
    print(
        json.dumps(
            {
                "device": device,
                "model": "tiny" if args.tiny else "Qwen3-0.6B shape (random)",
                "weights": args.weights,
                "compiled": not args.no_compile,
                "batch": [args.batch, seq],
                "timed_steps": len(timed) - 1,
                "tokens_per_second": round(tps),
                "mfu": round(mfu, 4),
                "final_loss": round(result.losses[-1], 4),
                "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 1)
                if args.device.startswith("cuda")
                else None,
            },
            indent=2,
        )
    )
    print(f"MFU / target: {mfu:.3f} / {TARGET_MFU} = {mfu / TARGET_MFU:.2f}")


if __name__ == "__main__":
    main()
