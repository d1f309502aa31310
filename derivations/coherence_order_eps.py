import sys

from symcoll.derive import run_script

sys.exit(run_script("coherence_order_eps"))
