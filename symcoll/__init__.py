"""symcoll: collisional reservoirs of qubit chains, derived symbolically and computed with error budgets (bounds and estimates, named as such).

Reference implementation of Tabanera-Bravo, Esposito, Barra and Parrondo,
"Thermalization in spatially extended open quantum systems: local versus global
Markovian evolution" (equation numbers in the docs are the paper's).
"""
from ._version import __version__

# Public names, imported on first use (PEP 562) so that ``import symcoll`` and the command
# line start at once (and a Ctrl-C during start-up reaches the CLI's one-line handler).
_LAZY = {
    "QubitChain": ".model", "System": ".model", "Eigensystem": ".model", "EffusionBath": ".model",
    "DeltaCoupling": ".model", "Scattering": ".scattering", "collision_map": ".maps",
    "CollisionMap": ".maps", "Lindbladian": ".dynamics", "Evolution": ".dynamics",
    "SteadyState": ".dynamics", "SymcollWarning": ".errors", "NotCompletelyPositiveWarning": ".errors",
    "KernelCacheWarning": ".errors",
}
_SUBMODULES = ("observables",)


def __getattr__(name):
    import importlib

    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'symcoll' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "__version__",
    "QubitChain",
    "System",
    "Eigensystem",
    "EffusionBath",
    "DeltaCoupling",
    "Scattering",
    "collision_map",
    "CollisionMap",
    "Lindbladian",
    "Evolution",
    "SteadyState",
    "observables",
    "SymcollWarning",
    "NotCompletelyPositiveWarning",
    "KernelCacheWarning",
]
