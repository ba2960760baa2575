"""Memory-bounded steps give the numbers of their one-shot versions: z-score pathway scores, synthetic counts."""

from __future__ import annotations

import hashlib
import tracemalloc

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics.datasets._synthetic import _rna
from radiogenomics.enrich._scores import zscore_scores


def _whole_matrix_zscores(frame: pd.DataFrame, sets: dict) -> pd.DataFrame:
    """The previous implementation: z-scores of every gene of the matrix, then one product."""
    values = frame.to_numpy(dtype=float)
    sd = values.std(axis=0, ddof=1)
    z = np.nan_to_num((values - values.mean(axis=0)) / np.where(sd > 0, sd, np.nan))
    columns = {g: i for i, g in enumerate(frame.columns)}
    member = np.zeros((len(columns), len(sets)))
    for j, genes in enumerate(sets.values()):
        idx = [columns[g] for g in genes if g in columns]
        member[idx, j] = 1.0 / np.sqrt(len(idx))
    return pd.DataFrame(z @ member, index=frame.index, columns=list(sets))


def test_zscore_pathway_scores_read_only_set_genes_and_match_the_whole_matrix():
    rng = np.random.default_rng(3)
    genes = [f"G{i}" for i in range(400)]
    frame = pd.DataFrame(rng.normal(5, 2, size=(30, 400)), index=[f"p{i}" for i in range(30)], columns=genes)
    frame["G3"] = 7.0  # constant gene in a set: z = 0
    frame.loc["p0", "G399"] = np.nan  # missing value in a gene no set uses: not read, no warning
    sets = {f"S{j}": [*rng.choice(genes[:300], 25, replace=False).tolist(), "G3", "NOT_MEASURED"] for j in range(6)}
    mdata = md.MuData({"rna": ad.AnnData(frame.astype(np.float32))})
    rg.enrich.pathway_scores(mdata, gene_sets=sets, method="zscore", min_size=5)
    used = frame.drop(columns="G399").astype(np.float32)
    expected = _whole_matrix_zscores(used, sets)
    np.testing.assert_allclose(mdata["pathways"].X, expected.to_numpy(), rtol=1e-12, atol=1e-12)
    assert mdata["pathways"].var["overlap"].tolist() == [26] * 6
    # chunks of genes give the same numbers as one chunk
    for chunk in (1, 7, 10_000):
        np.testing.assert_allclose(zscore_scores(used, sets, chunk_size=chunk), expected, rtol=1e-12, atol=1e-12)


def test_zscore_pathway_scores_still_report_missing_values_in_set_genes():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        rng.normal(size=(20, 50)), index=[f"p{i}" for i in range(20)], columns=[f"G{i}" for i in range(50)]
    )
    frame.loc["p0", "G1"] = np.nan
    mdata = md.MuData({"rna": ad.AnnData(frame)})
    with pytest.warns(UserWarning, match="1 genes with missing values are left out"):
        rg.enrich.pathway_scores(mdata, gene_sets={"S": [f"G{i}" for i in range(20)]}, method="zscore", min_size=5)
    assert mdata["pathways"].var.loc["S", "overlap"] == 19


def test_synthetic_counts_equal_the_one_shot_simulation():
    """Values recorded from the one-shot (unchunked) simulation, seed 4, 300 patients x 1,000 genes."""
    x = rg.datasets.synthetic_cohort(n_patients=300, n_genes=1000, seed=4)["rna"].X
    assert x.dtype == np.float32
    assert float(x.sum()) == 156511344.0
    assert x[7, :6].tolist() == [116.0, 243.0, 272.0, 1339.0, 36.0, 8.0]
    assert hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest() == (
        "1d3f07a083055f247f5c1e127ca36573e6660449dd9282ed0c10a83cfa41b7b7"
    )


def test_synthetic_counts_do_not_depend_on_the_chunk_size():
    z = np.random.default_rng(0).standard_normal((50, 3)).astype(np.float32)
    idh = (z[:, 1] > 0).astype(np.float32)
    results = []
    for chunk in (1, 7, 256):
        rng, structure = np.random.default_rng(9), np.random.default_rng(10)
        rna, _, _ = _rna(rng, structure, z, 300, 25, idh, chunk=chunk)
        results.append((rna.X, rng.random()))  # the stream after the counts is where it was, too
    for x, after in results[1:]:
        np.testing.assert_array_equal(x, results[0][0])
        assert after == results[0][1]


def test_synthetic_peak_memory_stays_within_twice_the_counts():
    rg.datasets.synthetic_cohort(n_patients=20, n_genes=200, seed=0)  # imports outside the measurement
    tracemalloc.start()
    try:
        mdata = rg.datasets.synthetic_cohort(n_patients=3000, n_genes=3000, n_features=100, seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * mdata["rna"].X.nbytes
