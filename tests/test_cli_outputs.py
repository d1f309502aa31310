"""The command line's outputs and bad input (issue 10, items 8, 9 and 11).

* 8: ``symcoll paper`` writes its files as one set (manifest last), leaves ``--out`` unchanged
  when interrupted (Ctrl-C: one line, exit status 130), and refuses a second run into a
  locked ``--out``;
* 9: an unusable ``--out`` (under /proc, an existing file, a read-only directory) is refused
  before any computation, in one line naming the path, exit status 2 (``paper`` and ``kernels``);
* 11: ``--times abc`` and every bad numeric option of ``evolve`` name the flag; ``paper --dps 5``
  is refused before the run; ``beta_eff`` not defined at large h is reported, not fatal; the
  ``--quick`` report marks the claims its grid cannot decide NOT TESTED, never FAIL.

Most runs are in-process with the quick grid's numbers computed once (module fixture),
``run_paper`` patched to return them and the figures replaced by small ones written through
the same atomic writer (the real figures are drawn by tests/test_paper.py and by the
subprocess test here, which sends a real SIGINT).
"""
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("matplotlib")

import symcoll.paper as paper_mod  # noqa: E402
from symcoll.cli import main  # noqa: E402

#: The files of one ``symcoll paper`` run, as the README lists them.
SET = {"fig2.png", "fig3.png", "fig4.png", "results.json", "report.md"}


def cli(argv):
    """Run the CLI in-process; a KeyboardInterrupt escaping it fails the test (not the session)."""
    try:
        return main([str(a) for a in argv])
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped symcoll's command line (a traceback for the user)")


def one_line(text):
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def snapshot(directory):
    """{name: sha256} of every entry of ``directory`` (hidden ones included)."""
    return {n: sha256(os.path.join(directory, n)) if os.path.isfile(os.path.join(directory, n)) else "dir"
            for n in sorted(os.listdir(directory))}


def assert_complete_set(out):
    """``out`` holds the five files, the manifest lists them with their sha256, nothing else is left."""
    names = set(os.listdir(out))
    assert names == SET | {"manifest.json"}, names  # no staging directory, temporary file or lock
    with open(os.path.join(out, "manifest.json")) as fh:
        manifest = json.load(fh)
    assert set(manifest["files"]) == SET
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == sha256(os.path.join(out, name)), name
        assert entry["bytes"] == os.path.getsize(os.path.join(out, name))
    with open(os.path.join(out, "results.json")) as fh:
        assert json.load(fh)["runs"]
    with open(os.path.join(out, "fig3.png"), "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick_numbers():
    """The quick grid's PaperRun, computed once."""
    return paper_mod.run_paper(dict(paper_mod.QUICK_PARAMETERS), progress=False)


def _make_fast(mp, quick_numbers):
    """Patch ``run_paper`` (precomputed numbers) and ``make_figures`` (small figures); return the calls."""
    import matplotlib.pyplot as plt

    import symcoll.figures

    calls = []

    def fake_run(params=None, ladder="paper", progress=True):
        calls.append(params)
        return quick_numbers

    def small_figures(run, out_dir):
        paths = []
        for name in ("fig2.png", "fig3.png", "fig4.png"):
            fig = plt.figure(figsize=(1, 1))
            fig.gca().plot([0, 1], [0, 1])
            paths.append(symcoll.figures._save(plt, fig, out_dir, name))
        return paths

    mp.setattr(paper_mod, "run_paper", fake_run)
    mp.setattr(symcoll.figures, "make_figures", small_figures)
    return calls


@pytest.fixture
def fast_paper(monkeypatch, quick_numbers):
    """The quick run without its cost; returns the list of ``run_paper`` calls."""
    return _make_fast(monkeypatch, quick_numbers)


@pytest.fixture(scope="module")
def old_set(tmp_path_factory, quick_numbers):
    """A complete set written by ``symcoll paper --quick`` (fast, see the module doc) and its stdout."""
    out = tmp_path_factory.mktemp("old") / "out"
    mp = pytest.MonkeyPatch()
    _make_fast(mp, quick_numbers)
    try:
        import io
        from contextlib import redirect_stdout

        buf = io.StringIO()
        with redirect_stdout(buf):
            rc = cli(["paper", "--quick", "--out", out])
    finally:
        mp.undo()
    assert rc == 0
    return out, buf.getvalue()


@pytest.fixture
def out_with_old_set(tmp_path, old_set):
    out = tmp_path / "out"
    shutil.copytree(old_set[0], out)
    return out


# ----------------------------------------------------------------------------- 8: one atomic set
def test_paper_writes_one_set_with_manifest(old_set):
    out, stdout = old_set
    assert_complete_set(out)
    assert f"wrote {os.path.join(out, 'manifest.json')}" in stdout


def _interrupt_in_run(monkeypatch):
    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(paper_mod, "run_paper", boom)


def _interrupt_in_results_json(monkeypatch):
    def half_dump(obj, fh, **kw):
        fh.write(json.dumps(obj)[:5000])  # results.json half written
        raise KeyboardInterrupt

    monkeypatch.setattr(json, "dump", half_dump)


def _interrupt_in_figure(monkeypatch):
    import matplotlib.figure

    def half_png(self, fname, *a, **k):
        data = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
        if hasattr(fname, "write"):
            fname.write(data)
        else:
            open(fname, "wb").write(data)
        raise KeyboardInterrupt

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", half_png)


def _interrupt_in_report(monkeypatch):
    import symcoll.report

    def boom(*a, **k):  # results.json and the figures are complete by now
        raise KeyboardInterrupt

    monkeypatch.setattr(symcoll.report, "write_report", boom)


INTERRUPTS = {"computing": _interrupt_in_run, "results.json": _interrupt_in_results_json,
              "figure": _interrupt_in_figure, "report": _interrupt_in_report}


@pytest.mark.parametrize("where", list(INTERRUPTS))
def test_ctrl_c_leaves_the_previous_set_unchanged(where, out_with_old_set, fast_paper, monkeypatch, capsys):
    out = out_with_old_set
    before = snapshot(out)
    capsys.readouterr()
    INTERRUPTS[where](monkeypatch)
    assert cli(["paper", "--quick", "--out", out]) == 130
    assert one_line(capsys.readouterr().err) == f"symcoll: interrupted; {out} left unchanged"
    monkeypatch.undo()
    assert snapshot(out) == before  # the same files, byte for byte, and no temporary ones
    assert_complete_set(out)


def test_ctrl_c_of_a_first_run_leaves_nothing(tmp_path, fast_paper, monkeypatch, capsys):
    out = tmp_path / "new" / "out"
    _interrupt_in_report(monkeypatch)
    assert cli(["paper", "--quick", "--out", out]) == 130
    assert one_line(capsys.readouterr().err) == f"symcoll: interrupted; {out} left unchanged"
    assert os.listdir(tmp_path) == []  # the directories the run created are gone


def test_ctrl_c_during_the_commit_is_held_until_the_set_is_complete(out_with_old_set, fast_paper, monkeypatch, capsys):
    """SIGINT arriving between two renames of the commit: the set is still written whole."""
    out = out_with_old_set
    real_replace, n = os.replace, []

    def replace_then_sigint(src, dst):
        real_replace(src, dst)
        if os.path.dirname(os.fspath(dst)) == str(out) and os.path.basename(dst) in SET:
            n.append(dst)  # a file of the set moved into --out: the commit has begun
            if len(n) == 2:
                os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(os, "replace", replace_then_sigint)
    rc = cli(["paper", "--quick", "--out", out])
    monkeypatch.undo()
    assert len(n) >= 2 and rc == 130
    assert one_line(capsys.readouterr().err) == f"symcoll: interrupted; {out} holds the complete new set"
    assert_complete_set(out)


def test_ctrl_c_subprocess(tmp_path):
    """A real SIGINT to ``python -m symcoll paper --quick``: exit 130, one line, no partial outputs."""
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "symcoll", "paper", "--quick", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # not ignored, even in CI
    )
    deadline = time.monotonic() + 120
    while proc.poll() is None and not out.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.5)  # into the computation
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    if proc.returncode == 0:  # finished before the signal: then the set is complete
        assert_complete_set(out)
        return
    assert proc.returncode == 130, err
    line = one_line(err)
    if line == f"symcoll: interrupted; {out} left unchanged":
        assert not out.exists()
    else:  # the signal came after the commit
        assert line.startswith("symcoll: interrupted"), line
        assert_complete_set(out)


def test_concurrent_run_into_the_same_out_is_refused(tmp_path, fast_paper, capsys):
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".symcoll.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another run holds the lock
        before = snapshot(out)
        assert cli(["paper", "--quick", "--out", out]) == 2
        line = one_line(capsys.readouterr().err)
        assert fast_paper == []  # refused before computing
        assert snapshot(out) == before
    assert line.startswith("symcoll: error:") and str(out) in line and "another symcoll run" in line


# ----------------------------------------------------------------------------- 9: unusable --out
def _bad_out(kind, tmp_path):
    if kind == "proc":
        return "/proc/symcoll-no-such-dir/out"
    if kind == "file":
        (tmp_path / "afile").write_text("x")
        return str(tmp_path / "afile")
    if kind == "below-a-file":
        (tmp_path / "afile").write_text("x")
        return str(tmp_path / "afile" / "out")
    if kind == "read-only":
        if os.geteuid() == 0:
            pytest.skip("root can write into a read-only directory; /proc covers the case")
        d = tmp_path / "ro"
        d.mkdir()
        d.chmod(0o555)
        return str(d / "out")
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["proc", "file", "below-a-file", "read-only"])
def test_unusable_out_is_refused_before_computing(kind, tmp_path, fast_paper, capsys):
    bad = _bad_out(kind, tmp_path)
    assert cli(["paper", "--quick", "--out", bad]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"symcoll: error: --out {bad}")
    assert fast_paper == []


@pytest.mark.parametrize("kind", ["proc", "file", "below-a-file", "read-only"])
def test_kernels_unusable_out_is_refused_before_generating(kind, tmp_path, monkeypatch, capsys):
    import symcoll.kernels

    called = []
    monkeypatch.setattr(symcoll.kernels, "cli_main", lambda args: called.append(args) or 0)
    bad = _bad_out(kind, tmp_path)
    assert cli(["kernels", "--out", bad]) == 2
    assert one_line(capsys.readouterr().err).startswith(f"symcoll: error: --out {bad}")
    assert called == []


# ----------------------------------------------------------------------------- 11: smaller items
def test_paper_bad_dps_is_refused_before_the_run(tmp_path, fast_paper, capsys):
    out = tmp_path / "out"
    assert cli(["paper", "--quick", "--dps", "5", "--out", out]) == 2
    assert one_line(capsys.readouterr().err).startswith("symcoll: error: --dps must be >= 15")
    assert fast_paper == [] and not out.exists()


@pytest.mark.parametrize("option, message", [
    (["--times", "abc"], "--times must be"),
    (["--times", "1:10:x"], "--times must be"),
    (["--times", "1,inf"], "--times must be finite"),
    (["--times", "1,-1"], "--times must be >= 0"),
    (["--N", "99"], "--N must be in"),
    (["--h", "-1"], "--h must be > 0"),
    (["--eps", "-0.1"], "--eps must be >= 0"),
    (["--beta", "0"], "--beta must be > 0"),
    (["--m", "nan"], "--m must be finite"),
    (["--g", "0"], "--g must be nonzero"),
    (["--sigma-p", "-1"], "--sigma-p must be >= 0"),
    (["--Gamma", "-1"], "--Gamma must be >= 0"),
    (["--dps", "3"], "--dps must be >= 15"),
])
def test_evolve_bad_option_names_the_flag_before_computing(option, message, monkeypatch, capsys):
    called = []
    monkeypatch.setattr(paper_mod, "run_one", lambda *a, **k: called.append(a))
    assert cli(["evolve", "--N", "2", "--times", "1", *option]) == 2
    assert one_line(capsys.readouterr().err).startswith(f"symcoll: error: {message}")
    assert called == []


def test_evolve_beta_eff_not_defined_is_reported_not_fatal(capsys):
    """h = 1000: rho_22/rho_00 ~ exp(-beta h) = exp(-100), far below float64 resolution; at t = 0 rho_22 = 0."""
    assert cli(["evolve", "--N", "2", "--h", "1000", "--times", "0,1,10", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["beta_eff_0_2"] == [None, None, None]
    assert "not defined" in res["beta_eff_0_2_note"]
    assert cli(["evolve", "--N", "2", "--h", "1000", "--times", "0,1,10"]) == 0
    table = capsys.readouterr().out
    rows = [line for line in table.splitlines() if not line.startswith("#") and "not defined" in line]
    assert len(rows) == 3 and "nan" not in table.lower()
    # where the populations are resolved the value is a number
    assert cli(["evolve", "--N", "2", "--times", "1,10", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert all(isinstance(b, float) for b in res["beta_eff_0_2"]) and res["beta_eff_0_2_note"] is None


def test_quick_report_says_not_tested_never_fail(old_set):
    """The quick grid (eps 0.1 and 5e-5) has one eps <= 1e-3: claims 3 (several small eps compared)
    and 8 (residual/eps over several eps <= 3e-3) cannot be decided by it."""
    out, stdout = old_set
    text = open(os.path.join(out, "report.md")).read()
    assert "FAIL" not in text.replace("PASS, FAIL, or NOT TESTED", "")
    verdicts = {int(line.split("|")[1]): line.split("|")[3].strip() for line in text.splitlines()
                if line.startswith("| ") and line.split("|")[1].strip().isdigit()}
    assert verdicts[3] == verdicts[8] == "NOT TESTED"
    assert {v for k, v in verdicts.items() if k not in (3, 8)} == {"PASS"}
    assert "0 FAIL, 2 NOT TESTED" in stdout


def test_claims_a_grid_without_global_and_local_maps_cannot_test(quick_numbers):
    """Claims about the global and local maps are NOT TESTED (not FAIL, no crash) on an exact-only grid."""
    from symcoll.report import evaluate_claims

    run = paper_mod.PaperRun(parameters=quick_numbers.parameters, ladder=quick_numbers.ladder,
                             runs=[r for r in quick_numbers.runs if r["map"] == "exact"],
                             references=quick_numbers.references)
    verdicts = [c["verdict"] for c in evaluate_claims(run)]
    assert verdicts[3:7] == ["NOT TESTED"] * 4  # claims 4-7 need global or local runs
    assert "FAIL" not in verdicts
