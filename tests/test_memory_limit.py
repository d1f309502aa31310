"""The memory limit of the collision maps (issue 16): refused up front with the GiB needed, and a limit a user
can raise without patching (environment variable ``SYMCOLL_MAX_GIB``, or ``memory.MAX_BYTES`` from a program)."""
import re

import pytest

from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map
from symcoll.maps import memory

GiB = 2**30
BATH = EffusionBath(0.1, 0.1, 0.5)
COUPLING = DeltaCoupling(50.0)
ENV = "SYMCOLL_MAX_GIB"
_PHYSICAL = memory.physical_memory_bytes  # the unpatched os.sysconf reading


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    """No inherited SYMCOLL_MAX_GIB; a known physical memory (64 GiB), so the tests do not depend on the machine."""
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setattr(memory, "physical_memory_bytes", lambda: 64 * GiB)


def _refusal(N=7):
    with pytest.raises(ValueError) as exc:
        collision_map(QubitChain(N, 4.0, 0.1), BATH, COUPLING, kind="exact")
    return str(exc.value)


def test_refusal_names_the_gib_the_limit_the_variable_and_the_machine():
    """N = 7: the message carries the GiB needed (at least the two 16 d^4-byte copies, 8 GiB, counted here
    independently), the 8 GiB limit, the machine's memory and a SYMCOLL_MAX_GIB value that would admit it."""
    msg = _refusal()
    need = float(re.search(r"needs about ([0-9.]+) GiB", msg).group(1))
    assert 2 * 16 * 128**4 / GiB <= need <= 12
    assert "above the limit of 8 GiB" in msg
    assert "64.0 GiB of physical memory" in msg
    suggested = float(re.search(ENV + r"=([0-9.]+)", msg).group(1))
    assert suggested >= need and suggested * GiB >= memory.estimate_memory(128, "exact", None, interpolate=True)


def test_env_variable_raises_the_limit(monkeypatch):
    """SYMCOLL_MAX_GIB=12 admits N = 7 (the check passes: nothing is built here) and is read at call time."""
    need = memory.estimate_memory(128, "exact", None, interpolate=True)
    with pytest.raises(ValueError):
        memory.check_dense_memory(128, "exact", None, interpolate=True)
    monkeypatch.setenv(ENV, "12")
    assert memory.max_bytes() == 12 * GiB
    memory.check_dense_memory(128, "exact", None, interpolate=True)  # no ValueError
    assert memory.dense_fits(128, "exact", None, interpolate=True)
    monkeypatch.setenv(ENV, f"{need / GiB * 0.99:.6f}")  # 1 % below the need: refused again
    with pytest.raises(ValueError, match="needs about"):
        memory.check_dense_memory(128, "exact", None, interpolate=True)


def test_env_variable_lowers_the_limit_and_a_small_map_builds_once_raised(monkeypatch):
    """A limit below the N = 2 estimate (0.75 GiB of chunk allowance, :data:`memory._CHUNK_BYTES`) refuses it
    before any work; the value the message suggests builds it."""
    assert 0.5 * GiB < memory.estimate_memory(4, "exact", None) < 1 * GiB
    monkeypatch.setenv(ENV, "0.5")
    msg = _refusal(N=2)
    assert "above the limit of 0.5 GiB" in msg
    monkeypatch.setenv(ENV, re.search(ENV + r"=([0-9.]+)", msg).group(1))
    S = collision_map(QubitChain(2, 4.0, 0.1), BATH, COUPLING, kind="exact")
    assert S.tensor.shape == (4, 4, 4, 4)


@pytest.mark.parametrize("bad", ["abc", "0", "-3", "nan", "inf", "12GiB"])
def test_env_variable_bad_value_names_it(monkeypatch, bad):
    monkeypatch.setenv(ENV, bad)
    with pytest.raises(ValueError, match=ENV + r" must be a positive number of GiB"):
        memory.max_bytes()
    with pytest.raises(ValueError, match=ENV):
        collision_map(QubitChain(2, 4.0, 0.1), BATH, COUPLING, kind="exact")


def test_env_variable_above_physical_memory_refused(monkeypatch):
    monkeypatch.setenv(ENV, "65")
    with pytest.raises(ValueError, match=ENV + r"=65 is above this machine's physical memory \(64.0 GiB\); set at most 64"):
        memory.max_bytes()


def test_need_above_physical_memory_says_raising_does_not_help(monkeypatch):
    monkeypatch.setattr(memory, "physical_memory_bytes", lambda: 4 * GiB)
    msg = _refusal()
    assert "more than the physical memory, so raising the limit would not help" in msg
    assert ENV + "=" not in msg


def test_default_limit_is_8_gib_or_80_percent_of_a_small_machine(monkeypatch):
    assert memory.max_bytes() == 8 * GiB  # 64 GiB machine (fixture)
    monkeypatch.setattr(memory, "physical_memory_bytes", lambda: 5 * GiB)
    assert memory.max_bytes() == int(0.8 * 5 * GiB)
    with pytest.raises(ValueError, match=r"above the limit of 4 GiB \(this machine has 5.0 GiB"):
        memory.check_dense_memory(128, "exact", None, interpolate=True)
    monkeypatch.setattr(memory, "physical_memory_bytes", lambda: None)  # unknown: the plain default
    assert memory.max_bytes() == 8 * GiB


def test_max_bytes_assigned_in_a_program_wins_over_the_variable(monkeypatch):
    monkeypatch.setenv(ENV, "12")
    monkeypatch.setattr(memory, "MAX_BYTES", 1024)
    assert memory.max_bytes() == 1024
    monkeypatch.setattr(memory, "MAX_BYTES", memory.DEFAULT_MAX_BYTES)
    assert memory.max_bytes() == 12 * GiB


def test_physical_memory_of_this_machine_is_plausible():
    """The unpatched os.sysconf reading: positive and at least the 1 GiB any machine running the suite has."""
    import os

    phys = _PHYSICAL()
    assert phys is None or phys >= GiB
    if phys is not None and hasattr(os, "sysconf"):
        assert phys == os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def test_dense_generator_refused_up_front_with_the_number(monkeypatch):
    """The dense generator (71) of a map that did build is refused before its (d^2, d^2) arrays: the exact map of
    N = 7 (d = 128) needs 6 arrays of 16384^2 complex numbers (25.8 GB, counted here independently), above the 8 GiB
    default; a small system passes, and lowering the limit below its need refuses it with the GiB."""
    from symcoll import Lindbladian

    need = 6 * (128 * 128) ** 2 * 16
    assert memory.estimate_generator_memory(128) == need
    with pytest.raises(ValueError, match=r"dense generator \(71\) for d = 128 needs about 24\.0 GiB"):
        memory.check_generator_memory(128)
    ch = QubitChain(2, 4.0, 0.1)
    S = collision_map(ch, BATH, COUPLING, kind="global")
    assert Lindbladian(ch, S, 1.0).d == 4
    monkeypatch.setattr(memory, "MAX_BYTES", 1000)
    with pytest.raises(ValueError) as exc:
        Lindbladian(ch, S, 1.0)
    assert "dense generator (71) for d = 4" in str(exc.value) and "GiB" in str(exc.value)
