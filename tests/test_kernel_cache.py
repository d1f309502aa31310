"""The on-disk kernel cache is checked, not trusted (issue 10, item 10).

Every damaged or foreign cache entry must be detected BEFORE it is executed, moved
aside, rebuilt with a KernelCacheWarning, and the kernel must give the right numbers
(computed here from the formula, not by the code under test).  Writes are atomic and a
kernel is compiled once per process.
"""
import hashlib
import warnings

import numpy as np
import pytest
import sympy as sp

from symcoll import kernel_cache
from symcoll import kernels as K
from symcoll.errors import KernelCacheWarning, SymcollWarning

X = sp.Symbol("x", real=True)
XS = np.array([-2.0, 0.0, 0.5, 7.0])


def _lin(coef):
    """The test kernel ``coef * x + 2`` (numpy backend, real output)."""
    return K.make_kernel("lin", (X,), coef * X + 2, real_out=True)


def _expected(coef):
    return float(coef) * XS + 2.0


@pytest.fixture(autouse=True)
def _fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOLL_CACHE", str(tmp_path / "cache"))
    K.clear_memo()
    yield
    K.clear_memo()


def _no_warning_call(coef):
    with warnings.catch_warnings():
        warnings.simplefilter("error", SymcollWarning)
        return _lin(coef)


def test_entry_header_carries_key_and_body_hash():
    k = _lin(sp.Rational(3, 7))
    magic, key_line, hash_line, body = k.cache_path.read_bytes().split(b"\n", 3)
    assert magic.startswith(b"# symcoll kernel cache entry, format ")
    assert key_line == b"# key " + k.key.encode()
    assert hash_line == b"# sha256 " + hashlib.sha256(body).hexdigest().encode()
    assert body.decode() == k.source
    assert [p.name for p in k.cache_path.parent.iterdir()] == [k.cache_path.name]  # no temporary file left


def _garbage(good, other):
    return bytes(range(256)) * 8


def _empty(good, other):
    return b""


def _truncated_body(good, other):
    return good[: len(good) - 40]


def _truncated_header(good, other):
    return good[:50]


def _non_utf8(good, other):
    return b"\xff\xfe" + good


def _tampered_constant(good, other):
    # the header is intact and the body is valid Python that computes wrong numbers
    assert good.count(b"(3/7)*x") == 1
    return good.replace(b"(3/7)*x", b"(3/8)*x")


def _other_kernels_entry(good, other):
    # a complete, correct entry -- of another kernel (5x + 2), under this kernel's file name
    return other


def _old_format_without_header(good, other):
    # what the unchecked cache used to write: a bare module, here computing 5x + 2
    return other.split(b"\n", 3)[3]


CORRUPTIONS = [_garbage, _empty, _truncated_body, _truncated_header, _non_utf8, _tampered_constant,
               _other_kernels_entry, _old_format_without_header]


@pytest.mark.parametrize("corrupt", CORRUPTIONS, ids=lambda f: f.__name__.strip("_"))
def test_bad_entry_is_rejected_rebuilt_and_gives_right_numbers(corrupt):
    coef = sp.Rational(3, 7)
    good_kernel = _lin(coef)
    path = good_kernel.cache_path
    good = path.read_bytes()
    other = _lin(5).cache_path.read_bytes()
    bad = corrupt(good, other)
    assert bad != good
    path.write_bytes(bad)
    K.clear_memo()  # as in a new process: the file is all there is

    with pytest.warns(KernelCacheWarning, match=r"rejected: .*regenerating lin"):
        k = _lin(coef)
    assert not k.cache_hit  # regenerated, not executed from the bad file
    assert np.max(np.abs(k(XS) - _expected(coef))) < 1e-15
    assert path.read_bytes() == good  # the bad entry was replaced by a valid one
    assert path.with_name(path.name + ".rejected").read_bytes() == bad  # kept aside for inspection

    K.clear_memo()
    k2 = _no_warning_call(coef)  # the rebuilt entry passes the check
    assert k2.cache_hit and np.max(np.abs(k2(XS) - _expected(coef))) < 1e-15


def test_unreadable_entry_and_failed_write_give_warnings_not_errors():
    coef = sp.Rational(3, 7)
    path = _lin(coef).cache_path
    path.unlink()
    path.mkdir()  # a directory where the entry should be: neither readable nor replaceable
    K.clear_memo()
    with pytest.warns(KernelCacheWarning) as record:
        k = _lin(coef)
    messages = " ".join(str(w.message) for w in record)
    assert "cannot be read" in messages and "could not be written" in messages
    assert np.max(np.abs(k(XS) - _expected(coef))) < 1e-15
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left


def test_failed_atomic_replace_leaves_no_partial_entry(monkeypatch):
    def refuse(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(kernel_cache.os, "replace", refuse)
    with pytest.warns(KernelCacheWarning, match="could not be written.*disk full"):
        k = _lin(sp.Rational(3, 7))
    assert np.max(np.abs(k(XS) - _expected(sp.Rational(3, 7)))) < 1e-15
    assert list(k.cache_path.parent.iterdir()) == []  # neither the entry nor a temporary file


def test_compiled_once_per_process():
    k1 = _lin(sp.Rational(3, 7))
    k1.cache_path.unlink()  # a second request must not even look at the disk
    k2 = _no_warning_call(sp.Rational(3, 7))
    assert k2 is k1 and not k1.cache_path.exists()
    c1 = K.chain_kernel(1)
    assert K.chain_kernel(1) is c1  # the named-kernel fast path as well


def test_cache_key_covers_versions_and_format(monkeypatch):
    args = ("lin", (X,), 3 * X, "numpy", None, True)
    base = K.cache_key(*args)
    monkeypatch.setattr(K, "__version__", "999.0")
    assert K.cache_key(*args) != base
    monkeypatch.undo()
    monkeypatch.setattr(K, "CACHE_FORMAT", "999")
    assert K.cache_key(*args) != base
