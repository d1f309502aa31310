"""Shared fixtures; benchmarks in tests/benchmarks run only with --run-benchmarks."""
import numpy as np
import pytest


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


# The paper's parameters (Sec. VI E).
PAPER = dict(N=3, beta=0.1, m=0.1, g=50.0, Gamma=1.0, sigma_p=0.5, h=4.0)


@pytest.fixture
def paper():
    return dict(PAPER)
