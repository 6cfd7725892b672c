"""``teachwhy audit PATH --rocrate OUT.zip``: a Workflow Run RO-Crate of one result's lineage.

The crate follows the Provenance Run Crate profile (which includes Workflow Run Crate, Process
Run Crate and Workflow RO-Crate): the Snakefile is the main workflow, each rule is a tool with
a ``HowToStep``, each job is a ``CreateAction`` with its inputs, outputs and times, a
``ControlAction`` ties each job to its step, and an ``OrganizeAction`` ties Snakemake to the run.
Small files are copied in; heavy ones (checkpoints, datasets, samples) are described by their
DVC path, DVC stage and sha256, not copied. Claim verdicts become ``Claim`` entities.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rocrate.model import ContextEntity
from rocrate.rocrate import ROCrate

from teachwhy.errors import InputError
from teachwhy.io import atomic_path
from teachwhy.provenance.audit import _norm, audit, lineage, load_records
from teachwhy.provenance.records import PROVENANCE_ROOT, hash_path

EMBED_MAX_BYTES = 1 << 20
# Datasets, checkpoints and transcripts are referenced by DVC path and hash whatever their size.
HEAVY_PREFIXES = ("results/data/", "results/models/")
HEAVY_SUFFIXES = (".jsonl",)
# Workflow Run Crate 0.5 builds on RO-Crate 1.1 (ro-crate-py adds Workflow RO-Crate 1.0 itself).
RO_CRATE_VERSION = "1.1"
PROFILES = {
    "https://w3id.org/ro/wfrun/process/0.5": ("Process Run Crate", "0.5"),
    "https://w3id.org/ro/wfrun/workflow/0.5": ("Workflow Run Crate", "0.5"),
    "https://w3id.org/ro/wfrun/provenance/0.5": ("Provenance Run Crate", "0.5"),
}
COMPLETED = "http://schema.org/CompletedActionStatus"
ENCODINGS = {
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".yaml": "application/yaml",
    ".csv": "text/csv",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".rst": "text/x-rst",
    ".md": "text/markdown",
    ".smk": "text/x-snakemake",
    ".safetensors": "application/octet-stream",
}
WROC_PROFILE = "https://w3id.org/workflowhub/workflow-ro-crate/1.0"
# RO-Crate 1.1's context has no sha256 term; this is the one later versions and WRROC use.
EXTRA_TERMS = {"sha256": "https://w3id.org/ro/terms#sha256"}
# JSON-LD contexts the validator resolves over HTTP, served from files in the package instead.
CONTEXTS = {
    "https://w3id.org/ro/crate/1.1/context": Path(__file__).with_name("contexts")
    / "ro-crate-1.1.jsonld",
}
WORKFLOW_FILES = ("Snakefile", "workflow/rules")
ENGINE_ID = "https://snakemake.github.io/"
LICENSE = "https://spdx.org/licenses/MIT"


@dataclass
class CrateSummary:
    path: Path
    jobs: int
    embedded: int
    referenced: int
    bytes: int


def _dvc_outs(project: Path) -> list[tuple[str, str, str | None]]:
    """(out path, stage, md5 from dvc.lock or None) for every DVC out of the project."""
    dvc_yaml = project / "dvc.yaml"
    if not dvc_yaml.is_file():
        return []
    stages = (yaml.safe_load(dvc_yaml.read_text()) or {}).get("stages", {})
    lock_file = project / "dvc.lock"
    lock = (yaml.safe_load(lock_file.read_text()) or {}) if lock_file.is_file() else {}
    found = []
    for stage, spec in stages.items():
        locked = {
            o["path"]: o.get("md5") for o in lock.get("stages", {}).get(stage, {}).get("outs", [])
        }
        for out in spec.get("outs", []):
            name = out if isinstance(out, str) else next(iter(out))
            found.append((_norm(name), stage, locked.get(name)))
    return found


class _Builder:
    """Accumulates the crate's JSON-LD graph; ids are project-relative paths or ``#`` ids."""

    def __init__(self, project: Path, embed_max_bytes: int) -> None:
        self.project = project
        self.embed_max_bytes = embed_max_bytes
        self.graph: dict[str, dict[str, Any]] = {}
        self.payload: dict[str, Path] = {}
        self.dvc_outs = _dvc_outs(project)

    def add(self, entity: dict[str, Any]) -> dict[str, str]:
        existing = self.graph.get(entity["@id"])
        if existing is None:
            self.graph[entity["@id"]] = entity
        else:
            existing.update({k: v for k, v in entity.items() if k not in existing})
        return {"@id": entity["@id"]}

    def data(self, path: str, recorded: str | None = None) -> dict[str, str]:
        """A file or folder: copied in when small, else described by its DVC path and hash."""
        path = _norm(path)
        local = self.project / path
        info = hash_path(local)
        if recorded is not None and info["sha256"] != recorded:
            raise InputError(path, "bytes changed since the run recorded them; audit it first")
        small = (
            info["kind"] == "file"
            and info["bytes"] <= self.embed_max_bytes
            and not path.startswith(HEAVY_PREFIXES)
            and not path.endswith(HEAVY_SUFFIXES)
        )
        entity: dict[str, Any] = {
            "@id": path if small else f"#dvc:{path}",
            "@type": "Dataset" if info["kind"] == "directory" else "File",
            "name": Path(path).name,
            "sha256": info["sha256"],
        }
        if info["kind"] == "file":
            entity["contentSize"] = str(info["bytes"])
            entity["encodingFormat"] = ENCODINGS.get(Path(path).suffix, "application/octet-stream")
        if small:
            self.payload[path] = local
        else:
            entity["identifier"] = path
            entity["description"] = self._dvc_note(path, info)
        return self.add(entity)

    def _dvc_note(self, path: str, info: dict[str, Any]) -> str:
        owner = next(
            (
                (out, stage, md5)
                for out, stage, md5 in self.dvc_outs
                if path.startswith(out + "/") or path == out
            ),
            None,
        )
        size = f"{info['files']} files" if info["kind"] == "directory" else f"{info['bytes']} bytes"
        if owner is None:
            return f"Not copied ({size}); not tracked by DVC, rebuild it with Snakemake."
        out, stage, md5 = owner
        locked = f", out md5 {md5} in dvc.lock" if md5 else ""
        return (
            f"Not copied ({size}). DVC stage '{stage}' tracks it under '{out}'{locked}; "
            f"`dvc pull {out}` fetches it, and its sha256 here checks the bytes."
        )


def _materialise(builder: _Builder, workflow_id: str) -> ROCrate:
    """The graph as an ro-crate-py crate: payload files copied, everything else contextual."""
    crate = ROCrate(version=RO_CRATE_VERSION)
    crate.metadata.extra_terms = dict(EXTRA_TERMS)
    for entity_id, entity in builder.graph.items():
        props = {k: v for k, v in entity.items() if k != "@id"}
        if entity_id == workflow_id:
            crate.add_workflow(
                builder.payload[entity_id], entity_id, main=True, lang="snakemake", properties=props
            )
        elif entity_id in builder.payload:
            crate.add_file(builder.payload[entity_id], entity_id, properties=props)
        else:
            crate.add(ContextEntity(crate, entity_id, props))
    return crate


def _one_or_many(refs: list[dict[str, str]]) -> dict[str, str] | list[dict[str, str]]:
    """RO-Crate prefers a single value to a one-element list."""
    return refs[0] if len(refs) == 1 else refs


def _job_id(record: dict[str, Any]) -> str:
    wildcards = "/".join(f"{k}={v}" for k, v in record["wildcards"].items())
    return f"#job/{record['rule']}" + (f"/{wildcards}" if wildcards else "")


def _claim_entity(builder: _Builder, path: str) -> None:
    claim = json.loads((builder.project / path).read_text(encoding="utf-8"))
    stat = claim["statistic"]
    measured = (
        "undefined"
        if stat["value"] is None
        else f"{stat['value']:.3f}"
        + ("" if None in stat["ci95"] else f" [{stat['ci95'][0]:.3f}, {stat['ci95'][1]:.3f}]")
    )
    builder.add(
        {
            "@id": f"#claim/{claim['id']}",
            "@type": "Claim",
            "name": claim["id"],
            "text": claim["statement"],
            "description": (
                f"verdict: {claim['verdict']}; {stat['kind']} measured {measured}; "
                f"paper: {claim['paper']['text']} ({claim['paper']['source']})"
            ),
            "appearance": {"@id": path},
        }
    )


def build_crate(
    target: str | Path,
    out: str | Path,
    root: str | Path = PROVENANCE_ROOT,
    embed_max_bytes: int = EMBED_MAX_BYTES,
) -> CrateSummary:
    """Write the Provenance Run Crate of ``target`` to the zip ``out``; refuse a dirty lineage.

    Paths are relative to the project folder, which is the working directory, as for the audit.
    """
    project = Path(".")
    index = load_records(root)
    checked = audit(target, root=root, index=index)
    if not checked.clean:
        raise InputError(target, f"lineage does not audit clean ({checked.first()})")
    records = lineage(target, index)
    builder = _Builder(project, embed_max_bytes)

    rules = sorted({r["rule"] for r in records})
    engine_version = records[0].get("packages", {}).get("snakemake", "unknown")
    workflow_id = "Snakefile"
    tools = {rule: f"#rule/{rule}" for rule in rules}
    for position, rule in enumerate(rules, start=1):
        builder.add(
            {
                "@id": tools[rule],
                "@type": "SoftwareApplication",
                "name": f"Snakemake rule {rule}",
                "version": records[0].get("code_version", "unknown"),
            }
        )
        builder.add(
            {
                "@id": f"#step/{rule}",
                "@type": "HowToStep",
                "name": rule,
                "position": str(position),
                "workExample": {"@id": tools[rule]},
            }
        )

    for rule_file in sorted((project / "workflow" / "rules").glob("*.smk")):
        builder.data(rule_file.relative_to(project).as_posix())
    builder.payload[workflow_id] = project / workflow_id
    builder.add(
        {
            "@id": workflow_id,
            "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow", "HowTo"],
            "name": "teachwhy: Teaching Claude Why, rebuilt as one Snakemake DAG",
            "hasPart": [{"@id": tools[r]} for r in rules],
            "step": [{"@id": f"#step/{r}"} for r in rules],
            "version": records[0].get("code_version", "unknown"),
            "sha256": hash_path(project / workflow_id)["sha256"],
        }
    )
    builder.add(
        {
            "@id": ENGINE_ID,
            "@type": "SoftwareApplication",
            "name": "Snakemake",
            "version": engine_version,
        }
    )

    produced: set[str] = set()
    sources: dict[str, dict[str, str]] = {}
    controls = []
    for record in records:
        inputs = [builder.data(i["path"], i["sha256"]) for i in record["inputs"]]
        outputs = [builder.data(o["path"], o["sha256"]) for o in record["outputs"]]
        produced.update(_norm(o["path"]) for o in record["outputs"])
        for item, ref in zip(record["inputs"], inputs, strict=True):
            sources[_norm(item["path"])] = ref
        record_ref = builder.data(record["_file"])
        job = _job_id(record)
        builder.add(
            {
                "@id": job,
                "@type": "CreateAction",
                "name": f"Run of {record['rule']}"
                + "".join(f" {k}={v}" for k, v in record["wildcards"].items()),
                "instrument": {"@id": tools[record["rule"]]},
                "object": _one_or_many(inputs),
                "result": _one_or_many(outputs),
                "startTime": record["started"],
                "endTime": record["finished"],
                "actionStatus": COMPLETED,
                "subjectOf": record_ref,
                "description": (
                    f"seed {record.get('seed')}, world {record.get('world')}, code "
                    f"{record.get('code_version')}, host {record.get('host', {}).get('node')}, "
                    f"device {record.get('device')}, {record.get('threads')} threads"
                ),
            }
        )
        control = f"#control/{job.removeprefix('#job/')}"
        builder.add(
            {
                "@id": control,
                "@type": "ControlAction",
                "name": f"Orchestrate {record['rule']}",
                "instrument": {"@id": f"#step/{record['rule']}"},
                "object": {"@id": job},
            }
        )
        controls.append({"@id": control})

    target_norm = _norm(target)
    run_results = [builder.data(o["path"], o["sha256"]) for o in records[0]["outputs"]]
    run_objects = [ref for path, ref in sorted(sources.items()) if path not in produced]
    builder.add(
        {
            "@id": "#run",
            "@type": "CreateAction",
            "name": f"Snakemake run that produced {target_norm}",
            "description": (
                f"The {len(records)} jobs of the DAG that {target_norm} depends on; sources are "
                "the files no job in the lineage wrote."
            ),
            "instrument": {"@id": workflow_id},
            "object": _one_or_many(run_objects),
            "result": _one_or_many(run_results),
            "startTime": min(r["started"] for r in records),
            "endTime": max(r["finished"] for r in records),
            "actionStatus": COMPLETED,
        }
    )
    builder.add(
        {
            "@id": "#organize",
            "@type": "OrganizeAction",
            "name": "Snakemake orchestration",
            "instrument": {"@id": ENGINE_ID},
            "object": _one_or_many(controls),
            "result": {"@id": "#run"},
        }
    )
    for path in builder.payload:
        if path.startswith("results/claims/") and path.endswith(".json"):
            _claim_entity(builder, path)

    crate = _materialise(builder, workflow_id)
    root_props = {
        "name": f"teachwhy lineage of {target_norm}",
        "description": (
            f"Every job behind {target_norm}, each input and output with its sha256, "
            f"audited clean over {checked.steps} steps when this crate was written."
        ),
        "datePublished": records[0]["finished"],
        "license": crate.add(
            ContextEntity(crate, LICENSE, {"@type": "CreativeWork", "name": "MIT License"})
        ),
        "mentions": [crate.get("#run"), *(crate.get(_job_id(r)) for r in records)],
    }
    for key, value in root_props.items():
        crate.root_dataset[key] = value
    profiles = crate.root_dataset.get("conformsTo", [])
    profiles = profiles if isinstance(profiles, list) else [profiles]
    for uri, (name, version) in {**PROFILES, WROC_PROFILE: ("Workflow RO-Crate", "1.0")}.items():
        props = {"@type": ["CreativeWork", "Profile"], "name": name, "version": version}
        profiles.append(crate.add(ContextEntity(crate, uri, props)))
    crate.root_dataset["conformsTo"] = profiles
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        crate.write_zip(tmp)
    referenced = sum(1 for i in builder.graph if i.startswith("#dvc:"))
    return CrateSummary(out, len(records), len(builder.payload), referenced, out.stat().st_size)


def _seed_http_cache(cache_name: str) -> None:
    """A requests-cache database that answers each context URL in CONTEXTS from its file."""
    import io

    from requests.adapters import HTTPAdapter
    from requests_cache import CachedSession
    from urllib3.response import HTTPResponse

    class LocalFiles(HTTPAdapter):
        def send(self, request, **kwargs):  # noqa: ARG002  (the adapter's signature)
            body = CONTEXTS[request.url].read_bytes()
            raw = HTTPResponse(
                body=io.BytesIO(body),
                headers={"Content-Type": "application/ld+json"},
                status=200,
                preload_content=False,
                request_url=request.url,
            )
            return self.build_response(request, raw)

    session = CachedSession(cache_name=cache_name, backend="sqlite", expire_after=-1)
    session.mount("https://", LocalFiles())
    for url in CONTEXTS:
        session.get(url, headers={"Accept": "application/ld+json, application/json"})
    session.close()


def validate_crate(path: str | Path, profile: str = "provenance-run-crate") -> list[str]:
    """Issues the RO-Crate validator (roc-validator) finds at REQUIRED level; empty when valid.

    Runs offline: the only remote document it needs, the RO-Crate 1.1 context, comes from the
    package (``contexts/``).
    """
    import tempfile

    from rocrate_validator import services
    from rocrate_validator.models import ValidationSettings

    with tempfile.TemporaryDirectory(prefix="teachwhy-crate-check-") as tmp:
        cache = str(Path(tmp) / "http-cache")
        _seed_http_cache(cache)
        settings = ValidationSettings(
            rocrate_uri=str(Path(path).resolve()),
            profile_identifier=profile,
            requirement_severity="REQUIRED",
            offline=True,
            cache_path=Path(cache),
        )
        result = services.validate(settings)
        return [
            f"[{issue.check.identifier}] {issue.message}"
            + (f" ({issue.violatingEntity})" if getattr(issue, "violatingEntity", None) else "")
            for issue in result.get_issues()
        ]
