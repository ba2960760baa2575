"""rg.pl.oncoplot: genes by frequency, maftools patient order, variant-class colours, clinical tracks."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb

import data_loaders as dl
import radiogenomics as rg
from radiogenomics._utils import dense
from radiogenomics.errors import MissingColumnError
from radiogenomics.pl._oncoplot import CLASS_COLORS, NOT_MUTATED, human


def _cells(ax) -> np.ndarray:
    return np.asarray(ax.images[0].get_array())


def test_oncoplot_glioma(glioma):
    ax = rg.pl.oncoplot(glioma, clinical=("idh_status", "grade", "age"))
    mut = glioma["mut"]
    x = dense(mut.X) > 0
    counts = pd.Series(x.sum(axis=0), index=mut.var_names)
    expected = counts[counts > 0].sort_values(ascending=False, kind="stable").index[:20].tolist()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [*expected, "IDH status", "Grade", "Age"]
    assert labels[:2] == ["TP53", "IDH1"]  # the most frequent in this TCGA glioma subset (50% and 49%)
    percents = [t.get_text() for t in ax.texts]
    assert percents[: len(expected)] == [f"{100 * counts[g] / mut.n_obs:.0f}%" for g in expected]
    cells = _cells(ax)
    assert cells.shape[:2] == (len(expected) + 1 + 3, mut.n_obs)
    grid = ~np.all(np.isclose(cells[: len(expected)], to_rgb(NOT_MUTATED)), axis=2)
    # every mutation is drawn, once, in its gene's row
    np.testing.assert_array_equal(grid.sum(axis=1), counts[expected].to_numpy())
    # maftools order: patients sorted by the most frequent gene first, then the next (columns non-increasing)
    keys = [tuple(col) for col in grid.T.astype(int)]
    assert keys == sorted(keys, reverse=True)
    # the IDH status track has one colour per status (Mutant, WT) and follows the patient order
    idh_row = cells[len(expected) + 1]
    colours = {tuple(np.round(c, 6)) for c in idh_row}
    assert len(colours) == glioma.obs.loc[mut.obs_names, "idh_status"].dropna().nunique()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["Mutated", "Not mutated"] and "IDH status:" in legend and "Mutant" in legend


def test_oncoplot_variant_classes_from_the_maf_layer():
    mut = dl.mutation_matrix(dl.example_file("maf"))
    mdata = md.MuData({"mut": mut})
    ax = rg.pl.oncoplot(mdata, genes=["TP53", "IDH1", "PTEN"])
    cells = _cells(ax)
    codes = pd.DataFrame(mut.uns["variant_class_codes"]).set_index("code")["variant_class"]
    x = dense(mut[:, ["TP53", "IDH1", "PTEN"]].X) > 0
    order = np.lexsort([~x[:, j] for j in reversed(range(3))])
    layer = np.asarray(mut[:, ["TP53", "IDH1", "PTEN"]].layers["variant_class"])[order]
    for j in range(3):
        for i in range(mut.n_obs):
            expected = to_rgb(CLASS_COLORS[codes[layer[i, j]]]) if layer[i, j] else to_rgb(NOT_MUTATED)
            np.testing.assert_allclose(cells[j, i], expected)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    shown = sorted({int(c) for c in np.unique(layer) if c})
    assert legend[: len(shown)] == [human(codes[c]) for c in shown]
    assert "Missense mutation" in legend and "Splice site" in legend


def test_oncoplot_errors_and_labels(glioma):
    with pytest.raises(MissingColumnError, match=r"genes \['NOPE'\]"):
        rg.pl.oncoplot(glioma, genes=["IDH1", "NOPE"])
    with pytest.raises(MissingColumnError, match=r"clinical columns \['stage'\]"):
        rg.pl.oncoplot(glioma, clinical=("stage",))
    empty = md.MuData({"mut": ad.AnnData(np.zeros((3, 2), np.float32))})
    with pytest.raises(MissingColumnError, match="no gene is mutated"):
        rg.pl.oncoplot(empty)
    assert human("idh_status") == "IDH status"
    assert human("Frame_Shift_Del") == "Frame shift del"
    assert human("os_months") == "OS months"
