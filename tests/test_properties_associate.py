"""Property-based tests of the association core (issue 11): q equals BH(p), Spearman is
invariant to monotone transforms, swapping x and y transposes, agreement with scipy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import fdrcorrection

from radiogenomics.integrate import correlate

FAST = settings(max_examples=30, deadline=None, derandomize=True)


def _data(seed: int, missing: float, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 14 + seed % 6
    x = rng.normal(size=(n, 3))
    y = rng.normal(size=(n, 4)) + 0.5 * x[:, :1]
    if ties:
        x = np.round(x)
        y[:, 0] = np.round(y[:, 0] * 2)
    x[rng.random(x.shape) < missing] = np.nan
    y[rng.random(y.shape) < missing] = np.nan
    return x, y


cases = st.tuples(st.integers(0, 10_000), st.sampled_from([0.0, 0.1, 0.25]), st.booleans())


@FAST
@given(cases, st.sampled_from(["spearman", "pearson"]))
def test_padj_is_bh_of_tested_p(case, method):
    x, y = _data(*case)
    res = correlate(x, y, method=method, min_patients=5)
    p = np.asarray(res["p"], dtype=np.float32)
    tested = np.isfinite(p)
    expected = fdrcorrection(p[tested].astype(np.float64))[1]
    np.testing.assert_allclose(res["padj"][tested], expected, rtol=1e-5, atol=1e-7)
    assert np.isnan(res["padj"][~tested]).all()


@FAST
@given(cases, st.sampled_from(["exp", "cube", "affine"]))
def test_spearman_invariant_to_monotone_transforms(case, kind):
    x, y = _data(*case)
    f = {"exp": np.exp, "cube": lambda a: a**3, "affine": lambda a: 3.0 * a + 7.0}[kind]
    base = correlate(x, y, min_patients=5, dtype=np.float64)
    for xx, yy in ((f(x), y), (x, f(y))):
        res = correlate(xx, yy, min_patients=5, dtype=np.float64)
        np.testing.assert_allclose(res["r"], base["r"], atol=1e-10, equal_nan=True)
        np.testing.assert_allclose(res["p"], base["p"], rtol=1e-8, atol=1e-12, equal_nan=True)


@FAST
@given(cases, st.sampled_from(["spearman", "pearson"]))
def test_swap_transposes(case, method):
    # binary columns of Y get a rank-sum test, of X a correlation: keep every column non-binary
    x, y = _data(case[0], case[1], ties=False)
    a = correlate(x, y, method=method, min_patients=5, dtype=np.float64)
    b = correlate(y, x, method=method, min_patients=5, dtype=np.float64)
    for key in ("r", "p", "padj"):
        np.testing.assert_allclose(b[key], a[key].T, rtol=1e-6, atol=1e-9, equal_nan=True)


@FAST
@given(cases, st.sampled_from(["spearman", "pearson"]))
def test_matches_scipy_pairwise(case, method):
    x, y = _data(*case)
    res = correlate(x, y, method=method, min_patients=5, dtype=np.float64)
    ref = stats.spearmanr if method == "spearman" else stats.pearsonr
    for i in range(x.shape[1]):
        for j in range(y.shape[1]):
            ok = ~np.isnan(x[:, i]) & ~np.isnan(y[:, j])
            if ok.sum() < 5 or np.ptp(x[ok, i]) == 0 or np.ptp(y[ok, j]) == 0:
                continue
            r, p = ref(x[ok, i], y[ok, j])
            assert res["r"][i, j] == pytest.approx(r, abs=1e-9)
            assert res["p"][i, j] == pytest.approx(p, rel=1e-6, abs=1e-12)


@FAST
@given(cases, st.integers(0, 1000))
def test_order_of_patients_and_features(case, seed):
    x, y = _data(*case)
    rng = np.random.default_rng(seed)
    rows, cx, cy = rng.permutation(len(x)), rng.permutation(x.shape[1]), rng.permutation(y.shape[1])
    a = correlate(x, y, min_patients=5, dtype=np.float64)
    b = correlate(x[rows][:, cx], y[rows][:, cy], min_patients=5, dtype=np.float64)
    for key in ("r", "p", "padj"):
        np.testing.assert_allclose(b[key], a[key][np.ix_(cx, cy)], rtol=1e-6, atol=1e-9, equal_nan=True)
