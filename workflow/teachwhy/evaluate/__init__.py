"""Evaluation: sampling a model on a suite, grading, metrics and suite validity."""
