"""symcoll.parameters: one source of the paper's parameters, map options as an object (issue 11).

* ``PAPER_PARAMETERS`` holds the values the paper prints (Sec. VI E and the captions of
  Figs. 2-4, copied here from the paper's text, not from the code), each documented with its
  source; ``symcoll.paper``, the symbolic layer and the tests' fixture read the same object.
* :func:`resolve_parameters` fills, normalises and checks parameters with the model's messages.
* :class:`MapOptions` carries ``kind, tol, storage, smatrix, dps`` and builds the map that
  :func:`collision_map` builds with the same options; :func:`run_one` takes the model objects.
"""

import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map
from symcoll.numeric import Tolerances
from symcoll.parameters import (MODEL_PARAMETERS, PAPER_PARAMETERS, PARAMETERS, QUICK_PARAMETERS, MapOptions,
                                resolve_parameters)


def test_paper_parameters_are_the_papers():
    """The numbers printed in Sec. VI E ("N = 3") and the captions of Figs. 2-4."""
    want = dict(N=3, beta=0.1, m=0.1, g=50, Gamma=1, sigma_p=0.5, h=4)
    assert {k: PAPER_PARAMETERS[k] for k in want} == want
    assert 0.1 in PAPER_PARAMETERS["eps"] and 5e-5 in PAPER_PARAMETERS["eps"] and 3e-3 in PAPER_PARAMETERS["eps"]
    assert set(PAPER_PARAMETERS["maps"]) == {"exact", "global", "local"}


def test_every_parameter_says_where_the_paper_states_it():
    for name, info in PARAMETERS.items():
        assert info.name == name and info.meaning and info.source and info.flag, name
        if name in MODEL_PARAMETERS:
            assert "symcoll's choice" not in info.source, name  # the model's numbers are all the paper's


def test_one_source_for_the_three_former_copies():
    import conftest
    import symcoll.paper
    from symcoll.symbolic import sumrules

    assert symcoll.paper.PAPER_PARAMETERS is PAPER_PARAMETERS  # re-exported, not copied
    assert conftest.PAPER == {k: PAPER_PARAMETERS[k] for k in MODEL_PARAMETERS}
    assert {k: float(v) for k, v in sumrules.PAPER_PARAMS.items()} == {k: PAPER_PARAMETERS[k] for k in
                                                                        ("beta", "m", "g", "h")}


def test_paper_parameters_cannot_be_changed_by_accident():
    with pytest.raises(TypeError):
        PAPER_PARAMETERS["N"] = 4
    p = resolve_parameters()
    p["eps"].append(1.0)  # a resolved copy is the caller's own
    assert 1.0 not in PAPER_PARAMETERS["eps"] and 1.0 not in resolve_parameters()["eps"]


def test_resolve_parameters_fills_and_normalises():
    p = resolve_parameters(QUICK_PARAMETERS, N=2, eps=(0.2,))
    assert p["N"] == 2 and p["eps"] == [0.2] and isinstance(p["maps"], list)
    assert p["tol"] == 1e-10 and p["h"] == 4.0
    assert resolve_parameters()["tol"] == Tolerances.map_default(None) == 1e-12  # None: the float64 default
    assert resolve_parameters({"N": 2})["eps"] == list(PAPER_PARAMETERS["eps"])  # missing keys: the paper's


@pytest.mark.parametrize("over, message", [
    (dict(Nq=3), "unknown parameter"),
    (dict(N=0), "N must be"),
    (dict(h=-1.0), "h must be > 0"),
    (dict(eps=[0.1, -1.0]), "eps must be >= 0"),
    (dict(eps_sweep=[-1.0]), "eps_sweep must be >= 0"),
    (dict(eps=[]), "eps must list at least one value"),
    (dict(beta=0.0), "beta must be > 0"),
    (dict(sigma_p=0.0), "sigma_p must be > 0 for the exact map (38)"),
    (dict(g=0.0), "g must be nonzero"),
    (dict(Gamma=-1.0), "Gamma must be >= 0"),
    (dict(maps=["exact", "exact_h0"]), "maps must be distinct names among exact, global, local"),
    (dict(maps=["exact", "exact"]), "maps must be distinct names"),
    (dict(t_min=10.0, t_max=1.0), "t_min and t_max must satisfy"),
    (dict(n_times=0), "n_times must be an integer >= 1"),
])
def test_resolve_parameters_refuses_bad_values(over, message):
    with pytest.raises((ValueError, TypeError)) as info:
        resolve_parameters(**over)
    assert str(info.value).startswith(message) or message in str(info.value)


@pytest.mark.parametrize("kw, message", [
    (dict(kind="narrow"), "kind must be one of"),
    (dict(kind="global", storage="sparse"), "storage must be one of"),
    (dict(kind="global", smatrix="table"), "smatrix must be one of"),
    (dict(kind="global", dps=5), "dps must be >= 15"),
])
def test_map_options_refuse_bad_names(kw, message):
    with pytest.raises(ValueError, match=message):
        MapOptions(**kw)


def test_map_options_resolved_tol_is_the_maps_default():
    assert MapOptions("global").resolved_tol == Tolerances.map_default(None)
    assert MapOptions("global", dps=30).resolved_tol == Tolerances.map_default(30) == 1e-22
    assert MapOptions("global", tol=1e-9).resolved_tol == 1e-9
    with pytest.raises(TypeError, match="options must be a map kind"):
        MapOptions.coerce(3)


def test_map_options_build_the_same_map_as_collision_map():
    chain, bath, coupling = QubitChain(2, 4.0, 0.1), EffusionBath(0.1, 0.1, 0.5), DeltaCoupling(50.0)
    a = MapOptions("global", tol=1e-10, storage="compact").build(chain, bath, coupling)
    b = collision_map(chain, bath, coupling, kind="global", tol=1e-10, storage="compact")
    assert a.storage == b.storage == "compact"
    assert np.array_equal(a.tensor, b.tensor)
    with pytest.raises(ValueError, match="storage='compact' is available for kind='global' and kind='local' only"):
        MapOptions("exact", storage="compact").build(chain, bath, coupling)  # checked by collision_map itself


def test_run_one_takes_the_model_objects():
    from symcoll.paper import run_one

    chain, bath, coupling = QubitChain(2, 4.0, 0.1), EffusionBath(0.1, 0.1, 0.5), DeltaCoupling(50.0)
    new = run_one(chain, bath, coupling, 1.0, MapOptions("global", tol=1e-10), [1.0, 10.0])
    assert new["map_options"] == {"kind": "global", "tol": 1e-10, "storage": "auto", "smatrix": "auto", "dps": None}
    assert new["site"] == 1 and len(new["populations"][0]) == 4
    with pytest.raises(TypeError):  # the old 13-scalar form is gone
        run_one(2, 4.0, 0.1, 0.1, 0.1, 50.0, 0.5, 1.0, "global", [1.0, 10.0], tol=1e-10)
