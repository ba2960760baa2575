"""Property-based tests of association maps (issues 11, 14): q equals BH(p), Spearman is
invariant to monotone transforms, swapping x and y transposes (binary features included),
agreement with scipy; on the array core and through `rg.integrate.associate` + `rg.get.associations`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import fdrcorrection

import radiogenomics as rg
from radiogenomics.integrate import correlate
from radiogenomics.integrate._fdr import TESTS

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


def _with_binary(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Make a binary column on each side (mutation-like, tied values kept as the others' missing)."""
    rng = np.random.default_rng(seed + 1)
    x, y = x.copy(), y.copy()
    for a, size in ((x, 2 + seed % 5), (y, 3 + seed % 4)):
        col = np.zeros(len(a))
        col[rng.choice(len(a), size=size, replace=False)] = 1.0
        col[np.isnan(a[:, -1])] = np.nan
        a[:, -1] = col
    return x, y


@FAST
@given(cases, st.sampled_from(["spearman", "pearson"]), st.booleans())
def test_swap_transposes(case, method, binary):
    # a binary column on either side gives the same test for the pair (Mann-Whitney, groups from the binary one)
    x, y = _data(*case)
    if binary:
        x, y = _with_binary(x, y, case[0])
    a = correlate(x, y, method=method, min_patients=5, dtype=np.float64)
    b = correlate(y, x, method=method, min_patients=5, dtype=np.float64)
    for key in ("r", "p", "padj", "statistic"):
        np.testing.assert_allclose(b[key], a[key].T, rtol=1e-6, atol=1e-9, equal_nan=True)
    np.testing.assert_array_equal(b["test"], a["test"].T)


def test_binary_x_gets_the_rank_sum_test_of_scipy():
    rng = np.random.default_rng(3)
    g = np.r_[np.ones(6), np.zeros(24)]
    v = rng.normal(size=30) + g
    res = correlate(g[:, None], v[:, None], dtype=np.float64)
    ref = stats.mannwhitneyu(v[g == 1], v[g == 0], method="exact")
    assert TESTS[int(res["test"][0, 0])] == "mannwhitneyu_exact"
    assert res["statistic"][0, 0] == ref.statistic
    assert res["p"][0, 0] == pytest.approx(ref.pvalue, rel=1e-10)
    # two carriers: below min_count=3, untested whichever side the mutation is on
    g2 = np.r_[np.ones(2), np.zeros(28)]
    for a, b in ((g2[:, None], v[:, None]), (v[:, None], g2[:, None])):
        assert np.isnan(correlate(a, b)["p"][0, 0])


def _rank_sum(a: np.ndarray, b: np.ndarray) -> float | None:
    """scipy's Mann-Whitney p-value when a or b has two values (the one with the smaller minority gives the groups)."""
    minority = [np.unique(v, return_counts=True)[1].min() if len(np.unique(v)) == 2 else np.inf for v in (a, b)]
    if min(minority) == np.inf:
        return None
    g, v = (a, b) if minority[0] <= minority[1] else (b, a)
    if min(minority) < 3:  # min_count: untested
        return np.nan
    hi = g == g.max()
    exact = min(minority) <= 8 and len(np.unique(v)) == len(v)
    return stats.mannwhitneyu(v[hi], v[~hi], method="exact" if exact else "asymptotic").pvalue


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
            if method == "spearman" and _rank_sum(x[ok, i], y[ok, j]) is not None:
                p = _rank_sum(x[ok, i], y[ok, j])  # a binary feature (rounded data): Mann-Whitney, or untested
                if np.isnan(p):
                    assert np.isnan(res["p"][i, j])
                    continue
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


# Through the public API: rg.integrate.associate on a cohort, read back with rg.get.associations.


def _cohort(x: np.ndarray, y: np.ndarray):
    patients = [f"P{i:04d}" for i in range(x.shape[0])]
    a = pd.DataFrame(x, index=patients, columns=[f"x{j}" for j in range(x.shape[1])])
    b = pd.DataFrame(y, index=patients, columns=[f"y{j}" for j in range(y.shape[1])])
    return rg.io.build_mudata({"a": a, "b": b}, None, id_rule=None)


def _public_table(x: np.ndarray, y: np.ndarray, x_mod: str = "a", y_mod: str = "b", **kwargs) -> pd.DataFrame:
    mdata = _cohort(x, y)
    rg.integrate.associate(mdata, x=x_mod, y=y_mod, min_patients=5, top=0, **kwargs)
    table = rg.get.associations(mdata)
    return table.astype({"x_feature": str, "y_feature": str}).set_index(["x_feature", "y_feature"]).sort_index()


@FAST
@given(cases, st.booleans())
def test_public_q_is_bh_of_p(case, binary):
    x, y = _data(*case)
    if binary:
        x, y = _with_binary(x, y, case[0])
    table = _public_table(x, y)
    assert len(table) == x.shape[1] * y.shape[1]
    tested = table["p"].notna()
    expected = fdrcorrection(table.loc[tested, "p"].to_numpy())[1]
    np.testing.assert_allclose(table.loc[tested, "padj"], expected, rtol=1e-6, atol=1e-9)
    assert table.loc[~tested, "padj"].isna().all()


@FAST
@given(cases, st.sampled_from(["exp", "cube", "affine"]))
def test_public_spearman_invariant_to_monotone_transforms(case, kind):
    x, y = _data(*case)
    f = {"exp": np.exp, "cube": lambda a: a**3, "affine": lambda a: 3.0 * a + 7.0}[kind]
    base = _public_table(x, y)
    for xx, yy in ((f(x), y), (x, f(y))):
        res = _public_table(xx, yy)
        for key in ("r", "p", "padj", "statistic"):  # float32 maps
            np.testing.assert_allclose(res[key], base[key], rtol=1e-5, atol=1e-6, equal_nan=True)
        assert (res["test"] == base["test"]).all()


@FAST
@given(cases, st.booleans(), st.sampled_from(["spearman", "pearson"]))
def test_public_swap_transposes(case, binary, method):
    x, y = _data(*case)
    if binary:
        x, y = _with_binary(x, y, case[0])
    ab = _public_table(x, y, method=method)
    ba = _public_table(x, y, x_mod="b", y_mod="a", method=method)
    ba.index = ba.index.swaplevel()
    ba = ba.sort_index()
    for key in ("r", "p", "padj", "statistic", "n"):
        np.testing.assert_allclose(ba[key], ab[key], rtol=1e-6, atol=1e-9, equal_nan=True)
    assert (ba["test"] == ab["test"]).all()
