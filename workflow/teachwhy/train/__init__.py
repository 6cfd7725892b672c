"""Training: tokenizer, pretraining, and the fine-tuning stages of every arm's recipe."""
