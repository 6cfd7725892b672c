"""Dataset generation: the toy world's procedural families (one module each under ``families``),
held-out eval prompts, and datasets written with their manifests."""
