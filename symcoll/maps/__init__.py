"""Collision maps with error budgets: exact (38), global (45), local (54)-(56) (package skeleton)."""
from ._monolith import *  # noqa: F401,F403
from ._monolith import (  # noqa: F401  (private names used by tests and other modules)
    DENSE_AUTO_MAX_N, INTERPOLATE_AUTO_MIN_DIM, CP_WARN_FACTOR, _Engine, _snap_energies, _bohr_classes,
    _cluster_sorted)
