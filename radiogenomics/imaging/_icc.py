"""Intraclass correlation per feature, vectorised over features from ANOVA mean squares."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataFormatError, MissingColumnError, ParameterError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["icc"]

# Shrout & Fleiss (1979) name -> McGraw & Wong (1996) name, as pingouin labels them.
_FORMS = {
    "ICC(1,1)": "ICC(1,1)",
    "ICC(2,1)": "ICC(A,1)",
    "ICC(3,1)": "ICC(C,1)",
    "ICC(1,k)": "ICC(1,k)",
    "ICC(2,k)": "ICC(A,k)",
    "ICC(3,k)": "ICC(C,k)",
}
_ALIASES = {**{v: v for v in _FORMS.values()}, **_FORMS}
_ALIASES.update({"ICC1": "ICC(1,1)", "ICC2": "ICC(A,1)", "ICC3": "ICC(C,1)"})
_ALIASES.update({"ICC1k": "ICC(1,k)", "ICC2k": "ICC(A,k)", "ICC3k": "ICC(C,k)"})
COLUMNS = ["icc", "ci_lower", "ci_upper", "F", "df1", "df2", "p", "n_targets", "n_raters", "form"]


def _resolve_form(form: str) -> str:
    key = form.replace(" ", "")
    if key not in _ALIASES:
        msg = f"Unknown ICC form {form!r}; use one of {sorted(_FORMS)} (Shrout & Fleiss) or {sorted(set(_FORMS.values()))} (McGraw & Wong)."
        raise ParameterError(msg)
    return _ALIASES[key]


def _cube(table: pd.DataFrame, targets: str, raters: str, ratings: list[str]) -> tuple[np.ndarray, pd.Index]:
    """Reshape the long table to an array targets x raters x features (NaN where absent)."""
    dup = table.duplicated([targets, raters])
    if dup.any():
        first = table.loc[dup, [targets, raters]].iloc[0].tolist()
        msg = f"Each (target, rater) pair must appear once; {int(dup.sum())} duplicates, e.g. {first}. Aggregate or relabel raters."
        raise DataFormatError(msg)
    wide = table.set_index([targets, raters])[ratings].apply(pd.to_numeric, errors="coerce").unstack(raters)
    n_raters = wide.columns.get_level_values(1).nunique()
    cube = wide.to_numpy(dtype=np.float64).reshape(len(wide), len(ratings), n_raters).transpose(0, 2, 1)
    return cube, wide.index


def mean_squares(cube: np.ndarray) -> dict[str, np.ndarray]:
    """Two-way ANOVA mean squares for each feature of a targets x raters x features array.

    Targets with a missing rating for a feature are left out of that feature (listwise
    deletion, as ``pingouin.intraclass_corr(nan_policy="omit")``).
    """
    complete = ~np.isnan(cube).any(axis=1)  # targets x features
    n = complete.sum(axis=0).astype(np.float64)
    k = float(cube.shape[1])
    y = np.where(complete[:, None, :], cube, 0.0)
    w = complete[:, None, :].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        grand = y.sum(axis=(0, 1)) / (n * k)
        row_mean = y.sum(axis=1) / k  # targets x features (0 where incomplete)
        col_mean = y.sum(axis=0) / n  # raters x features
        ss_total = (((y - grand) ** 2) * w).sum(axis=(0, 1))
        ss_rows = k * (((row_mean - grand) ** 2) * complete).sum(axis=0)
        ss_cols = n * ((col_mean - grand) ** 2).sum(axis=0)
        ss_err = ss_total - ss_rows - ss_cols
        return {
            "n": n,
            "k": np.full_like(n, k),
            "msb": ss_rows / (n - 1),
            "msj": ss_cols / (k - 1),
            "mse": ss_err / ((n - 1) * (k - 1)),
            "msw": (ss_cols + ss_err) / (n * (k - 1)),
        }


def _estimate(value, lo, hi, f, df1, df2) -> dict[str, np.ndarray]:
    """One ICC form's value, confidence interval and F test (upper tail), by column name."""
    return {
        "icc": value,
        "ci_lower": lo,
        "ci_upper": hi,
        "F": f,
        "df1": df1,
        "df2": df2,
        "p": stats.f.sf(f, df1, df2),
    }


def _ratio_form(n, k, msb, msw, df2, *, single: bool, alpha: float) -> dict[str, np.ndarray]:
    """ICC, F test and CI of the forms whose F is ``msb / msw`` (one-way and consistency forms)."""
    f = msb / msw
    df1 = n - 1
    fl = f / stats.f.ppf(1 - alpha / 2, df1, df2)
    fu = f * stats.f.ppf(1 - alpha / 2, df2, df1)
    if single:
        value = (msb - msw) / (msb + (k - 1) * msw)
        lo, hi = (fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1)
    else:
        value = (msb - msw) / msb
        lo, hi = 1 - 1 / fl, 1 - 1 / fu
    return _estimate(value, lo, hi, f, df1, df2)


def _one_way(ms: dict[str, np.ndarray], *, single: bool, alpha: float) -> dict[str, np.ndarray]:
    """ICC(1,1) / ICC(1,k): within-target mean square as the error term."""
    n, k = ms["n"], ms["k"]
    return _ratio_form(n, k, ms["msb"], ms["msw"], n * (k - 1), single=single, alpha=alpha)


def _consistency(ms: dict[str, np.ndarray], *, single: bool, alpha: float) -> dict[str, np.ndarray]:
    """ICC(3,1) / ICC(3,k) (consistency): residual mean square as the error term."""
    n, k = ms["n"], ms["k"]
    return _ratio_form(n, k, ms["msb"], ms["mse"], (n - 1) * (k - 1), single=single, alpha=alpha)


def _agreement(ms: dict[str, np.ndarray], *, single: bool, alpha: float) -> dict[str, np.ndarray]:
    n, k, msb, msj, mse = ms["n"], ms["k"], ms["msb"], ms["msj"], ms["mse"]
    f = msb / mse
    df1, df2 = n - 1, (n - 1) * (k - 1)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    # Satterthwaite degrees of freedom for the confidence interval (McGraw & Wong 1996, case 2A).
    fj = msj / mse
    vn = df2 * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = df1 * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    f2u = stats.f.ppf(1 - alpha / 2, n - 1, v)
    f2l = stats.f.ppf(1 - alpha / 2, v, n - 1)
    lo = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
    hi = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
    if single:
        value = icc2
    else:
        value = (msb - mse) / (msb + (msj - mse) / n)
        lo, hi = lo * k / (1 + lo * (k - 1)), hi * k / (1 + hi * (k - 1))
    return _estimate(value, lo, hi, f, df1, df2)


def icc_from_cube(cube: np.ndarray, form: str = "ICC(1,1)", *, alpha: float = 0.05) -> dict[str, np.ndarray]:
    """ICC, confidence interval and F test for every feature of a targets x raters x features array."""
    name = _resolve_form(form)
    ms = mean_squares(cube)
    single = name.endswith(",1)")
    with np.errstate(invalid="ignore", divide="ignore"):
        if name.startswith("ICC(1"):
            out = _one_way(ms, single=single, alpha=alpha)
        elif name.startswith("ICC(C"):
            out = _consistency(ms, single=single, alpha=alpha)
        else:
            out = _agreement(ms, single=single, alpha=alpha)
    out["n_targets"] = ms["n"].astype(np.int64)
    out["n_raters"] = ms["k"].astype(np.int64)
    return out


def icc(
    table: pd.DataFrame,
    *,
    targets: str = "patient_id",
    raters: str = "perturbation",
    ratings: Sequence[str] | None = None,
    form: str = "ICC(1,1)",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Compute the intraclass correlation of every feature, with its confidence interval.

    All features are handled in one pass: the two-way ANOVA mean squares (between targets,
    between raters, residual) are computed for every feature column at once, and the ICC,
    its F test and its confidence interval follow from them (Shrout & Fleiss 1979,
    doi:10.1037/0033-2909.86.2.420; McGraw & Wong 1996, doi:10.1037/1082-989X.1.1.30). The
    numbers equal :func:`pingouin.intraclass_corr` run one feature at a time.

    Which form? ``"ICC(1,1)"`` (one-way random effects, absolute agreement, single rater) is
    the default and what :func:`robustness` reports: perturbed copies of an image are not the
    same "raters" across patients (a random translation or noise draw is different for each
    patient), so no rater effect can be estimated and the one-way model is the right one, as
    in Zwanenburg et al. 2019 (doi:10.1038/s41598-018-36938-4). For test-retest scans or
    several readers who each segment every patient, the readers *are* crossed with patients:
    use ``"ICC(2,1)"`` (two-way random effects, absolute agreement, single rater; McGraw &
    Wong's ``ICC(A,1)``) to generalise to other readers. ``"ICC(3,1)"`` (two-way mixed,
    consistency, ``ICC(C,1)``) ignores systematic reader offsets. The ``k`` forms give the
    reliability of the mean over all raters.

    Parameters
    ----------
    table
        Long table with one row per (target, rater): a ``targets`` column, a ``raters``
        column and one numeric column per feature, e.g. features extracted from test-retest
        scans or from several readers' segmentations (:func:`radiogenomics.imaging.robustness`
        builds such a table from perturbed images and calls this function).
    targets
        Column naming the rated subjects (patients or lesions).
    raters
        Column naming the rater, repeat scan, reader or perturbation.
    ratings
        Feature columns to analyse; default every numeric column except ``targets`` and ``raters``.
    form
        ICC form, Shrout & Fleiss names (``"ICC(1,1)"``, ``"ICC(2,1)"``, ``"ICC(3,1)"``,
        ``"ICC(1,k)"``, ``"ICC(2,k)"``, ``"ICC(3,k)"``) or McGraw & Wong names
        (``"ICC(A,1)"``, ``"ICC(C,1)"``, ...).
    alpha
        Confidence intervals cover ``1 - alpha``.

    Returns
    -------
    :class:`pandas.DataFrame` indexed by feature with columns ``icc``, ``ci_lower``,
    ``ci_upper``, ``F``, ``df1``, ``df2``, ``p`` (F test of ICC = 0), ``n_targets``
    (targets with every rating of that feature; incomplete targets are left out),
    ``n_raters`` and ``form`` (McGraw & Wong name). A feature that is constant across all
    targets has an undefined ICC (NaN).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import radiogenomics as rg
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.normal(size=30)
    >>> rows = [
    ...     {"patient_id": p, "perturbation": r, "stable": truth[p] + 0.1 * rng.normal(), "noise": rng.normal()}
    ...     for p in range(30)
    ...     for r in range(4)
    ... ]
    >>> res = rg.imaging.icc(pd.DataFrame(rows))
    >>> res.loc["stable", "icc"] > 0.95, abs(res.loc["noise", "icc"]) < 0.2
    (np.True_, np.True_)
    """
    for col in (targets, raters):
        if col not in table.columns:
            msg = (
                f"Column {col!r} not found in the table (columns: {list(table.columns)[:8]}...); pass targets=/raters=."
            )
            raise MissingColumnError(msg)
    if ratings is None:
        ratings = [c for c in table.columns if c not in (targets, raters) and pd.api.types.is_numeric_dtype(table[c])]
    else:
        ratings = [ratings] if isinstance(ratings, str) else list(ratings)
        missing = [c for c in ratings if c not in table.columns]
        if missing:
            msg = f"Rating columns {missing[:5]} not found in the table."
            raise MissingColumnError(msg)
    if not ratings:
        msg = "No numeric feature columns to rate; pass ratings=[...]."
        raise DataFormatError(msg)
    cube, _ = _cube(table, targets, raters, ratings)
    if cube.shape[1] < 2 or cube.shape[0] < 2:
        msg = f"An ICC needs at least 2 targets and 2 raters; got {cube.shape[0]} targets and {cube.shape[1]} raters."
        raise DataFormatError(msg)
    out = icc_from_cube(cube, form, alpha=alpha)
    frame = pd.DataFrame(out, index=pd.Index(ratings, name="feature"))
    frame["form"] = _resolve_form(form)
    return frame[COLUMNS]
