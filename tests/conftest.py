from __future__ import annotations

import os

import pytest

import radiogenomics as rg
from radiogenomics._compat import copy_mudata


@pytest.fixture(scope="session")
def cohort_session():
    return rg.datasets.synthetic_cohort(n_patients=120, seed=0)


@pytest.fixture
def mdata(cohort_session):
    """A fresh copy of the synthetic cohort (tests may modify it), clinical dtypes kept."""
    return copy_mudata(cohort_session)


@pytest.fixture(scope="session")
def glioma_session():
    with pytest.warns(UserWarning, match="build_mudata dropped"):
        return rg.datasets.tcga_glioma()


@pytest.fixture
def glioma(glioma_session):
    return copy_mudata(glioma_session)


@pytest.fixture
def require_r() -> str:
    """Path of Rscript; skip when R is absent, but fail when CI requires R (RG_REQUIRE_R=1)."""
    import shutil

    path = shutil.which("Rscript")
    if path:
        return path
    if os.environ.get("RG_REQUIRE_R") == "1":
        pytest.fail("Rscript not found but RG_REQUIRE_R=1 (CI installs r-base-core).")
    pytest.skip("Rscript not installed (apt-get install r-base-core r-cran-survival)")
    return ""


@pytest.fixture
def dask_client():
    """A client of a two-worker local Dask cluster with processes, as a user's cluster would run.

    Workers are spawned: forking a process that runs threads (logging, tqdm, dask) can deadlock a child
    on a lock held at the time of the fork.
    """
    distributed = pytest.importorskip("distributed")
    import dask

    with (
        dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}),
        distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client
