"""The generation limit of a model, sized from the responses its training taught.

A sample that reaches the limit before its action is `truncated`, its own outcome; a limit
shorter than what training taught would manufacture such samples for the arms trained on long
answers (deliberation), so the limit is at least the taught response length plus slack.
"""

from __future__ import annotations

from typing import Any

# The `evaluate` keys a sampling job reads (its rule's params): the rest of `evaluate` (suites,
# validity) belongs to other jobs, and a change to it must not resample anything.
SAMPLING_KEYS = ("temperature", "top_p", "batch_size", "max_new_tokens", "response_limit")
# The keys of a suite's own entry (evaluate.suites.<suite>) that sampling reads.
SUITE_SAMPLING_KEYS = ("samples_per_prompt", "max_new_tokens")


DEFAULT_RULE = {"quantile": "p99", "slack": 16, "ceiling": 512}


def generation_limit(floor: int, taught: dict[str, int], rule: dict[str, Any] | None) -> int:
    """``max(floor, taught[quantile] + slack)``, capped at ``ceiling`` (but never below
    ``floor``). ``taught`` is a card's ``response_tokens_lineage``; empty when the model was
    never fine-tuned on responses, which leaves the floor."""
    rule = {**DEFAULT_RULE, **(rule or {})}
    need = taught.get(rule["quantile"])
    if need is None:
        return floor
    return max(floor, min(rule["ceiling"], need + rule["slack"]))


def limit_record(floor: int, taught: dict[str, int], rule: dict[str, Any] | None) -> dict[str, Any]:
    """What the limit was sized from, for the job's record: ``capped`` is true when the ceiling
    cut it below what training taught (truncation then measures the ceiling, not the model)."""
    rule = {**DEFAULT_RULE, **(rule or {})}
    need = taught.get(rule["quantile"])
    limit = generation_limit(floor, taught, rule)
    wanted = None if need is None else need + rule["slack"]
    return {
        "floor": floor,
        "taught": need,
        "quantile": rule["quantile"],
        "max_new_tokens": limit,
        "capped": wanted is not None and wanted > limit,
    }
