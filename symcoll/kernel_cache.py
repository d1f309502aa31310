"""The on-disk kernel cache of :mod:`symcoll.kernels`: checked entries, atomic writes.

Each entry is a file ``<name>-<backend>-<key[:20]>.py`` under :func:`cache_dir` holding a
check header (format line, the kernel's cache key, the SHA-256 of the body) and the generated
source.  An entry is returned only if the header matches the expected key and the body its
hash, checked on the raw bytes before anything is decoded or executed; a rejected entry is
moved aside to ``*.rejected`` with a :class:`~symcoll.errors.KernelCacheWarning`.  Writes go to
a temporary file in the same directory and are renamed into place (``os.replace``).
Each target (numpy, mpmath, arb) has its own entries: the backend is part of the file name and
of the key, so an arb kernel never executes numpy or mpmath source and vice versa, and arb
entries pass the same header and SHA-256 check.
(This module implements no equation of the paper: it stores the generated kernels of the
closed forms (C4)-(C8), (C24)-(C28), (C32) and (40).)
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from pathlib import Path

from .errors import KernelCacheWarning

CACHE_FORMAT = "2"
"""Version of the entry layout (part of every cache key)."""

CACHE_MAGIC = b"# symcoll kernel cache entry, format " + CACHE_FORMAT.encode("ascii")
"""First line of every cache entry."""


def cache_dir() -> Path:
    """``$SYMCOLL_CACHE/kernels`` if set, else ``./.symcoll-cache/kernels``."""
    root = os.environ.get("SYMCOLL_CACHE")
    return (Path(root) if root else Path.cwd() / ".symcoll-cache") / "kernels"


class RejectedEntry(Exception):
    """A cache file failed its check; the message says why.  Never escapes this module."""


def cache_path(name, backend, key) -> Path:
    return cache_dir() / f"{name}-{backend}-{key[:20]}.py"


def entry_bytes(key, source) -> bytes:
    """Cache file content: the check header (format, key, SHA-256 of the body) and the body."""
    body = source.encode("utf-8")
    return b"\n".join([CACHE_MAGIC, b"# key " + key.encode("ascii"),
                       b"# sha256 " + hashlib.sha256(body).hexdigest().encode("ascii"), body])


def verified_source(data, key) -> str:
    """The body of a cache file, after checking its header against ``key`` and its hash.

    Works on bytes, so garbage, empty, truncated or non-UTF-8 files are rejected
    before anything is decoded, parsed or executed.

    Raises
    ------
    RejectedEntry
        Wrong format, another kernel's key, or a body whose SHA-256 differs from the header's.
    """
    parts = data.split(b"\n", 3)
    if len(parts) < 4 or parts[0] != CACHE_MAGIC:
        raise RejectedEntry("not a symcoll kernel cache entry of format " + CACHE_FORMAT
                             + (" (empty file)" if not data else " (missing or damaged header)"))
    _, key_line, hash_line, body = parts
    if key_line != b"# key " + key.encode("ascii"):
        raise RejectedEntry("its header carries another kernel's key")
    if hash_line != b"# sha256 " + hashlib.sha256(body).hexdigest().encode("ascii"):
        raise RejectedEntry("the SHA-256 of its body differs from its header (truncated or modified)")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:  # only if the header hash was forged to match
        raise RejectedEntry("its body is not UTF-8") from exc


def read_entry(path, key, name):
    """The checked source of the entry at ``path``, or None (missing, unreadable or rejected).

    A rejected entry is moved aside to ``<file>.rejected`` (for inspection) with a
    :class:`~symcoll.errors.KernelCacheWarning`; it is never executed.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        warnings.warn(f"kernel cache file {path} cannot be read ({exc}); regenerating {name}",
                      KernelCacheWarning, stacklevel=5)
        return None
    try:
        return verified_source(data, key)
    except RejectedEntry as exc:
        rejected = path.with_name(path.name + ".rejected")
        try:
            os.replace(path, rejected)
            where = f"moved to {rejected.name}"
        except OSError:  # another process got there first, or a read-only cache
            where = "left in place"
        warnings.warn(f"kernel cache entry {path} rejected: {exc}; {where}, regenerating {name} "
                      "from its symbolic expression", KernelCacheWarning, stacklevel=5)
        return None


def store(path, key, source) -> None:
    """Write a cache entry atomically: a temporary file in the same directory, then ``os.replace``.

    Readers in other processes see either the old entry or the complete new one.  A
    failure (read-only or full disk) gives a :class:`~symcoll.errors.KernelCacheWarning`
    and leaves no partial file; the kernel is then simply not cached.
    """
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(entry_bytes(key, source))
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        warnings.warn(f"kernel cache entry {path} could not be written ({exc}); the kernel is used "
                      "without caching", KernelCacheWarning, stacklevel=4)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
