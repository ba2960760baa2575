"""Importing the package changes no process-wide state; clinical dtypes survive mudata's rebuilds."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd

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
