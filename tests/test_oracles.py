"""The independent oracles (symcoll.oracles) import none of the code they check."""
import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["symcoll.oracles.quad38", "symcoll.oracles.local_map0"])
def test_oracle_does_not_import_the_maps(module):
    code = (f"import sys, {module}; "
            "bad = sorted(m for m in sys.modules if m.startswith('symcoll.maps') or m == 'symcoll.interpolation'); "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"{module} imports {out}"
