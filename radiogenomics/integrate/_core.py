"""Array-level association core: every column of X against every column of Y, as matrices.

Used by :func:`radiogenomics.integrate.associate` (on a container) and by the gene rankings of
:mod:`radiogenomics.enrich`, so that neither writes temporary keys into a user's container.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import DataFormatError, ParameterError
from ..io._checks import refuse_numeric_text
from ._engine import Maps, run_exact, run_masked
from ._fdr import TESTS, fdr_adjust
from ._inputs import Side, missing_patterns

__all__ = ["compute", "correlate"]

# Above this many (x pattern, y pattern) combinations of missing values, use masked sums instead.
_MAX_PATTERN_PAIRS = 64
RULES = {
    "complete": "no missing values among the analysed patients",
    "drop": "patients with any missing value in the selected x or y features were excluded (complete cases)",
    "pairwise": "pairwise deletion, exact: each pair uses the patients observed in both features "
    "(features grouped by missing-value pattern; ranks and covariate residuals computed on those patients)",
    "pairwise_masked": "pairwise deletion, approximate: ranks and covariate residuals computed within each "
    "feature's own observed patients, then correlated over the patients observed in both (masked sums)",
}


def check_options(method, fdr, missing, n_permutations, min_count=1) -> None:
    """Raise ``ValueError`` naming the bad option."""
    checks = [
        (method in ("spearman", "pearson"), f"method must be 'spearman' or 'pearson', got {method!r}."),
        (fdr is None or fdr in ("bh", "by"), f"fdr must be 'bh', 'by' or None, got {fdr!r}."),
        (missing in ("pairwise", "drop"), f"missing must be 'pairwise' or 'drop', got {missing!r}."),
        (n_permutations >= 0, f"n_permutations must be >= 0, got {n_permutations}."),
        (min_count >= 1, f"min_count must be >= 1, got {min_count}."),
    ]
    for ok, msg in checks:
        if not ok:
            raise ParameterError(msg)


def _choose_groups(x: Side, y: Side, missing: str, chunk: int):
    gx, gy = missing_patterns(x, chunk), missing_patterns(y, chunk)
    if len(gx) == len(gy) == 1 and gx[0][1].all() and gy[0][1].all():
        return gx, gy, "complete"
    if missing == "drop":
        keep = np.logical_and.reduce([m for _, m in gx] + [m for _, m in gy])
        return [(np.arange(x.n_features), keep)], [(np.arange(y.n_features), keep)], "drop"
    if len(gx) * len(gy) > _MAX_PATTERN_PAIRS:
        return gx, gy, "pairwise_masked"
    return gx, gy, "pairwise"


def _permutation_fwer(r: np.ndarray, max_null: np.ndarray) -> np.ndarray:
    """Westfall-Young single-step max-|r| adjusted p-values: (1 + #{b: max_b >= |r|}) / (B + 1)."""
    null = np.sort(max_null)
    a = np.abs(r.astype(np.float64))
    exceed = len(null) - np.searchsorted(null, a * (1 - 1e-6), side="left")
    out = ((1.0 + exceed) / (len(null) + 1.0)).astype(np.float32)
    out[np.isnan(a)] = np.nan
    return out


def compute(
    xs: Side,
    ys: Side,
    z,
    *,
    method,
    fdr,
    missing,
    min_patients,
    min_count,
    n_permutations,
    seed,
    chunk_size,
    client,
    dtype=np.float32,
):
    """Run the screen on two prepared sides; return the matrices and a dict of what was done."""
    n_rows = len(xs.rows)
    # default: float64 blocks (patients x chunk, x features x chunk) of about 16 MB, which the allocator
    # reuses from chunk to chunk; larger blocks are mapped afresh each time (page faults cost more than BLAS gains)
    chunk = int(chunk_size) if chunk_size else max(1, 2_000_000 // max(n_rows, xs.n_features, 1))
    gx, gy, rule = _choose_groups(xs, ys, missing, chunk)
    if xs.n_nonfinite or ys.n_nonfinite:
        msg = (
            f"{xs.n_nonfinite} infinite values in {xs.label!r} and {ys.n_nonfinite} in {ys.label!r} were treated "
            "as missing (each pair uses the patients with finite values in both features)."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    if n_permutations and rule not in ("complete", "drop"):
        msg = (
            f"n_permutations needs complete data; {xs.label!r} or {ys.label!r} has missing values. Pass missing='drop'."
        )
        raise ParameterError(msg)
    rank = method == "spearman"
    maps = Maps(xs.n_features, ys.n_features, dtype)
    n_few, p_fwer = 0, None
    if rule == "pairwise_masked":
        warnings.warn(f"many missing-value patterns; using {RULES[rule]}.", UserWarning, stacklevel=3)
        k = run_masked(xs, ys, z, maps, rank, chunk, min_patients)
    else:
        rng = np.random.default_rng(seed)
        perms = [rng.permutation(int(gx[0][1].sum())) for _ in range(n_permutations)]
        k, max_null, n_few = run_exact(xs, ys, z, maps, (gx, gy), rank, chunk, perms, min_patients, min_count, client)
        if n_permutations:
            p_fwer = _permutation_fwer(maps.r, max_null)
    padj = fdr_adjust(maps.p, fdr) if fdr is not None else np.full(maps.p.shape, np.nan, dtype=np.float32)
    out = {
        "x_features": np.asarray(xs.names.astype(str), dtype=object),
        "y_features": np.asarray(ys.names.astype(str), dtype=object),
        "r": maps.r,
        "p": maps.p,
        "padj": padj,
        "statistic": maps.statistic,
        "n": maps.n,
        "test": maps.test,
    }
    if p_fwer is not None:
        out["p_fwer"] = p_fwer
    n_tested = int(np.count_nonzero(~np.isnan(maps.p)))
    info = {
        "missing_rule": RULES[rule],
        "n_covariate_dims": int(k),
        "n_tested": n_tested,
        "n_pairs_too_few_patients": int(np.count_nonzero((maps.n < min_patients) & np.isnan(maps.p))),
        "n_pairs_small_group": int(n_few),
        "n_nonfinite_x": int(xs.n_nonfinite),
        "n_nonfinite_y": int(ys.n_nonfinite),
        "n_patients_used": int(gx[0][1].sum()) if rule == "drop" else n_rows,
        "fdr_family": f"all {n_tested} tested pairs of {xs.n_features} x features by {ys.n_features} y features",
        "chunk_size": chunk,
    }
    return out, info


def _array_side(a, label: str, prefix: str) -> Side:
    if isinstance(a, pd.Series):
        a = a.to_frame()
    if isinstance(a, pd.DataFrame):
        side = Side(label, pd.Index(a.columns.astype(str)), a.to_numpy(dtype=np.float64), pd.RangeIndex(len(a)))
    else:
        matrix = a if hasattr(a, "shape") and len(a.shape) == 2 else np.asarray(a, dtype=np.float64).reshape(len(a), -1)
        names = pd.Index([f"{prefix}{j}" for j in range(matrix.shape[1])])
        side = Side(label, names, matrix, pd.RangeIndex(matrix.shape[0]))
    side.select(side.patients, None)
    return side


def _covariate_array(covariates, n: int) -> np.ndarray | None:
    if covariates is None:
        return None
    if isinstance(covariates, pd.DataFrame | pd.Series):
        frame = covariates.to_frame() if isinstance(covariates, pd.Series) else covariates
        refuse_numeric_text(frame, frame.columns, where="correlate covariates")
        frame = pd.get_dummies(frame, drop_first=True, dtype=float)
        z = frame.to_numpy(dtype=np.float64)
    else:
        z = np.asarray(covariates, dtype=np.float64).reshape(n, -1)
    if z.shape[0] != n or not np.isfinite(z).all():
        msg = (
            f"covariates must be {n} rows of finite numbers (one per patient); got shape {z.shape} with missing values."
        )
        raise DataFormatError(msg)
    return z if z.shape[1] else None


def correlate(
    X,
    Y,
    *,
    method: Literal["spearman", "pearson"] = "spearman",
    covariates=None,
    missing: Literal["pairwise", "drop"] = "pairwise",
    fdr: Literal["bh", "by"] | None = "bh",
    min_patients: int = 10,
    min_count: int = 3,
    n_permutations: int = 0,
    seed: int = 0,
    chunk_size: int | None = None,
    client=None,
    dtype: type = np.float32,
) -> dict:
    """Correlate every column of ``X`` with every column of ``Y`` (same patients in the same rows).

    The array-level core of :func:`radiogenomics.integrate.associate` (see there for the tests,
    the missing-value rules and the small-group rule): ranks and one matrix product per chunk of
    ``Y`` columns, exact p-values, Benjamini-Hochberg over the whole map. Nothing is stored.

    Parameters
    ----------
    X
        Patients x features: array, :class:`pandas.DataFrame` (its columns name the features),
        sparse matrix, or an on-disk (h5py) dataset read in chunks. Missing values are NaN;
        infinite values are treated as missing, with a warning that counts them.
    Y
        Patients x features, the same patients in the same order as ``X``.
    method
        ``"spearman"`` or ``"pearson"``.
    covariates
        Patients x covariates (array or DataFrame; categorical columns dummy-coded) for partial
        correlations; must be complete.
    missing
        ``"pairwise"`` or ``"drop"``.
    fdr
        ``"bh"``, ``"by"`` or ``None``.
    min_patients
        Pairs observed on fewer patients are untested.
    min_count
        Pairs with a binary column (of ``X`` or ``Y``) whose smaller group has fewer patients are untested.
    n_permutations
        Patient permutations for max-|r| family-wise error control (needs complete data).
    seed
        Seed of the permutations.
    chunk_size
        ``Y`` columns per chunk (default: float64 blocks of ``X`` columns x chunk and rows x chunk near 16 MB).
    client
        A :class:`distributed.Client`: chunks of ``Y`` (and their permutation nulls) run on its
        workers; results are identical to the local run.
    dtype
        Float type of ``r``, ``p`` and ``statistic``: ``numpy.float32`` (the stored
        precision, 7 digits) or ``numpy.float64``. Adjusted p-values are always computed from
        float32 p-values (as stored by ``associate``).

    Returns
    -------
    A dict with ``x_features`` and ``y_features`` (names) and X-by-Y matrices ``r``, ``p``,
    ``padj``, ``statistic`` (``dtype``; ``padj`` float32), ``n`` (int32, patients per pair), ``test`` (int8
    codes into ``tests``), ``p_fwer`` with permutations, ``tests`` (the names of the codes)
    and ``info`` (missing-value rule, FDR family, counts of untested pairs and of infinite values).

    Raises
    ------
    ValueError
        On an unknown option, rows that differ between ``X`` and ``Y``, or fewer than 4 patients.
    radiogenomics.errors.DataFormatError
        If covariates are incomplete or misshapen.

    Examples
    --------
    >>> import numpy as np
    >>> from radiogenomics.integrate import correlate
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((50, 3))
    >>> y = np.column_stack([x[:, 0] + 0.1 * rng.standard_normal(50), rng.standard_normal(50)])
    >>> res = correlate(x, y)
    >>> res["r"].shape, bool(res["padj"][0, 0] < 1e-10), res["tests"][res["test"][0, 0]]
    ((3, 2), True, 'spearman')
    """
    check_options(method, fdr, missing, n_permutations, min_count)
    xs, ys = _array_side(X, "X", "x"), _array_side(Y, "Y", "y")
    n = len(xs.rows)
    if len(ys.rows) != n:
        msg = f"X has {n} rows and Y {len(ys.rows)}; pass the same patients in the same order."
        raise ParameterError(msg)
    if isinstance(X, pd.DataFrame) and isinstance(Y, pd.DataFrame) and not X.index.equals(Y.index):
        msg = "X and Y index different patients (or orders); align them first, e.g. Y = Y.loc[X.index]."
        raise ParameterError(msg)
    if n < 4:
        msg = f"correlate needs at least 4 patients; got {n}."
        raise ParameterError(msg)
    out, info = compute(
        xs,
        ys,
        _covariate_array(covariates, n),
        method=method,
        fdr=fdr,
        missing=missing,
        min_patients=min_patients,
        min_count=min_count,
        n_permutations=n_permutations,
        seed=seed,
        chunk_size=chunk_size,
        client=client,
        dtype=dtype,
    )
    return {**out, "tests": list(TESTS), "info": info}
