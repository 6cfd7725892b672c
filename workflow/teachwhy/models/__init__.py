"""Models on disk: the toy model's construction, checkpoints, and the Hugging Face and LoRA
backends; what both training and evaluation load."""
