"""A byte-level BPE tokenizer trained on the pretraining corpus, with a ChatML-style template.

The template wraps assistant turns in ``{% generation %}`` markers (end-of-turn token inside),
which TRL needs for assistant-only loss.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from teachwhy import io
from teachwhy.records import read_dataset

BOS, EOS, PAD, START = "<|endoftext|>", "<|im_end|>", "<|pad|>", "<|im_start|>"
SPECIAL_TOKENS = [BOS, PAD, START, EOS]

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- message['content'] + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def render_chat(messages: list[dict[str, str]]) -> str:
    """The text the chat template produces for a full conversation (no generation prompt)."""
    out = []
    for message in messages:
        out.append(f"{START}{message['role']}\n{message['content']}{EOS}\n")
    return "".join(out)


def record_text(record: dict[str, Any]) -> str:
    """A training record as one document of text."""
    return record["text"] if record["format"] == "text" else render_chat(record["messages"])


def train_tokenizer(
    texts: Iterable[str], vocab_size: int, min_frequency: int
) -> PreTrainedTokenizerFast:
    """Train byte-level BPE on ``texts`` and wrap it for transformers."""
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(texts, trainer=trainer)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=BOS, eos_token=EOS, pad_token=PAD)
    tok.chat_template = CHAT_TEMPLATE
    return tok


def padded_vocab_size(tok: PreTrainedTokenizerFast, multiple: int = 64) -> int:
    """Model vocabulary: the tokenizer's length rounded up (BPE saturates on templated text)."""
    return -(-len(tok) // multiple) * multiple


def save_tokenizer(tok: PreTrainedTokenizerFast, out: str | Path) -> None:
    tok.save_pretrained(str(out))


def build_tokenizer(corpus: str | Path, spec: dict[str, Any], out: str | Path) -> dict[str, Any]:
    """Rule body: train on the corpus's documents and save atomically."""
    records = read_dataset(corpus)
    tok = train_tokenizer(
        (record_text(r) for r in records), spec["vocab_size"], spec["min_frequency"]
    )
    with io.atomic_path(out) as tmp:
        tmp.mkdir()
        save_tokenizer(tok, tmp)
    return {"vocab": len(tok), "model_vocab": padded_vocab_size(tok)}
