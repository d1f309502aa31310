"""The package's doctests (issue 13: CI runs them).

Every module of ``symcoll`` whose source contains a ``>>>`` example is found by walking the
package (so new doctests are run without editing this file) and run with ``doctest.testmod``;
a module fails if any example fails.  No module is skipped at present: all run in well under a
second each (measured); a module that became slow would be listed in ``SLOW`` with the reason.
"""
import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import symcoll

SLOW = {}  # {module name: reason it is skipped}


def _modules_with_doctests():
    names = []
    for info in pkgutil.walk_packages(symcoll.__path__, "symcoll."):
        spec = importlib.util.find_spec(info.name)
        origin = getattr(spec, "origin", None)
        if origin and origin.endswith(".py") and ">>>" in Path(origin).read_text(encoding="utf-8"):
            names.append(info.name)
    return sorted(names)


MODULES = _modules_with_doctests()


def test_some_modules_have_doctests():
    assert "symcoll.coverage" in MODULES and len(MODULES) >= 5, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name):
    if name in SLOW:
        pytest.skip(SLOW[name])
    mod = importlib.import_module(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{name}: '>>>' in the source but no doctest collected"
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} doctests failed (see output)"
