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


@pytest.fixture
def rng():
    return np.random.default_rng(20261125)


# The paper's model parameters (Sec. VI E), from their one source.
PAPER = {name: PAPER_PARAMETERS[name] for name in MODEL_PARAMETERS}


@pytest.fixture
def paper():
    return dict(PAPER)
