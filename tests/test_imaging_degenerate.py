"""Degenerate groups in the radiomic feature steps: one batch, one-patient batches, too few patients."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics._utils import dense
from radiogenomics.errors import DataFormatError


def test_harmonize_refuses_a_single_batch(mdata):
    mdata.obs["site"] = "site1"
    before = dense(mdata.mod["radiomics"].X).copy()
    with pytest.raises(DataFormatError, match=r"every patient has site='site1': ComBat needs at least two batches"):
        rg.imaging.harmonize(mdata, batch_key="site")
    np.testing.assert_array_equal(dense(mdata.mod["radiomics"].X), before)  # nothing changed
    assert "harmonize" not in mdata.mod["radiomics"].uns


def test_harmonize_one_patient_batch_is_location_only_with_a_warning(mdata):
    lone = mdata.obs_names[0]
    mdata.obs["site"] = mdata.obs["site"].astype(str)
    mdata.obs.loc[lone, "site"] = "site9"
    explicit = mdata.copy()
    with pytest.warns(UserWarning, match=r"1 site batches have a single patient \(\['site9'\]\).*mean_only=True"):
        rg.imaging.harmonize(mdata, batch_key="site")
    rad = mdata.mod["radiomics"]
    fit = rad.uns["harmonize"]
    assert fit["params"]["mean_only"] is True
    np.testing.assert_array_equal(fit["delta_star"].to_numpy(), 1.0)
    assert np.isfinite(dense(rad.X)).all()
    # the defined result: the same as asking for a location-only adjustment (which does not warn)
    rg.imaging.harmonize(explicit, batch_key="site", mean_only=True)
    np.testing.assert_allclose(dense(rad.X), dense(explicit.mod["radiomics"].X), rtol=1e-12)
    # location only: within every batch of several patients the spread of each feature is unchanged
    raw = dense(rad.layers["raw"]).astype(np.float64)
    site = mdata.obs.loc[rad.obs_names, "site"].to_numpy()
    for s in ("site1", "site2", "site3"):
        np.testing.assert_allclose(dense(rad.X)[site == s].std(axis=0), raw[site == s].std(axis=0), rtol=1e-10)


def test_filter_features_refuses_correlation_filters_on_few_patients():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 200))
    adata = rg.datasets.synthetic_cohort(n_patients=20, seed=0).mod["radiomics"][:3].copy()
    adata = adata[:, :100].copy()
    adata.X = x[:, :100]
    # the fault: with 3 patients a Spearman coefficient is +-0.5 or +-1, so most pairs pass |rho| > 0.95
    ranks = pd.DataFrame(x[:, :100]).rank().to_numpy()
    assert set(np.round(np.unique(np.abs(np.corrcoef(ranks.T))), 6)) == {0.5, 1.0}
    with pytest.raises(DataFormatError, match=r"3 patients; the correlation filters .* need at least 10"):
        rg.imaging.filter_features(adata)
    with pytest.raises(DataFormatError, match="max_volume_corr"):
        rg.imaging.filter_features(adata, max_corr=None, max_volume_corr=0.9)
    assert adata.n_vars == 100
    # without the correlation filters, 3 patients are enough (nothing is constant here)
    rg.imaging.filter_features(adata, max_corr=None)
    assert adata.n_vars == 100
    with pytest.raises(DataFormatError, match="1 patient"):
        rg.imaging.filter_features(adata[:1].copy(), max_corr=None)


def test_filter_features_keeps_working_at_the_minimum(mdata):
    small = mdata.mod["radiomics"][:10].copy()
    rg.imaging.filter_features(small, max_corr=0.95)
    removed = small.uns["filter_features"]["removed"]
    assert (removed["reason"] == "redundant").all()
    assert small.n_vars + len(removed) == 100
