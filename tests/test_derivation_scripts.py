"""CI runs every ``derivations/*.py`` script (issue 13): each, run alone in a fresh interpreter, exits 0,
prints at least one verdict computed by a check, and no FAIL.

The scripts print through :func:`symcoll.derive.print_derivation` (one ``verdict: X`` line per
check); the older one-line format of ``Check.line()`` is also recognised.  Parametrized over the
files present, so a new script is run without editing this test.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from symcoll.derive import VERDICTS

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "derivations").glob("*.py"))
_VERDICT = "|".join(map(re.escape, VERDICTS))
_LINE = re.compile(rf"^\s*(?:verdict: ({_VERDICT})\s*$|({_VERDICT})\s{{2,}}\S)")


def verdict_lines(text):
    """The verdicts printed by a script, one per check line."""
    out = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            out.append(m.group(1) or m.group(2))
    return out


def test_verdict_parser():
    text = "    verdict: MISPRINT\n   AGREES                (C4)   s\nverdicts: 1 AGREES, 0 FAIL\n  statement FAIL here"
    assert verdict_lines(text) == ["MISPRINT", "AGREES"]


def test_scripts_exist():
    assert len(SCRIPTS) >= 10, SCRIPTS


def _run(script):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OPENBLAS_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def runs():
    """Every script run once, two at a time (each is a fresh interpreter; the machine has 2 cores)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(SCRIPTS, pool.map(_run, SCRIPTS)))


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_script_runs_and_prints_computed_verdicts(script, runs):
    proc = runs[script]
    verdicts = verdict_lines(proc.stdout)
    assert proc.returncode == 0, f"{script.name} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert verdicts, f"{script.name} printed no verdict line:\n{proc.stdout[-2000:]}"
    assert "FAIL" not in verdicts, f"{script.name} printed FAIL:\n{proc.stdout[-3000:]}"
    text = script.read_text()
    assert 'if __name__ == "__main__"' in text or "if __name__ == '__main__'" in text, "no __main__ guard"
