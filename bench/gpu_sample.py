"""Batched sampling throughput of the eval stage's generator on one GPU.

The same random Qwen3-0.6B-shaped model as bench/gpu_train.py, batch 256, prompts of 512
tokens, 128 new tokens, temperature 1. It times ``teachwhy.evaluate.sample.generate_batch``
(the eval stage's call) twice in one run: with the dynamic cache (plain ``generate``, the
reference: 2.4k tokens/s on an H200) and with the fast path the eval stage takes on a GPU
(static KV cache plus compilation). Target: at least 5x the reference.

    python bench/gpu_sample.py
    python bench/gpu_sample.py --tiny --device cpu   # smoke run of the same path
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
sys.path.insert(0, str(ROOT / "bench"))

from gpu_train import QWEN3_06B, TINY  # noqa: E402

from teachwhy.evaluate.sample import generate_batch  # noqa: E402

REFERENCE_TPS = 2400.0
TARGET_RATIO = 5.0


def timed_generate(model, ids, mask, new_tokens: int, fast: bool, device: str) -> float:
    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    generate_batch(model, ids, mask, new_tokens, 1.0, 1.0, eos=-1, pad=0, fast=fast)  # warm-up
    sync()
    start = time.perf_counter()
    out = generate_batch(model, ids, mask, new_tokens, 1.0, 1.0, eos=-1, pad=0, fast=fast)
    sync()
    produced = (out.shape[1] - ids.shape[1]) * out.shape[0]
    return produced / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--prompt", type=int, default=512)
    parser.add_argument("--new", type=int, default=128)
    parser.add_argument("--tiny", action="store_true")
    args = parser.parse_args()
    from transformers import Qwen3Config, Qwen3ForCausalLM

    cfg = TINY if args.tiny else QWEN3_06B
    torch.manual_seed(0)
    dtype = torch.bfloat16 if args.device.startswith("cuda") else torch.float32
    model = Qwen3ForCausalLM(Qwen3Config(**cfg)).to(device=args.device, dtype=dtype).eval()
    ids = torch.randint(1, cfg["vocab_size"], (args.batch, args.prompt), device=args.device)
    mask = torch.ones_like(ids)
    result = {"device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"}
    result["dynamic_cache_tps"] = round(
        timed_generate(model, ids, mask, args.new, False, args.device)
    )
    result["fast_path_tps"] = round(timed_generate(model, ids, mask, args.new, True, args.device))
    result["fast_over_dynamic"] = round(result["fast_path_tps"] / result["dynamic_cache_tps"], 2)
    ratio = result["fast_path_tps"] / REFERENCE_TPS
    print(json.dumps(result, indent=2))
    print(f"fast path / 2.4k reference: {ratio:.2f} (target >= {TARGET_RATIO})")


if __name__ == "__main__":
    main()
