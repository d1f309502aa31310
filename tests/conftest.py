"""Shared fixtures; benchmarks in tests/benchmarks run only with --run-benchmarks."""
import numpy as np
import pytest

from symcoll.parameters import MODEL_PARAMETERS, PAPER_PARAMETERS


def pytest_addoption(parser):
    parser.addoption(
        "--run-benchmarks",
        action="store_true",
        default=False,
        help="run the pytest-benchmark suite in tests/benchmarks (skipped by default)",
    )


def pytest_ignore_collect(collection_path, config):
    if "benchmarks" in collection_path.parts and not config.getoption("--run-benchmarks"):
        return True
    return None


def pytest_collection_modifyitems(config, items):
    """A benchmark file named on the command line is collected (pytest does not ask ``pytest_ignore_collect`` about
    its arguments): its cases are skipped unless ``--run-benchmarks`` is given, so a plain ``pytest
    tests/benchmarks/test_x.py`` does not start minutes-long runs by accident."""
    if config.getoption("--run-benchmarks"):
        return
    skip = pytest.mark.skip(reason="benchmark: run with --run-benchmarks")
    for item in items:
        if "benchmarks" in item.path.parts:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)


# The paper's model parameters (Sec. VI E), from their one source.
PAPER = {name: PAPER_PARAMETERS[name] for name in MODEL_PARAMETERS}


@pytest.fixture
def paper():
    return dict(PAPER)


@pytest.fixture(scope="session")
def client():
    """One real dask.distributed LocalCluster of two worker processes (one thread each) for every
    sweep test (tests/test_sweep.py, tests/test_phase_diagram.py): start-up costs seconds."""
    import os

    distributed = pytest.importorskip("distributed")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # the spawned workers import this checkout
    os.environ["PYTHONPATH"] = root + os.pathsep + os.environ.get("PYTHONPATH", "")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       silence_logs=40)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()
