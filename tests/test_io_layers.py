"""Raw layers are independent copies: no transform may change the data a function keeps as "raw"."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import data_loaders as dl
import radiogenomics as rg


def _no_layer_shares_x(adata: ad.AnnData) -> None:
    layers = {k: v for k, v in adata.layers.items() if k is not None}  # anndata 0.13 lists X as layers[None]
    for name, layer in layers.items():
        assert not np.shares_memory(np.asarray(layer), np.asarray(adata.X)), f"layers[{name!r}] is X"
    for a, b in [(a, b) for a in layers for b in layers if a < b]:
        assert not np.shares_memory(np.asarray(layers[a]), np.asarray(layers[b])), (a, b)


def _counts_frame(seed=0, n=12, g=300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mean = np.exp(rng.uniform(1, 9, size=g))
    disp = 0.05 + 2 / mean
    # integer-valued counts as pandas gives them: float64
    return pd.DataFrame(
        rng.negative_binomial(1 / disp, 1 / (1 + mean * disp), size=(n, g)).astype(float),
        index=[f"S{i}" for i in range(n)],
        columns=[f"G{j}" for j in range(g)],
    )


@pytest.mark.parametrize("method", ["log_cpm", "log_tpm", "vst"])
@pytest.mark.parametrize("layer_first", [False, True])
def test_normalize_keeps_raw_counts_independent(method, layer_first):
    frame = _counts_frame()
    adata = ad.AnnData(frame.to_numpy())  # X is float64: the array normalize used to overwrite
    adata.var["gene_length"] = np.linspace(500, 5000, adata.n_vars)
    if layer_first:
        adata.layers["counts"] = adata.X  # the user stored the same array as X
        adata.X = adata.layers["counts"]
    rg.omics.normalize(adata, mod=None, method=method)
    np.testing.assert_array_equal(adata.layers["counts"], frame.to_numpy())
    _no_layer_shares_x(adata)
    if method == "log_cpm":
        np.testing.assert_allclose((2**adata.X - 1).sum(axis=1), 1e6)


def test_normalize_twice_from_xena_counts_gives_the_same_values():
    xena = dl.read_xena_matrix(dl.example_file("xena_counts"), units="log2(count+1)")
    raw = xena.layers["counts"].copy()
    rg.omics.normalize(xena, mod=None, method="log_cpm")
    first = xena.X.copy()
    rg.omics.normalize(xena, mod=None, method="log_cpm")  # from the kept counts again
    np.testing.assert_array_equal(xena.layers["counts"], raw)
    np.testing.assert_array_equal(xena.X, first)
    _no_layer_shares_x(xena)


def test_harmonize_raw_layer_is_a_copy(mdata):
    rg.imaging.harmonize(mdata, batch_key="site")
    adata = mdata["radiomics"]
    _no_layer_shares_x(adata)
    before = adata.layers["raw"].copy()
    adata.X[:] = 0.0
    np.testing.assert_array_equal(adata.layers["raw"], before)


def test_loaders_store_independent_layers():
    gdc = dl.read_gdc_star_counts(dl.example_file("gdc_star_counts"), sample_sheet=dl.example_file("gdc_sample_sheet"))
    _no_layer_shares_x(gdc)
    rg.omics.normalize(gdc, mod=None, method="log_cpm")
    _no_layer_shares_x(gdc)
    xena = dl.read_xena_matrix(dl.example_file("xena_counts"), units="log2(count+1)")
    _no_layer_shares_x(xena)


def test_normalize_warns_on_data_already_log_transformed():
    frame = _counts_frame()
    logged = np.log2(frame.to_numpy() + 1)
    with pytest.warns(UserWarning, match=r"look log-transformed already.*log of a log"):
        rg.omics.normalize(ad.AnnData(logged), mod=None, method="log_cpm")


def test_xena_raw_counts_declared_as_log2_are_refused(tmp_path):
    path = tmp_path / "counts.tsv"
    pd.DataFrame({"Ensembl_ID": ["G1", "G2"], "S1": [1523.0, 12.0], "S2": [0.0, 40210.0]}).to_csv(
        path, sep="\t", index=False
    )
    with pytest.raises(rg.errors.DataFormatError, match=r"counts\.tsv.*values reach 4\.021e\+04.*units='linear'"):
        dl.read_xena_matrix(path, units="log2(count+1)")
    assert dl.read_xena_matrix(path, units="linear").X.max() == 40210.0
