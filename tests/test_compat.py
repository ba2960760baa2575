"""Importing the package changes no process-wide state; clinical dtypes survive mudata's rebuilds."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics._compat import copy_mudata, expected_duplicate_names

_PROBE = """
import warnings, mudata
filters = list(warnings.filters)
update_attr = mudata.MuData._update_attr
import radiogenomics as rg
rg.io, rg.survival.cox, rg.pl.kaplan_meier  # load the submodules as well
assert warnings.filters == filters, [f for f in warnings.filters if f not in filters]
assert mudata.MuData._update_attr is update_attr, "mudata.MuData was patched"
print("ok")
"""


def test_import_leaves_warning_filters_and_mudata_alone():
    res = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_duplicate_name_notice_is_silenced_only_inside_the_block(mdata):
    assert set(mdata["rna"].var_names) & set(mdata["mut"].var_names)  # the same genes in two modalities
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with expected_duplicate_names():
            mdata.copy()
        assert not caught
        mdata.copy()
    assert any("var_names are not unique" in str(w.message) for w in caught)


def test_copy_and_h5mu_keep_clinical_dtypes(tmp_path, mdata):
    mdata.obs["age_whole"] = np.round(mdata.obs["age"].to_numpy(dtype=float))  # float64 of whole numbers
    mdata.obs["flag"] = np.arange(mdata.n_obs) % 2 == 0  # plain bool
    before = mdata.obs.dtypes.copy()
    assert mdata.copy().obs["age_whole"].dtype != np.float64  # what mudata's copy() does
    copied = copy_mudata(mdata)
    pd.testing.assert_series_equal(copied.obs.dtypes, before)
    back = rg.io.read_h5mu(rg.io.write_h5mu(mdata, tmp_path / "c.h5mu"))
    for col in ("age_whole", "flag", "os_months", "os_event"):
        assert back.obs[col].dtype == before[col], col
        np.testing.assert_array_equal(back.obs[col].to_numpy(), mdata.obs[col].to_numpy())


# One copying function per module: copy=True goes through copy_mudata, so a whole-number float
# column (mudata's copy() makes it Int64/int64) and a plain bool column keep their dtypes.
COPYING = {
    "survival": lambda m: rg.survival.dichotomize(m, "age", copy=True),
    "integrate": lambda m: rg.integrate.fuse(m, ["radiomics", "mut"], copy=True),
    "imaging": lambda m: rg.imaging.harmonize(m, batch_key="site", copy=True),
    "omics": lambda m: rg.omics.markers(m, [str(m["rna"].var_names[0])], copy=True),
    "enrich": lambda m: rg.enrich.pathway_scores(
        m, gene_sets={"first": list(m["rna"].var_names[:20])}, method="zscore", min_size=5, copy=True
    ),
}


@pytest.mark.parametrize("module", sorted(COPYING))
def test_copy_true_keeps_whole_number_floats(module, mdata):
    mdata.obs["age_whole"] = np.round(mdata.obs["age"].to_numpy(dtype=float))
    mdata.obs["flag"] = np.arange(mdata.n_obs) % 2 == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # small-sample notes of the writers
        out = COPYING[module](mdata)
    assert out is not mdata
    assert out.obs["age_whole"].dtype == np.float64 and out.obs["flag"].dtype == bool
    np.testing.assert_array_equal(out.obs["age_whole"].to_numpy(), mdata.obs["age_whole"].to_numpy())


def test_adding_a_modality_in_place_keeps_whole_number_floats(mdata):
    """Functions that add a modality call mudata's update(), which converts obs dtypes; they are restored."""
    mdata.obs["age_whole"] = np.round(mdata.obs["age"].to_numpy(dtype=float))
    before = mdata.obs.dtypes.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # raw counts notice
        rg.enrich.pathway_scores(mdata, gene_sets={"g": list(mdata["rna"].var_names[:20])}, method="zscore", min_size=5)
    assert "pathways" in mdata.mod
    pd.testing.assert_series_equal(mdata.obs.dtypes[before.index], before)


def test_no_function_copies_a_container_with_mudata_copy():
    """``copy=True`` sites call copy_mudata, never ``<container>.copy()`` (which converts dtypes)."""
    root = Path(rg.__file__).parent
    pattern = re.compile(r"(\w+)\.copy\(\) if copy\b|if copy:\n\s+(\w+) = \2\.copy\(\)")
    found = [
        f"{path.relative_to(root)}: {m.group(0)!r}"
        for path in root.rglob("*.py")
        for m in pattern.finditer(path.read_text())
    ]
    assert not found
