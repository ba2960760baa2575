"""Bootstrap confidence intervals of predict when resamples can miss a class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics._utils import bootstrap_indices
from radiogenomics.integrate._predict import N_BOOT, _metrics
from radiogenomics.integrate._predict_metrics import auc_rows, bootstrap_metrics


def _one_carrier():
    y = np.zeros(10, dtype=int)
    y[3] = 1
    oof = np.random.default_rng(0).random((2, 10))  # 2 repeats x 10 patients
    oof[:, 3] += 1.0  # the carrier ranks first: AUC 1 wherever it is drawn with a non-carrier
    return y, oof


def test_single_class_resamples_are_nan_and_counted():
    y, oof = _one_carrier()
    boot = bootstrap_metrics("binary", y, oof, n_boot=500, seed=1)["auc"]
    drawn = (y[bootstrap_indices(10, 500, 1)] == 1).any(axis=1)
    assert np.isnan(boot).sum() == (~drawn).sum() > 100  # P(no carrier) = 0.9**10 = 0.35
    np.testing.assert_allclose(boot[drawn], 1.0)
    # the defined resamples equal the mean over repeats of the per-repeat AUC
    idx = bootstrap_indices(10, 500, 1)[drawn][:5]
    expected = auc_rows(y[idx][:, None], oof[:, idx].swapaxes(0, 1)).mean(axis=1)
    np.testing.assert_allclose(boot[drawn][:5], expected)


def test_metrics_warn_with_count_and_keep_a_finite_interval():
    y, oof = _one_carrier()
    folds = pd.DataFrame({"auc": [1.0, 1.0]})
    with pytest.warns(UserWarning, match=rf"of {N_BOOT} bootstrap resamples drew a single class"):
        table = _metrics("binary", y, oof, folds, seed=1, null=None)
    row = table.set_index("metric").loc["auc"]
    assert row["value"] == 1.0 and row["ci_lower"] == 1.0 and row["ci_upper"] == 1.0


def test_balanced_target_gives_no_warning():
    rng = np.random.default_rng(2)
    y = np.tile([0, 1], 20)
    oof = rng.random((3, 40)) + 0.3 * y
    table = _metrics("binary", y, oof, pd.DataFrame({"auc": [0.6]}), seed=0, null=None)  # filterwarnings=error
    row = table.set_index("metric").loc["auc"]
    assert row["ci_lower"] < row["value"] < row["ci_upper"]
