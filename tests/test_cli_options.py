"""The command line as physicists use it (issue 11): documented options, paper overrides recorded.

* every option of every command has a help text that says its default (or that it is
  required), read from the ``--help`` output itself;
* ``symcoll paper`` keeps the paper's parameters as defaults and accepts overrides of each
  model parameter, the eps lists, the maps and the time grid; results.json records the values
  used, the options given and the command line; bad overrides are refused before computing.
"""
import argparse
import json
import os
import re

import pytest

pytest.importorskip("matplotlib")

import symcoll.paper as paper_mod  # noqa: E402
from symcoll.cli import build_parser, main  # noqa: E402
from symcoll.parameters import PAPER_PARAMETERS  # noqa: E402

COMMANDS = ("paper", "verify", "kernels", "evolve")


def _subparser(name):
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def _help_entries(text):
    """{option string: its help text} from an argparse ``--help`` output."""
    entries, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^  (-\S.*?)(?:  +(\S.*))?$", line)
        if m:
            current = [s.split()[0] for s in m.group(1).split(", ")]
            text_ = m.group(2) or ""
            for opt in current:
                entries[opt] = text_
        elif current and line.startswith("    ") and line.strip():
            for opt in current:
                entries[opt] += " " + line.strip()
        else:
            current = None
    return entries


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_says_its_default(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    entries = _help_entries(capsys.readouterr().out)
    options = [s for a in _subparser(command)._actions for s in a.option_strings if s not in ("-h", "--help")]
    assert options
    for opt in options:
        assert opt in entries, (opt, sorted(entries))
        help_ = " ".join(entries[opt].split())
        assert re.search(r"\((default|required)\b[^)]*", help_), f"{command} {opt}: {help_!r}"
        assert len(help_) > 30, f"{command} {opt}: help too short to say what it means: {help_!r}"


def test_paper_help_defaults_are_the_papers(capsys):
    with pytest.raises(SystemExit):
        main(["paper", "--help"])
    entries = {k: " ".join(v.split()) for k, v in _help_entries(capsys.readouterr().out).items()}
    assert "(default: 3;" in entries["--N"] and "(default: 4;" in entries["--h"]
    assert "(default: 0.1;" in entries["--beta"] and "(default: 50;" in entries["--g"]
    assert "(default: 0.5;" in entries["--sigma-p"] and "(default: 1;" in entries["--Gamma"]
    assert "default: 0.1,0.003,0.001,5e-05" in entries["--eps"]
    assert "default: exact,global,local" in entries["--maps"]


def test_paper_overrides_are_used_and_recorded(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["paper", "--quick", "--N", "2", "--h", "5", "--beta", "0.2", "--m", "0.2", "--g", "40",
            "--sigma-p", "0.4", "--Gamma", "2", "--eps", "0.1", "--maps", "global,local",
            "--times", "0.1:100:4", "--out", str(out)]
    assert main(argv) == 0
    res = json.loads((out / "results.json").read_text())
    p = res["parameters"]
    assert (p["N"], p["h"], p["beta"], p["m"], p["g"], p["sigma_p"], p["Gamma"]) == (2, 5.0, 0.2, 0.2, 40.0, 0.4, 2.0)
    assert p["eps"] == [0.1] and p["eps_sweep"] == [0.1] and p["maps"] == ["global", "local"]
    assert (p["t_min"], p["t_max"], p["n_times"]) == (0.1, 100.0, 4)
    assert p["tol"] == 1e-10  # --quick's, not overridden
    assert res["defaults"] == "quick"
    assert res["overrides"]["N"] == 2 and res["overrides"]["maps"] == ["global", "local"]
    assert "sigma_p" in res["overrides"] and "tol" not in res["overrides"]
    assert res["command"] == "symcoll " + " ".join(argv)
    assert {(r["eps"], r["map"]) for r in res["runs"]} == {(0.1, "global"), (0.1, "local")}
    for r in res["runs"]:
        assert len(r["populations"][0]) == 4 and len(r["times"]) == 4
    report = (out / "report.md").read_text()
    assert "N=2, beta=0.2" in report and "h=5.0" in report


def test_paper_defaults_recorded_without_overrides(tmp_path, monkeypatch, capsys):
    seen = []

    def fake_run(params=None, ladder="paper", progress=True):
        seen.append(params)
        raise KeyboardInterrupt  # stop before writing: only the parameters matter here

    monkeypatch.setattr(paper_mod, "run_paper", fake_run)
    assert main(["paper", "--out", str(tmp_path / "o")]) == 130
    p = seen[0]
    assert {k: p[k] for k in ("N", "h", "beta", "m", "g", "sigma_p", "Gamma")} == \
        {k: PAPER_PARAMETERS[k] for k in ("N", "h", "beta", "m", "g", "sigma_p", "Gamma")}
    assert p["eps"] == list(PAPER_PARAMETERS["eps"]) and p["eps_sweep"] == list(PAPER_PARAMETERS["eps_sweep"])
    assert p["tol"] == 1e-12


@pytest.mark.parametrize("option, message", [
    (["--maps", "exact,foo"], "--maps must be distinct names among exact, global, local"),
    (["--maps", "exact,,local"], "--maps must be a comma-separated list without empty items"),
    (["--eps", "0.1,-1"], "--eps must be >= 0"),
    (["--eps-sweep", "0.1,x"], "--eps-sweep must be a comma-separated list of numbers"),
    (["--eps-sweep", "-0.1"], "--eps-sweep must be >= 0"),
    (["--sigma-p", "0"], "--sigma-p must be > 0 for the exact map (38)"),
    (["--times", "1:0.5:5"], "--times start:stop:count needs 0 < start < stop"),
    (["--times", "1,2,3"], "--times must be 'start:stop:count'"),
    (["--N", "20"], "--N must be in"),
    (["--h", "-4"], "--h must be > 0"),
    (["--Gamma", "-1"], "--Gamma must be >= 0"),
    (["--g", "0"], "--g must be nonzero"),
])
def test_bad_paper_overrides_are_refused_before_computing(option, message, tmp_path, monkeypatch, capsys):
    called = []
    monkeypatch.setattr(paper_mod, "run_paper", lambda *a, **k: called.append(a))
    out = tmp_path / "out"
    assert main(["paper", "--quick", "--out", str(out), *option]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith(f"symcoll: error: {message}"), err
    assert called == [] and not os.path.exists(out)
