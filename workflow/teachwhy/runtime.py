"""The process a job runs in: its CPU threads and its place among data-parallel processes."""

from __future__ import annotations

import os

import torch


def set_threads(threads: int) -> None:
    """Use the job's Snakemake ``threads`` for torch's intra-op pool (at least one)."""
    torch.set_num_threads(max(1, threads))


def world() -> tuple[int, int]:
    """(rank, processes): a launch with WORLD_SIZE > 1 joins its process group (NCCL on GPUs,
    gloo on CPU) through accelerate; anything else is the single process (0, 1)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        from accelerate import PartialState

        PartialState()
    return dist.get_rank(), dist.get_world_size()
