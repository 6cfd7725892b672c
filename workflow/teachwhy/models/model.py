"""The toy base model: a small Llama-architecture causal LM built from config."""

from __future__ import annotations

from typing import Any

import torch
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase


def build_model(
    cfg: dict[str, Any], tok: PreTrainedTokenizerBase, vocab_size: int
) -> LlamaForCausalLM:
    """A freshly initialised Llama model sized by ``config.model``."""
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=cfg["hidden_size"],
        intermediate_size=cfg["intermediate_size"],
        num_hidden_layers=cfg["num_layers"],
        num_attention_heads=cfg["num_heads"],
        num_key_value_heads=cfg["num_heads"],
        max_position_embeddings=cfg["max_position_embeddings"],
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    return LlamaForCausalLM(config)


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
