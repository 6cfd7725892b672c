"""Evaluation: suites, conditions, sampling, graders and metrics."""
