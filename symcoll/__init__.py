"""symcoll: collisional reservoirs of qubit chains, derived symbolically and computed with error bounds.

Reference implementation of Tabanera-Bravo, Esposito, Barra and Parrondo,
"Thermalization in spatially extended open quantum systems: local versus global
Markovian evolution" (equation numbers in the docs are the paper's).
"""
from ._version import __version__
from .errors import SymcollWarning
from .model import DeltaCoupling, EffusionBath, Eigensystem, QubitChain, System
from .scattering import Scattering
from .maps import CollisionMap, collision_map
from .dynamics import Evolution, Lindbladian, SteadyState
from . import observables

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
]
