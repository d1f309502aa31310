"""``symcoll verify``: run every registered derivation and print one computed verdict per checked equation.

The derivations (``symcoll/symbolic/*.py``) check the paper's Eqs. (9)-(75) of Secs. II-VI and
Appendices A (A1)-(A7), B (B1)-(B3) and C (C1)-(C39) against symcoll's own derivations: each check
compares a derived with a printed form and records AGREES, MISPRINT (with the checked
correction), DIFFERS-BY-CONVENTION or FAIL (:mod:`symcoll.derive`).  ``symcoll verify --coverage``
lists every numbered equation with the checks that cover it or the reason it is not checkable
(:mod:`symcoll.coverage`); README_derivations.md maps equation -> script -> result.
"""
from __future__ import annotations

import io
import sys
import time

from .derive import (VERDICT_MEANING, VERDICTS, format_counts, format_form, portable, print_derivation,
                     registry, run_derivation, verdict_counts)


def select(only=None) -> list:
    """Names of the derivations to run, in registry order: all, or those named in ``only``
    (a list of names, each possibly comma-separated).  Unknown names: ValueError listing the known ones."""
    names = list(registry())
    if not only:
        return names
    wanted = [n.strip() for item in ([only] if isinstance(only, str) else only) for n in str(item).split(",")]
    wanted = [n for n in wanted if n]
    unknown = [n for n in wanted if n not in names]
    if unknown or not wanted:
        raise ValueError(f"--only: unknown derivation {', '.join(map(repr, unknown)) or repr('')}; "
                         f"known derivations: {', '.join(names)}")
    return [n for n in names if n in wanted]


def _run_portable(name):
    """Worker-process entry: run one derivation and make its forms picklable."""
    return portable(run_derivation(name))


def run_derivations(names, jobs: int = 1):
    """Yield the finished derivations of ``names`` in the order given, each as soon as it (and all
    before it) is done.  ``jobs > 1`` runs them in that many worker processes, submitted longest first
    according to the seconds of the previous run (``$SYMCOLL_CACHE/verify_seconds.json``, else
    ``./.symcoll-cache/verify_seconds.json``; a scheduling hint only, written best effort)."""
    if jobs < 1:
        raise ValueError(f"jobs must be a positive integer (got {jobs})")
    if jobs == 1 or len(names) <= 1:
        seconds = {}
        for n in names:
            d = run_derivation(n)
            seconds[n] = d.seconds
            yield d
        _save_seconds({**_load_seconds(), **seconds})
        return
    from concurrent.futures import ProcessPoolExecutor

    last = _load_seconds()
    # longest first (seconds of the last run; unknown ones first): shortest makespan on few workers
    order = sorted(names, key=lambda n: -last.get(n, float("inf")))
    seconds = {}
    with ProcessPoolExecutor(max_workers=min(jobs, len(names))) as pool:
        futures = {n: pool.submit(_run_portable, n) for n in order}
        for n in names:
            f = futures[n]
            try:
                d = f.result()
                seconds[n] = d.seconds
                yield d
            except Exception as exc:  # a worker that died (e.g. killed): a FAIL of that derivation
                from .derive import Derivation

                d = Derivation(n, [], "")
                d.check("(derivation)", f"the derivation ran to completion in a worker process "
                                        f"({type(exc).__name__}: {exc})", False, method="exception")
                yield d
    _save_seconds({**last, **seconds})


def _seconds_file():
    import os
    from pathlib import Path

    root = os.environ.get("SYMCOLL_CACHE")
    return (Path(root) if root else Path.cwd() / ".symcoll-cache") / "verify_seconds.json"


def _load_seconds() -> dict:
    """Seconds per derivation of the last ``--jobs`` run (only used to schedule; {} if absent or unreadable)."""
    import json

    try:
        data = json.loads(_seconds_file().read_text())
        return {str(k): float(v) for k, v in data.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def _save_seconds(seconds: dict):
    """Best effort: a scheduling hint, never an error of ``symcoll verify``."""
    import json

    try:
        path = _seconds_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        from .outputs import atomic_write

        atomic_write(path, lambda fh: json.dump(seconds, fh, indent=1, sort_keys=True))
    except OSError:
        pass


def main(args=None) -> int:
    verbose = bool(getattr(args, "verbose", False))
    latex = bool(getattr(args, "latex", False))
    jobs = int(getattr(args, "jobs", 1) or 1)
    report = getattr(args, "report", None)
    show_coverage = bool(getattr(args, "coverage", False))
    names = select(getattr(args, "only", None))
    if report is not None:
        from .outputs import check_output_file

        check_output_file(report, "--report")

    t0 = time.perf_counter()
    done = []
    for d in run_derivations(names, jobs):
        done.append(d)
        if verbose:
            print_derivation(d, ["--latex"] if latex else [])
            continue
        print(f"-- {d.name}: {d.title} ({d.seconds:.1f} s)")
        for c in d.checks:
            print("   " + c.line())
        sys.stdout.flush()
    wall = time.perf_counter() - t0

    counts = verdict_counts(c for d in done for c in d.checks)
    if show_coverage or report is not None:
        from . import coverage as cov

        rows = cov.coverage(done)
    if show_coverage:
        print()
        print(cov.format_table(rows))
        if len(names) < len(registry()):
            print("(coverage of the derivations run only: --only was given)")
    print("time per derivation (s): " + ", ".join(f"{d.name} {d.seconds:.1f}" for d in done)
          + f"; sum {sum(d.seconds for d in done):.1f}, wall {wall:.1f} with --jobs {jobs}")
    if report is not None:
        from .outputs import atomic_write

        text = report_markdown(done, rows, counts, wall=wall, jobs=jobs, partial=len(names) < len(registry()))
        atomic_write(report, lambda fh: fh.write(text))
        print(f"report written to {report}")
    print("verdicts: " + format_counts(counts))
    return 1 if counts["FAIL"] else 0


def _latex_block(obj):
    text = format_form(obj, latex=True)
    return f"$$\n{text}\n$$" if text else ""


def report_markdown(derivations, rows, counts, wall=None, jobs=1, partial=False) -> str:
    """The ``--report`` document (Markdown with LaTeX): checks grouped by derivation, coverage, counts."""
    from . import coverage as cov

    out = io.StringIO()
    w = out.write
    w("# symcoll verify: derivations of the paper, derived vs printed forms\n\n")
    w("Generated by `symcoll verify --report`; every verdict below is the verdict of a computed check.\n\n")
    w("Verdicts: " + "; ".join(f"**{v}**: {m}" for v, m in VERDICT_MEANING.items()) + ".\n\n")
    w("## Count per verdict\n\n| verdict | checks |\n|---|---|\n")
    for v in VERDICTS:
        w(f"| {v} | {counts[v]} |\n")
    w(f"\n{sum(counts.values())} checks in {len(derivations)} derivations.\n\n")
    w("## Checks by derivation\n\n")
    for d in derivations:
        w(f"### `{d.name}`: {d.title}\n\n")
        if d.equations:
            w(f"Declared equations: {', '.join(d.equations)}.  Time: {d.seconds:.2f} s.  "
              f"Counts: {format_counts(verdict_counts(d.checks))}.\n\n")
        if d.steps:
            w("Steps:\n\n" + "".join(f"{i}. {s}\n" for i, s in enumerate(d.steps, 1)) + "\n")
        for i, c in enumerate(d.checks, 1):
            w(f"#### {i}. {c.equation} -- {c.verdict}\n\n")
            w(f"*Statement:* {c.statement}\n\n")
            if c.derived is not None:
                w("*Derived (symcoll):*\n\n" + _latex_block(c.derived) + "\n\n")
            if c.printed is not None:
                w("*Printed (paper):*\n\n" + _latex_block(c.printed) + "\n\n")
            if c.correction is not None:
                w("*Correction (the printed form corrected, checked equal to the derived form):*\n\n"
                  + _latex_block(c.correction) + "\n\n")
            if c.convention:
                w(f"*Convention:* {c.convention}\n\n")
            label = "Simplified difference derived - printed" if c.printed is not None else "Residual"
            if c.residual is not None:
                w(f"*Evidence:* method {c.method}; {label.lower()}:\n\n" + _latex_block(c.residual) + "\n\n")
            else:
                w(f"*Evidence:* method {c.method}.\n\n")
            w(f"*Verdict:* **{c.verdict}**\n\n")
    w("## Coverage of the paper's numbered equations\n\n")
    if partial:
        w("(Only some derivations were run (--only): the table covers those.)\n\n")
    w(cov.format_table(rows, markdown=True) + "\n\n")
    others = cov.other_labels(derivations)
    if others:
        w("Checks under other labels: " + ", ".join(others) + ".\n\n")
    w("## Time per derivation\n\n| derivation | seconds |\n|---|---|\n")
    for d in derivations:
        w(f"| {d.name} | {d.seconds:.2f} |\n")
    if wall is not None:
        w(f"\nWall time {wall:.1f} s with --jobs {jobs} (sum of the derivations "
          f"{sum(d.seconds for d in derivations):.1f} s).\n")
    return out.getvalue()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
