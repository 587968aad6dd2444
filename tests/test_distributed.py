"""Cohorts and Sobol analyses on a real Dask cluster give the numbers they give locally (the distributed extra).

The cluster has two worker processes of one thread each, on this machine: the same path as a cluster of
many machines (pickled jobs, workers that import tumorsim themselves), at test size.
"""

from __future__ import annotations

import numpy as np
import pytest
from checks import require_extra

from sim.cohort import simulate_cohort
from sim.sensitivity import sobol_analysis


@pytest.fixture(scope="module")
def dask_executor():
    distributed = require_extra("distributed", "distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        yield client.get_executor()


@pytest.mark.parametrize("engine", ["auto", "numpy"])
def test_a_seeded_cohort_on_a_dask_cluster_matches_the_local_one(dask_executor, engine):
    local = simulate_cohort("ifn-dosed", 120, 7, chunk_size=30, workers=1, engine=engine)
    remote = simulate_cohort("ifn-dosed", 120, 7, chunk_size=30, executor=dask_executor, engine=engine)
    assert (~np.isnan(local.metastasis_day)).any() and np.isnan(local.metastasis_day).any()  # both outcomes occur
    for name in local.sampled:
        assert np.array_equal(local.sampled[name], remote.sampled[name])
    assert np.array_equal(local.metastasis_day, remote.metastasis_day, equal_nan=True)
    assert np.array_equal(local.endpoint_day, remote.endpoint_day, equal_nan=True)
    assert local.summary() == remote.summary()


def test_a_sobol_run_on_a_dask_cluster_matches_the_local_one(dask_executor):
    local = sobol_analysis("irf7-restored", n=8, seed=4, workers=1)
    remote = sobol_analysis("irf7-restored", n=8, seed=4, executor=dask_executor)
    assert remote.to_dict() == local.to_dict()
    assert np.array_equal(local.metastasis_day, remote.metastasis_day, equal_nan=True)
