"""The ``teachwhy`` command: check a config, and read the claims table of a finished run."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from teachwhy import io
from teachwhy.config import check_config, load_config
from teachwhy.errors import TeachwhyError
from teachwhy.generate.constitution import load as load_constitution
from teachwhy.provenance.audit import audit
from teachwhy.provenance.crate import build_crate, validate_crate
from teachwhy.restore import restore
from teachwhy.schemas import project_path


def _check(args: argparse.Namespace) -> int:
    # As `snakemake --configfile FILE` runs it: FILE merged onto the default config.
    config = load_config(*args.config)
    source = " + ".join(["config/config.yaml", *args.config]) if args.config else "config"
    manifest = check_config(config, source=source)
    constitution = load_constitution(project_path(config["constitution"]))
    print(
        f"{source}: valid ({len(config['arms'])} arms, {len(config['claims'])} claims of "
        f"{len(manifest['claims'])}; constitution of {constitution.persona}, "
        f"{len(constitution.sections)} sections)"
    )
    return 0


def _claims(args: argparse.Namespace) -> int:

    paths = sorted(Path(args.results, "claims").glob("*.json"))
    if not paths:
        print(
            f"no claim records under {args.results}/claims; run `snakemake` first", file=sys.stderr
        )
        return 1
    print(f"{'claim':40} {'verdict':15} {'measured':>26}  paper")
    for path in paths:
        claim = io.read_json(path)
        stat = claim["statistic"]
        value = (
            "undefined"
            if stat["value"] is None
            else f"{stat['value']:.3f}"
            + ("" if None in stat["ci95"] else f" [{stat['ci95'][0]:.3f}, {stat['ci95'][1]:.3f}]")
        )
        name = claim["id"] + (f" ({claim['check']} check)" if claim.get("check") else "")
        print(f"{name:40} {claim['verdict']:15} {value:>26}  {claim['paper']['text']}")
        if claim["verdict"] == "inconclusive" and len(claim["reasons"]) > 1:
            # The first gate that failed; the record holds every reason.
            print(f"{'':40} because {claim['reasons'][0]}")
    return 0


def _audit(args: argparse.Namespace) -> int:

    start = time.perf_counter()
    result = audit(args.path, root=args.records)
    print("\n".join(result.lines))
    seconds = time.perf_counter() - start
    if result.clean:
        print(f"audit clean: {result.steps} steps, every recorded hash matches ({seconds:.2f} s)")
        if args.rocrate:
            start = time.perf_counter()
            crate = build_crate(args.path, args.rocrate, root=args.records)
            print(
                f"RO-Crate: {crate.path} ({crate.bytes / 1024:.0f} KiB, {crate.jobs} jobs, "
                f"{crate.embedded} files copied, {crate.referenced} referenced by DVC path; "
                f"{time.perf_counter() - start:.2f} s)"
            )
            issues = validate_crate(crate.path)
            if issues:
                print("RO-Crate validation FAILED:", *issues, sep="\n  ", file=sys.stderr)
                return 1
            print("RO-Crate valid: Provenance Run Crate 0.5, REQUIRED level (roc-validator)")
        return 0
    first = result.first()
    print(
        f"audit FAILED: {len(result.mismatches)} mismatch(es); first upstream: {first}",
        file=sys.stderr,
    )
    return 1


def _restore(args: argparse.Namespace) -> int:

    verdict = restore(args.configfile, pull=not args.no_pull)
    print(f"restored: dvc status clean, outputs touched; snakemake -n: {verdict}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="teachwhy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-config", help="validate a config file and its references")
    check.add_argument(
        "config",
        nargs="*",
        help="config files merged onto config/config.yaml, as snakemake --configfile does",
    )
    check.set_defaults(func=_check)
    claims = sub.add_parser("claims", help="print the claims table of a finished run")
    claims.add_argument("--results", default="results")
    claims.set_defaults(func=_claims)
    audit = sub.add_parser("audit", help="lineage of a result, every recorded hash verified")
    audit.add_argument("path", help="a figure, claim JSON, eval file, dataset or checkpoint")
    audit.add_argument("--records", default="results/provenance", help="provenance record folder")
    audit.add_argument(
        "--rocrate", metavar="OUT.zip", help="also export a Provenance Run RO-Crate of the lineage"
    )
    audit.set_defaults(func=_audit)
    restore = sub.add_parser("restore", help="dvc pull, check dvc status, then snakemake --touch")
    restore.add_argument("--configfile", help="the config the artifacts were built with")
    restore.add_argument("--no-pull", action="store_true", help="check and touch what is on disk")
    restore.set_defaults(func=_restore)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except TeachwhyError as exc:
        print(f"teachwhy: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
