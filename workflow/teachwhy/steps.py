"""Running one workflow step from a Snakemake ``script:``: log file, timing, clean errors."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from teachwhy.errors import TeachwhyError
from teachwhy.io import write_json
from teachwhy.provenance.records import job_record, record_path


def run(smk: Any, step: Callable[[], Any], tools: dict[str, str] | None = None) -> Any:
    """Call ``step`` with a log at ``smk.log[0]``, then write the job's provenance record.

    A TeachwhyError exits with its message only. ``tools`` names the generator or grader used.
    """
    log_path = Path(smk.log[0]) if smk.log else None
    logger = logging.getLogger("teachwhy")
    logger.setLevel(logging.INFO)
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logging.captureWarnings(True)
    logger.info("rule %s, wildcards %s", smk.rule, dict(smk.wildcards))
    start = time.time()
    try:
        result = step()
    except TeachwhyError as exc:
        logger.error("%s", exc)
        print(f"teachwhy: error: {exc}", file=sys.stderr)
        sys.exit(1)
    summary = (
        {k: v for k, v in (result or {}).items() if not isinstance(v, list | dict)}
        if isinstance(result, dict)
        else {}
    )
    finished = time.time()
    logger.info("done in %.1f s: %s", finished - start, json.dumps(summary, default=str))
    record = job_record(smk, start, finished, tools or {})
    where = record_path(smk.rule, record["wildcards"])
    write_json(where, record)
    logger.info("code %s, provenance record %s", record["code_version"], where)
    return result
