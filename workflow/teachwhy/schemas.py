"""JSON Schema (2020-12) validation for config, suites, claims and dataset records."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from teachwhy.errors import InputError

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO_ROOT / "config" / "schemas"


def project_path(relative: str) -> Path:
    """A project file (suite, claims manifest) under the working directory, where Snakemake runs,
    falling back to the checkout that holds this package."""
    local = Path.cwd() / relative
    return local if local.exists() else REPO_ROOT / relative


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema from config/schemas by stem, e.g. ``load_schema("config")``."""
    with open(SCHEMA_DIR / f"{name}.schema.yaml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@functools.cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def key_path(error: jsonschema.ValidationError) -> str:
    """A readable key path such as ``arms.chat_hhh.datasets[0]``."""
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def problems(instance: Any, schema_name: str) -> list[str]:
    """Every schema violation as 'key.path: reason', deepest first."""
    errors = sorted(_validator(schema_name).iter_errors(instance), key=lambda e: e.path)
    return [f"{key_path(err)}: {err.message}" for err in errors]


def apply_defaults(instance: Any, schema: dict[str, Any]) -> Any:
    """Fill in ``default`` values of the schema's object properties, recursively, in place."""
    if not isinstance(instance, dict):
        return instance
    for key, sub in schema.get("properties", {}).items():
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if key in instance:
            apply_defaults(instance[key], sub)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key, value in instance.items():
            if key not in schema.get("properties", {}):
                apply_defaults(value, extra)
    return instance


def validate(instance: Any, schema_name: str, source: object) -> None:
    """Raise InputError naming ``source`` and the first offending key path."""
    found = problems(instance, schema_name)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise InputError(source, found[0] + more)


# libyaml's loader when PyYAML has it: the Snakefile parses a dozen suite files on every call.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: str | Path, schema_name: str | None = None) -> Any:
    """Read a YAML file, optionally validating it; errors name the file and line or key."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file is missing")
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_SAFE_LOADER)
    except UnicodeDecodeError as exc:
        raise InputError(
            path, f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(path, f"not valid YAML ({getattr(exc, 'problem', exc)})", line) from None
    if schema_name is not None:
        validate(data, schema_name, path)
    return data
