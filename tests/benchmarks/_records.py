"""Benchmark records: ``symcoll-out/<name>.json``, merged with earlier runs (a run of one test keeps the others'
records) and replaced atomically."""
import json
import os


def merge_records(name, results):
    os.makedirs("symcoll-out", exist_ok=True)
    path = os.path.join("symcoll-out", name)
    old = {}
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
    old.update(results)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(old, f, indent=1, default=str)
    os.replace(tmp, path)
