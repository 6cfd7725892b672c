"""Training: tokenizer, toy model, pretraining and fine-tuning."""
