"""Warning classes of symcoll (one place, so that users can filter them together).

* :class:`SymcollWarning` -- base class of every warning symcoll emits; silence all of
  them with ``warnings.simplefilter("ignore", symcoll.SymcollWarning)``.
* :class:`KernelCacheWarning` -- an on-disk kernel cache entry was rejected (corrupt,
  truncated, tampered with, or belonging to another kernel) and rebuilt, or could not
  be written (:mod:`symcoll.kernels`).
"""
from __future__ import annotations


class SymcollWarning(UserWarning):
    """Base class of every warning symcoll emits."""


class KernelCacheWarning(SymcollWarning):
    """An on-disk kernel cache entry was rejected and rebuilt, or could not be written.

    The computed numbers are never affected: a rejected entry is never executed, the
    kernel is regenerated from its symbolic expression instead.
    """
