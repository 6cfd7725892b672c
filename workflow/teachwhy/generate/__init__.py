"""Dataset generators: procedural (toy world) and anthropic (paper world)."""
