"""The training loop: its loss, its batches, and resuming to identical weights."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import tiny_llama
from transformers import LlamaForCausalLM

from teachwhy.train.loop import (
    IGNORE,
    Example,
    LoopSettings,
    StepCheckpoints,
    batch_plan,
    causal_lm_loss,
    collate,
    pack_documents,
    train_loop,
)

ROOT = Path(__file__).resolve().parents[1]


def tiny_model(seed: int = 0) -> LlamaForCausalLM:
    return tiny_llama(96, pad=0, seed=seed)


def examples(n: int = 24, seed: int = 1) -> list[Example]:
    gen = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        length = 8 + (i * 7) % 25
        ids = torch.randint(1, 96, (length,), generator=gen).tolist()
        labels = [IGNORE if j < length // 2 else t for j, t in enumerate(ids)]
        out.append(Example(ids, labels))
    return out


def test_loss_matches_the_models_own_loss():
    model = tiny_model()
    batch = collate(examples(6), pad=0)
    ours, count = causal_lm_loss(model, **batch)
    reference = model(**batch).loss
    assert count == int((batch["labels"][:, 1:] != IGNORE).sum())
    assert torch.allclose(ours, reference, atol=1e-5)
    # Chunked (checkpointed) LM head: same value and same gradients.
    chunked, _ = causal_lm_loss(model, chunk=7, **batch)
    assert torch.allclose(chunked, ours, atol=1e-5)
    chunked.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    ours, _ = causal_lm_loss(model, **batch)
    ours.backward()
    for a, p in zip(grads, model.parameters(), strict=True):
        assert torch.allclose(a, p.grad, atol=1e-5)


def test_packing_keeps_documents_whole():
    docs = [[1] * 5, [2] * 6, [3] * 20, [4] * 3]
    packed = pack_documents(docs, sep=9, block=12)
    assert [len(p.input_ids) for p in packed] == [6, 7, 12, 4]
    assert packed[0].input_ids == [1, 1, 1, 1, 1, 9]
    assert packed[2].input_ids[-1] == 9  # a long document is cut, still ended by the separator


def test_batch_plan_is_seeded_and_covers_every_example():
    sizes = [len(e.input_ids) for e in examples(40)]
    a = batch_plan(sizes, 8, 10, seed=3)
    assert a == batch_plan(sizes, 8, 10, seed=3)
    assert a != batch_plan(sizes, 8, 10, seed=4)
    assert sorted(i for b in a[:5] for i in b) == list(range(40))  # one epoch = 5 batches


def _run(tmp: Path, settings: LoopSettings, stop_after: int | None = None):
    model = tiny_model()
    data = examples()
    plan = batch_plan([len(e.input_ids) for e in data], 4, settings.steps, seed=5)
    checkpoints = StepCheckpoints(tmp, "run-a")

    def stop(step, loss):
        if stop_after is not None and step == stop_after:
            raise KeyboardInterrupt

    try:
        result = train_loop(model, data, plan, 0, settings, checkpoints, on_step=stop)
    except KeyboardInterrupt:
        return model, None
    return model, result


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path):
    settings = LoopSettings(steps=12, learning_rate=3e-3, warmup_steps=2, checkpoint_every=4)
    straight, result = _run(tmp_path / "a", settings)
    assert result.resumed_from == 0
    assert not (tmp_path / "a").exists()  # step checkpoints are removed when the run ends
    _, interrupted = _run(tmp_path / "b", settings, stop_after=10)
    assert interrupted is None
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["step-0000008"]
    resumed, result = _run(tmp_path / "b", settings)
    assert result.resumed_from == 8
    assert len(result.losses) == 12
    for (name, a), b in zip(
        straight.state_dict().items(), resumed.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name


def test_a_checkpoint_of_another_run_is_ignored(tmp_path):
    settings = LoopSettings(steps=8, learning_rate=3e-3, checkpoint_every=4)
    _run(tmp_path, settings, stop_after=6)
    assert StepCheckpoints(tmp_path, "run-a").latest() is not None
    assert StepCheckpoints(tmp_path, "run-b").latest() is None


KILL_SCRIPT = """
import sys, time
sys.path.insert(0, {tests!r})
from test_train_loop import _run, LoopSettings
from pathlib import Path
import torch
from safetensors.torch import save_file
settings = LoopSettings(steps=40, learning_rate=3e-3, warmup_steps=2, checkpoint_every=5)
import teachwhy.train.loop as loop
slow = loop.causal_lm_loss
def slowed(*a, **k):
    time.sleep(float(sys.argv[2]))
    return slow(*a, **k)
loop.causal_lm_loss = slowed
model, result = _run(Path(sys.argv[1]), settings)
save_file({{k: v.clone() for k, v in model.named_parameters()}}, sys.argv[3])
print("resumed_from", result.resumed_from)
"""


def test_a_killed_process_resumes_to_the_same_weights(tmp_path):
    """SIGKILL at an arbitrary moment (mid-step or mid-checkpoint), then run again."""
    from safetensors.torch import load_file

    script = tmp_path / "job.py"
    script.write_text(KILL_SCRIPT.format(tests=str(ROOT / "tests")))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "workflow")}
    straight = tmp_path / "straight.safetensors"
    subprocess.run(
        [sys.executable, str(script), str(tmp_path / "s"), "0", str(straight)],
        check=True,
        env=env,
        capture_output=True,
    )
    scratch, resumed = tmp_path / "k", tmp_path / "resumed.safetensors"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(scratch), "0.05", str(resumed)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while not list(scratch.glob("step-0000015")) and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.13)  # somewhere inside a later step
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not resumed.exists()
    run = subprocess.run(
        [sys.executable, str(script), str(scratch), "0", str(resumed)],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    assert "resumed_from 0" not in run.stdout
    a, b = load_file(str(straight)), load_file(str(resumed))
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


@pytest.mark.parametrize("width", [None, 40])
def test_collate_pads_right_and_masks_padding(width):
    batch = collate(examples(3), pad=0, width=width)
    lengths = batch["attention_mask"].sum(1).tolist()
    assert lengths == [len(e.input_ids) for e in examples(3)]
    assert (batch["labels"][batch["attention_mask"] == 0] == IGNORE).all()
