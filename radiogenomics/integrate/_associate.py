"""Radiogenomic association maps: every x feature against every y feature, with FDR control."""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import fdrcorrection

from ._correlate import corr_pvalues, covariate_basis, mannwhitney_from_corr, masked_corr, prepare_block
from ._inputs import common_patients, covariate_matrix, make_side, missing_patterns

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["associate"]

logger = logging.getLogger(__name__)

_TESTS = ["spearman", "pearson", "partial_spearman", "partial_pearson", "mannwhitneyu"]
_FDR = {"bh": "indep", "by": "negcorr"}  # statsmodels fdrcorrection methods
# Above this many (x pattern, y pattern) combinations of missing values, use masked sums instead.
_MAX_PATTERN_PAIRS = 64
_RULES = {
    "complete": "no missing values among the analysed patients",
    "drop": "patients with any missing value in the selected x or y features were excluded (complete cases)",
    "pairwise": "pairwise deletion, exact: each pair uses the patients observed in both features "
    "(features grouped by missing-value pattern; ranks and covariate residuals computed on those patients)",
    "pairwise_masked": "pairwise deletion, approximate: ranks and covariate residuals computed within each "
    "feature's own observed patients, then correlated over the patients observed in both (masked sums)",
}


def _as_slice(idx: np.ndarray) -> slice | np.ndarray:
    """A slice for consecutive indices (assignment without a gather), else the indices."""
    if len(idx) and idx[-1] - idx[0] == len(idx) - 1 and (np.diff(idx) == 1).all():
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


class _Maps:
    """Result matrices (y features by x features, the row order of the table) filled block by block.

    ``r``, ``p``, ``padj`` and ``statistic`` share one float array so the result table wraps it
    without copying.
    """

    def __init__(self, p: int, q: int):
        # every block is written exactly once (skipped blocks are written as missing)
        self.floats = np.empty((4, q, p))
        self.r, self.p, self.padj, self.stat = self.floats
        self.n = np.empty((q, p), dtype=np.int32)
        self.test = np.empty((q, p), dtype=np.int8)

    def put(self, xi, yi, r, p, stat, n, test):
        ix = (_as_slice(yi), _as_slice(xi))
        if not all(isinstance(i, slice) for i in ix):
            ix = np.ix_(yi, xi)
        self.r[ix], self.p[ix], self.stat[ix], self.n[ix], self.test[ix] = r, p, stat, n, test

    def views(self, xi, yi) -> dict | None:
        """Writable views for a block of all x features and consecutive y features, else None."""
        xs, ys = _as_slice(xi), _as_slice(yi)
        if not isinstance(ys, slice) or not isinstance(xs, slice) or xs != slice(0, self.r.shape[1]):
            return None
        return {"r": self.r[ys], "p": self.p[ys], "stat": self.stat[ys]}


def _binary_columns(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return which columns take exactly two values, and how many patients have the larger one."""
    head = y[:64]  # cheap screen: most continuous columns show a third value in the first rows
    lo, hi = head.min(axis=0, initial=np.inf), head.max(axis=0, initial=-np.inf)
    cand = np.flatnonzero(((head == lo) | (head == hi)).all(axis=0))
    two, n1 = np.zeros(y.shape[1], dtype=bool), np.zeros(y.shape[1], dtype=np.int64)
    if len(cand):
        yc = y[:, cand]
        lo, hi = yc.min(axis=0), yc.max(axis=0)
        two[cand] = (lo < hi) & ((yc == lo) | (yc == hi)).all(axis=0)
        n1[cand] = (yc == hi).sum(axis=0)
    return two, n1


def _block_stats(xa, xnorm, yraw, basis, k, rank, test_code, out=None):
    """Correlate prepared x columns with a raw y block on the same patients (results y by x)."""
    n = yraw.shape[0]
    ya, _ = prepare_block(yraw, basis, rank=rank)
    shape = (ya.shape[1], xa.shape[1])
    out = out or {"r": np.empty(shape), "p": np.empty(shape), "stat": np.empty(shape)}
    r = np.matmul(ya.T, xa, out=out["r"])
    np.clip(r, -1.0, 1.0, out=r)
    p, stat = corr_pvalues(r, n - 2 - k, out=(out["p"], out["stat"]))
    test = np.full(r.shape, test_code, dtype=np.int8)
    if rank and k == 0:
        binary, n1 = _binary_columns(yraw)
        if binary.any():
            u, pu = mannwhitney_from_corr(r[binary], xnorm[None, :], n1[binary][:, None], n)
            p[binary], stat[binary] = pu, u
            test[binary] = _TESTS.index("mannwhitneyu")
    return r, p, stat, test, ya


def _exact(x, y, design, maps, groups, rank, chunk, perms, min_n):
    """Exact path: loop over (x pattern, y pattern) groups and y chunks; optional max-|r| permutations."""
    test_code = _TESTS.index(("partial_" if design is not None else "") + ("spearman" if rank else "pearson"))
    max_null = np.zeros(len(perms))
    k_used = 0
    for xpos, xmask in groups[0]:
        xblock = x.block(xpos)
        for ypos, ymask in groups[1]:
            rows = xmask & ymask
            n = int(rows.sum())
            z = None if design is None or n < 3 else design[rows]
            basis, k = covariate_basis(z, n, rank=rank) if n >= 3 else (None, 0)
            k_used = max(k_used, k)
            if n < min_n or n - 2 - k < 1:  # too few patients for this pair of missing-value patterns
                nan = np.full((len(ypos), len(xpos)), np.nan)
                maps.put(xpos, ypos, nan, nan, nan, n, _TESTS.index("spearman" if rank else "pearson"))
                continue
            every = bool(rows.all())
            xa, xnorm = prepare_block(xblock if every else xblock[rows], basis, rank=rank)
            for start in range(0, len(ypos), chunk):
                yp = ypos[start : start + chunk]
                yraw = y.block(yp) if every else y.block(yp)[rows]
                views = maps.views(xpos, yp)
                r, p, stat, test, ya = _block_stats(xa, xnorm, yraw, basis, k, rank, test_code, views)
                if views is None:
                    maps.put(xpos, yp, r, p, stat, n, test)
                else:
                    maps.n[_as_slice(yp)], maps.test[_as_slice(yp)] = n, test
                for b, perm in enumerate(perms):
                    max_null[b] = max(max_null[b], np.nanmax(np.abs(xa.T @ ya[perm]), initial=0.0))
    return k_used, max_null


def _masked_transform(block, design, rank):
    """Rank and residualise each column on its own observed patients (NaN elsewhere)."""
    out = np.full(block.shape, np.nan)
    nan = np.isnan(block)
    keys = np.packbits(nan, axis=0)
    _, first, inverse = np.unique(keys, axis=1, return_index=True, return_inverse=True)
    for g in range(len(first)):
        cols = np.flatnonzero(inverse.ravel() == g)
        rows = ~nan[:, cols[0]]
        if rows.sum() < 3:
            continue
        basis, _ = covariate_basis(None if design is None else design[rows], int(rows.sum()), rank=rank)
        unit, _ = prepare_block(block[np.ix_(rows, cols)], basis, rank=rank)
        out[np.ix_(rows, cols)] = unit
    return out


def _masked(x, y, design, maps, rank, chunk, min_n):
    """Approximate pairwise path for many missing-value patterns: masked sums."""
    test_code = _TESTS.index(("partial_" if design is not None else "") + ("spearman" if rank else "pearson"))
    k = 0 if design is None else covariate_basis(design, design.shape[0], rank=rank)[1]
    xt = _masked_transform(x.block(np.arange(x.n_features)), design, rank)
    xi = np.arange(x.n_features)
    for start in range(0, y.n_features, chunk):
        yp = np.arange(start, min(start + chunk, y.n_features))
        r, n = masked_corr(_masked_transform(y.block(yp), design, rank), xt)
        p, stat = corr_pvalues(r, n - 2 - k)
        few = n < min_n
        r[few], p[few], stat[few] = np.nan, np.nan, np.nan
        maps.put(xi, yp, r, p, stat, n, test_code)
    return k


def _results_table(x, y, maps, fdr, p_fwer):
    """Wrap the result maps as the long table (rows ordered by y feature, then x feature)."""
    nx, ny = x.n_features, y.n_features
    p = maps.p.reshape(-1)
    ok = ~np.isnan(p)
    padj = maps.padj.reshape(-1)
    padj[:] = np.nan
    if fdr is not None and ok.all():
        padj[:] = fdrcorrection(p, method=_FDR[fdr])[1]
    elif fdr is not None and ok.any():
        padj[ok] = fdrcorrection(p[ok], method=_FDR[fdr])[1]
    # r, p, padj and statistic are wrapped without a copy
    table = pd.DataFrame(maps.floats.reshape(4, -1).T, columns=["r", "p", "padj", "statistic"], copy=False)
    codes_x = np.tile(np.arange(nx, dtype=np.int32), ny)
    codes_y = np.repeat(np.arange(ny, dtype=np.int32), nx)
    table.insert(0, "x_feature", pd.Categorical.from_codes(codes_x, categories=x.names.astype(str)))
    table.insert(1, "y_feature", pd.Categorical.from_codes(codes_y, categories=y.names.astype(str)))
    table.insert(5, "n", maps.n.reshape(-1))
    table["test"] = pd.Categorical.from_codes(maps.test.reshape(-1), categories=_TESTS)
    if p_fwer is not None:
        table["p_fwer"] = p_fwer
    return table


def _permutation_fwer(r, max_null):
    """Westfall-Young single-step max-|r| adjusted p-values: (1 + #{b: max_b >= |r|}) / (B + 1)."""
    null = np.sort(max_null)
    a = np.abs(r.ravel())
    exceed = len(null) - np.searchsorted(null, a * (1 - 1e-12), side="left")
    out = (1.0 + exceed) / (len(null) + 1.0)
    out[np.isnan(a)] = np.nan
    return out


def _check_options(method, fdr, missing, n_permutations):
    if method not in ("spearman", "pearson"):
        msg = f"method must be 'spearman' or 'pearson', got {method!r}."
        raise ValueError(msg)
    if fdr is not None and fdr not in _FDR:
        msg = f"fdr must be one of {sorted(_FDR)} or None, got {fdr!r}."
        raise ValueError(msg)
    if missing not in ("pairwise", "drop"):
        msg = f"missing must be 'pairwise' or 'drop', got {missing!r}."
        raise ValueError(msg)
    if n_permutations < 0:
        msg = f"n_permutations must be >= 0, got {n_permutations}."
        raise ValueError(msg)


def _choose_groups(x, y, missing, chunk):
    gx, gy = missing_patterns(x, chunk), missing_patterns(y, chunk)
    if len(gx) == len(gy) == 1 and gx[0][1].all() and gy[0][1].all():
        return gx, gy, "complete"
    if missing == "drop":
        keep = np.logical_and.reduce([m for _, m in gx] + [m for _, m in gy])
        return [(np.arange(x.n_features), keep)], [(np.arange(y.n_features), keep)], "drop"
    if len(gx) * len(gy) > _MAX_PATTERN_PAIRS:
        return gx, gy, "pairwise_masked"
    return gx, gy, "pairwise"


def associate(
    mdata: MuData,
    x: str | Sequence[str] = "radiomics",
    y: str | Sequence[str] = "rna",
    *,
    method: Literal["spearman", "pearson"] = "spearman",
    covariates: Sequence[str] | None = None,
    fdr: Literal["bh", "by"] | None = "bh",
    layer_x: str | None = None,
    layer_y: str | None = None,
    x_features: Sequence[str] | None = None,
    y_features: Sequence[str] | None = None,
    chunk_size: int | None = None,
    missing: Literal["pairwise", "drop"] = "pairwise",
    min_patients: int = 10,
    n_permutations: int = 0,
    seed: int = 0,
    key_added: str = "associate",
    copy: bool = False,
) -> MuData | None:
    """Test every x feature against every y feature: a radiogenomic association map.

    Correlations are computed for all pairs at once from ranks and matrix products, processing
    ``chunk_size`` y features at a time so memory stays bounded. Only patients present in both
    ``x`` and ``y`` (and with complete covariates) are analysed; their number is recorded.

    Tests (column ``test``):

    * ``spearman`` / ``pearson``: correlation with the exact two-sided p-value from the t
      distribution with ``n - 2`` degrees of freedom (as :func:`scipy.stats.spearmanr`,
      :func:`scipy.stats.pearsonr`).
    * ``mannwhitneyu``: a y feature with exactly two values (e.g. a mutation) and
      ``method="spearman"`` without covariates is tested with the Mann-Whitney U test (normal
      approximation with tie and continuity correction, as :func:`scipy.stats.mannwhitneyu`
      with ``method="asymptotic"``); ``statistic`` is U of the group with the larger value,
      ``r`` is the Spearman correlation with the 0/1 indicator (same sign).
      With ``method="pearson"`` a binary y gives the point-biserial correlation, whose t test is
      Student's two-sample t test.
    * ``partial_spearman`` / ``partial_pearson``: with ``covariates``, the correlation of the
      residuals of x and y (ranked first for Spearman, covariates included) after regression on
      the covariates (categorical ones dummy-coded), tested with ``n - 2 - k`` degrees of
      freedom, ``k`` the number of covariate columns. A binary y is then tested this way too.

    Missing values: with ``missing="pairwise"`` each pair uses the patients observed in both
    features. Features are grouped by their pattern of missing values and each group pair is
    computed exactly on its patients; if there are more than 64 group pairs, ranks and residuals
    are computed within each feature and pairs correlated with masked sums (approximate for
    Spearman and partial correlations). With ``missing="drop"`` patients with any missing value
    in the selected features are excluded. The rule applied is stored in ``params``.

    Parameters
    ----------
    mdata
        Cohort container.
    x
        Modality name, or a list of keys (``obs`` columns, ``"<mod>:<feature>"``, ``"<emb>:<k>"``).
    y
        Modality name (e.g. ``"rna"``, ``"mut"``, ``"pathways"``) or a list of keys as for ``x``.
    method
        ``"spearman"`` or ``"pearson"``.
    covariates
        Keys of covariates to adjust for by partial correlation (e.g. ``["site", "age"]``).
    fdr
        ``"bh"`` (Benjamini-Hochberg) or ``"by"`` (Benjamini-Yekutieli) via
        :func:`statsmodels.stats.multitest.multipletests`, over all pairs of the map; ``None`` skips it.
    layer_x
        Layer of ``x`` to use instead of ``X``.
    layer_y
        Layer of ``y`` to use instead of ``X``.
    x_features
        Restrict x to these features (e.g. one radiomic feature against all genes).
    y_features
        Restrict y to these features.
    chunk_size
        Number of y features per chunk; default keeps each chunk near 64 MB.
    missing
        ``"pairwise"`` or ``"drop"``, see above.
    min_patients
        Pairs observed on fewer patients are not tested (``r`` and ``p`` missing, outside the FDR
        family): with pairwise deletion a few patients can give |r| = 1 and a t-test p-value far
        smaller than any exact test allows.
    n_permutations
        Number of patient permutations for family-wise error control (Westfall-Young single-step
        max-|r|: y rows are permuted after covariate residualisation); needs complete data.
    seed
        Seed of the permutations.
    key_added
        Key in ``mdata.uns`` for the results.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.uns[key_added]["results"]`` : :class:`pandas.DataFrame`
        One row per pair (ordered by y feature, then x feature): ``x_feature``, ``y_feature``,
        ``r``, ``p``, ``padj``, ``n`` (patients used), ``statistic`` (t, or U for Mann-Whitney),
        ``test``, and ``p_fwer`` with permutations.
    ``mdata.uns[key_added]["params"]`` : :class:`dict`
        Call parameters, ``n_patients`` used, ``fdr_family`` (the family of the correction),
        ``missing_rule``, covariate columns and counts of patients per side.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=200, seed=0)
    >>> rg.integrate.associate(mdata, x="radiomics", y="mut")
    >>> res = rg.get.associations(mdata)
    >>> res.shape[0], mdata.uns["associate"]["params"]["n_patients"]
    (1000, 60)
    >>> res.loc[res["y_feature"] == "IDH1", "test"].unique().tolist()
    ['mannwhitneyu']
    """
    _check_options(method, fdr, missing, n_permutations)
    if copy:
        mdata = mdata.copy()
    xs, ys = make_side(mdata, x, layer_x, "layer_x"), make_side(mdata, y, layer_y, "layer_y")
    design = covariate_matrix(mdata, covariates)
    patients, counts = common_patients(mdata, xs, ys, design)
    xs.select(patients, x_features)
    ys.select(patients, y_features)
    chunk = int(chunk_size) if chunk_size else max(1, 8_000_000 // len(patients))
    gx, gy, rule = _choose_groups(xs, ys, missing, chunk)
    z = None if design is None else design.loc[patients].to_numpy(dtype=np.float64)
    rank = method == "spearman"
    if n_permutations and rule not in ("complete", "drop"):
        msg = (
            f"n_permutations needs complete data; {xs.label!r} or {ys.label!r} has missing values. Pass missing='drop'."
        )
        raise ValueError(msg)
    maps = _Maps(xs.n_features, ys.n_features)
    p_fwer = None
    if rule == "pairwise_masked":
        warnings.warn(f"associate: many missing-value patterns; using {_RULES[rule]}.", UserWarning, stacklevel=2)
        k = _masked(xs, ys, z, maps, rank, chunk, min_patients)
    else:
        rng = np.random.default_rng(seed)
        n_rows = int(gx[0][1].sum())
        perms = [rng.permutation(n_rows) for _ in range(n_permutations)]
        k, max_null = _exact(xs, ys, z, maps, (gx, gy), rank, chunk, perms, min_patients)
        if n_permutations:
            p_fwer = _permutation_fwer(maps.r, max_null)
    table = _results_table(xs, ys, maps, fdr, p_fwer)
    n_tests = int(table["p"].notna().sum())
    used = int(gx[0][1].sum()) if rule == "drop" else counts["n_patients"]
    logger.info("associate: %d x %d features, %d patients, rule %s", xs.n_features, ys.n_features, used, rule)
    mdata.uns[key_added] = {
        "results": table,
        "params": {
            "x": xs.label if xs.label != "obs" else list(map(str, xs.names)),
            "y": ys.label if ys.label != "obs" else list(map(str, ys.names)),
            "method": method,
            "covariates": [] if covariates is None else [str(c) for c in np.atleast_1d(covariates)],
            "covariate_columns": [] if design is None else list(design.columns),
            "n_covariate_dims": int(k),
            "fdr": "none" if fdr is None else fdr,
            "fdr_family": f"all {n_tests} tested pairs of {xs.n_features} x features by {ys.n_features} y features",
            "missing": missing,
            "missing_rule": _RULES[rule],
            "n_patients": used,
            "n_patients_eligible": counts["n_patients"],
            **{key: int(v) for key, v in counts.items() if key != "n_patients"},
            "min_patients": int(min_patients),
            "n_pairs_too_few_patients": int(((table["n"] < min_patients) & table["p"].isna()).sum()),
            "n_permutations": int(n_permutations),
            "seed": int(seed),
            "layer_x": "X" if layer_x is None else layer_x,
            "layer_y": "X" if layer_y is None else layer_y,
            "chunk_size": chunk,
        },
    }
    return mdata if copy else None
