"""Derivation script: runs the registered derivation 'local_map_labels' (see README_derivations.md)."""
import sys

from symcoll.derive import run_script

if __name__ == "__main__":
    sys.exit(run_script("local_map_labels"))
