"""The honeypot families and eval suites as data, and the cast that fills them: what both
generation and evaluation read."""
