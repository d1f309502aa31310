"""The full estimate-honesty table of issue #12 (run with ``pytest tests/benchmarks/test_bench_estimate_honesty.py
--run-benchmarks -s``; about 30 min, dominated by the 30-digit N = 3 exact maps, ~6 min each).

For N = 2 and 3, eps in {0.1, 3e-3, 5e-5, 0}, kinds exact/global/local: estimate / true error of
the float64 map (max entry), states at t in {1, 1e2, 1e3, 1e4, 1e5} (max entry) and the steady
state (Frobenius), against the 30-digit reference of ``tests/_honesty.py``.  Asserts
true <= estimate everywhere; prints the table and writes ``symcoll-out/estimate_honesty.json``.
"""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import _honesty as H  # noqa: E402

CASES = [(N, eps, kind) for N in (2, 3) for kind in ("exact", "global", "local") for eps in (0.1, 3e-3, 5e-5, 0.0)]
TABLE = {}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"N{c[0]}-eps{c[1]:g}-{c[2]}")
def test_estimate_table(case):
    N, eps, kind = case
    rows = H.compare(H.reference(N, eps, kind), H.float64_results(N, eps, kind))
    TABLE[f"N={N} eps={eps:g} {kind}"] = {k: {"true": t, "estimate": e, "ratio": e / t if t > 0 else None}
                                          for k, (t, e) in rows.items()}
    print(f"N={N} eps={eps:g} {kind}: " + " ".join(f"{k} {e / t:.0f}" for k, (t, e) in rows.items()))
    os.makedirs("symcoll-out", exist_ok=True)
    with open(os.path.join("symcoll-out", "estimate_honesty.json"), "w") as f:
        json.dump(TABLE, f, indent=1)
    for k, (t, e) in rows.items():
        assert t <= e, (k, t, e)
