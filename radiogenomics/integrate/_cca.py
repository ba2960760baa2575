"""Two-modality integration: CCA, PLS and sparse CCA with permutation tests."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .._compat import copy_mudata
from .._keys import embedding_key
from .._utils import require_mudata
from ..errors import InsufficientDataError, ParameterError
from ._inputs import common_patients, make_side
from ._scca import pmd_cca

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["cca"]

_METHODS = ("cca", "pls", "scca")


def _standardise(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Z-score columns; return the matrix and which columns were kept (non-constant)."""
    sd = a.std(axis=0)
    keep = sd > 1e-12 * np.maximum(np.abs(a).max(axis=0, initial=0.0), 1e-300)
    a = a[:, keep]
    return (a - a.mean(axis=0)) / sd[keep], keep


def _complete_features(side, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the complete, standardised block and the positions of the features used."""
    block = side.block(np.arange(side.n_features))
    observed = ~np.isnan(block).any(axis=0)
    if not observed.all():
        warnings.warn(
            f"cca: {int((~observed).sum())} {label} features with missing values among the analysed patients "
            "were excluded (recorded in params).",
            UserWarning,
            stacklevel=3,
        )
    z, keep = _standardise(block[:, observed])
    return z, np.flatnonzero(observed)[keep]


def _reduce(z: np.ndarray, n_pcs: int | None):
    """Optionally project on the top principal components; return scores and loadings (or None)."""
    if n_pcs is None:
        return z, None
    n_pcs = min(n_pcs, *z.shape)
    u, s, vt = np.linalg.svd(z, full_matrices=False)
    return u[:, :n_pcs] * s[:n_pcs], vt[:n_pcs].T


def _fit(a: np.ndarray, b: np.ndarray, method: str, k: int, penalties: tuple[float, float], *, quiet: bool = False):
    """Fit one model; return weights (p x k, q x k) and the canonical correlations of the scores."""
    if method == "scca":
        wa, wb, _ = pmd_cca(a, b, k, penalty_x=penalties[0], penalty_y=penalties[1])
    else:
        from sklearn.cross_decomposition import CCA, PLSCanonical
        from sklearn.exceptions import ConvergenceWarning

        model = (CCA if method == "cca" else PLSCanonical)(n_components=k, scale=False, max_iter=1000)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(a, b)
        if not quiet and any(issubclass(w.category, ConvergenceWarning) for w in caught):
            msg = f"cca: scikit-learn {type(model).__name__} did not converge in 1000 iterations; weights are approximate."
            warnings.warn(msg, UserWarning, stacklevel=4)
        wa, wb = model.x_rotations_, model.y_rotations_
    sa, sb = a @ wa, b @ wb
    sa_c, sb_c = sa - sa.mean(axis=0), sb - sb.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (sa_c * sb_c).sum(axis=0) / np.sqrt((sa_c**2).sum(axis=0) * (sb_c**2).sum(axis=0))
    flip = np.where(corr < 0, -1.0, 1.0)
    return wa, wb * flip, np.abs(corr)


def _check(method, n_components, n, p, q, n_pcs):
    if method not in _METHODS:
        msg = f"method must be one of {_METHODS}, got {method!r}."
        raise ParameterError(msg)
    if n_components < 1 or n_components > min(p, q):
        msg = f"n_components must be between 1 and {min(p, q)} (features on the smaller side), got {n_components}."
        raise ParameterError(msg)
    if method == "cca" and n_pcs is None and p + q >= n:
        msg = (
            f"Classical CCA is degenerate with {p} + {q} features on {n} patients (canonical correlations of 1). "
            "Pass n_pcs=<k> to run CCA on principal components, restrict x_features/y_features, or use "
            "method='scca' or 'pls'."
        )
        raise InsufficientDataError(msg)


def cca(
    mdata: MuData,
    x: str | Sequence[str] = "radiomics",
    y: str | Sequence[str] = "rna",
    *,
    n_components: int = 2,
    method: Literal["cca", "pls", "scca"] = "cca",
    layer_x: str | None = None,
    layer_y: str | None = None,
    x_features: Sequence[str] | None = None,
    y_features: Sequence[str] | None = None,
    n_pcs: int | None = None,
    penalty_x: float = 0.3,
    penalty_y: float = 0.3,
    n_permutations: int = 99,
    seed: int = 0,
    key_added: str = "cca",
    copy: bool = False,
) -> MuData | None:
    """Find paired directions of two modalities with maximal correlation (CCA, PLS or sparse CCA).

    Patients present in both modalities are used; features with missing values among them are
    excluded and every feature is standardised. ``method="cca"`` uses
    :class:`sklearn.cross_decomposition.CCA` (needs far fewer features than patients, or
    ``n_pcs``), ``"pls"`` :class:`sklearn.cross_decomposition.PLSCanonical` (maximises
    covariance), ``"scca"`` sparse CCA by penalised matrix decomposition (Witten et al. 2009,
    doi:10.1093/biostatistics/kxp008), which selects a few features per side and works with
    more features than patients.

    Significance: the patients of ``y`` are permuted ``n_permutations`` times, the model is
    refitted each time, and the p-value of component ``k`` is
    ``(1 + #{permuted k-th correlation >= observed}) / (n_permutations + 1)``.
    For components after the first this is conservative-to-approximate (the permuted fit does
    not condition on earlier components); read it as a guide.

    Parameters
    ----------
    mdata
        Cohort container.
    x
        Modality name, or a list of keys (``obs`` columns, ``"<mod>:<feature>"``).
    y
        Second modality or list of keys.
    n_components
        Number of canonical pairs.
    method
        ``"cca"``, ``"pls"`` or ``"scca"``.
    layer_x
        Layer of ``x`` to use instead of ``X``.
    layer_y
        Layer of ``y`` to use instead of ``X``.
    x_features
        Restrict x to these features.
    y_features
        Restrict y to these features.
    n_pcs
        Reduce each side to this many principal components first (for ``"cca"``/``"pls"`` with
        many features); weights are mapped back to features through the loadings.
    penalty_x
        Sparse CCA only: L1 bound on x weights as a fraction of ``sqrt(p)`` (smaller is sparser).
    penalty_y
        Sparse CCA only: as ``penalty_x`` for y.
    n_permutations
        Number of permutations for the p-values (0 skips them).
    seed
        Seed of the permutations.
    key_added
        Key for the results.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.obsm[f"X_{key_added}_x"]``, ``mdata.obsm[f"X_{key_added}_y"]`` : :class:`numpy.ndarray`
        Canonical scores per patient (missing for patients not analysed); addressed as
        ``f"{key_added}_x:<k>"`` and ``f"{key_added}_y:<k>"`` (e.g. ``"cca_x:1"``).
    ``mdata.uns[key_added]["summary"]`` : :class:`pandas.DataFrame`
        One row per component: ``component``, ``correlation``, ``p`` (permutation), ``n_nonzero_x``, ``n_nonzero_y``.
    ``mdata.uns[key_added]["weights_x"]``, ``["weights_y"]`` : :class:`pandas.DataFrame`
        Feature weights (features x components), unit norm per component.
    ``mdata.uns[key_added]["null"]`` : :class:`pandas.DataFrame`
        Canonical correlations of each permutation.
    ``mdata.uns[key_added]["params"]`` : :class:`dict`
        Call parameters, ``n_patients`` and numbers of features used per side.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=200, seed=0)
    >>> rg.integrate.cca(mdata, "radiomics", "mut", n_components=1, n_pcs=5, n_permutations=19)
    >>> mdata.uns["cca"]["summary"].columns.tolist()
    ['component', 'correlation', 'p', 'n_nonzero_x', 'n_nonzero_y']
    >>> mdata.obsm["X_cca_x"].shape
    (80, 1)
    """
    require_mudata(mdata, "integrate.cca")
    if copy:
        mdata = copy_mudata(mdata)
    xs, ys = make_side(mdata, x, layer_x, "layer_x"), make_side(mdata, y, layer_y, "layer_y")
    patients, counts = common_patients(mdata, xs, ys, None)
    xs.select(patients, x_features)
    ys.select(patients, y_features)
    a, used_x = _complete_features(xs, "x")
    b, used_y = _complete_features(ys, "y")
    _check(method, n_components, len(patients), a.shape[1], b.shape[1], n_pcs)
    ra, la = _reduce(a, n_pcs)
    rb, lb = _reduce(b, n_pcs)
    penalties = (penalty_x, penalty_y)
    rng = np.random.default_rng(seed)
    # small matrices: one BLAS thread avoids thread start-up and contention costs in the refits
    with threadpool_limits(limits=1, user_api="blas"):
        wa, wb, corr = _fit(ra, rb, method, n_components, penalties)
        null_fits = [
            _fit(ra, rb[rng.permutation(len(rb))], method, n_components, penalties, quiet=True)[2]
            for _ in range(n_permutations)
        ]
    null = np.array(null_fits).reshape(-1, n_components)
    fa, fb = (wa if la is None else la @ wa), (wb if lb is None else lb @ wb)
    fa, fb = fa / np.linalg.norm(fa, axis=0), fb / np.linalg.norm(fb, axis=0)
    comps = [f"C{k + 1}" for k in range(n_components)]
    p_perm = (
        (1 + (null >= corr - 1e-12).sum(axis=0)) / (n_permutations + 1)
        if n_permutations
        else np.full(len(corr), np.nan)
    )
    rows = mdata.obs_names.get_indexer(patients)
    for side, scores in (("x", a @ fa), ("y", b @ fb)):
        full = np.full((mdata.n_obs, n_components), np.nan)
        full[rows] = scores
        mdata.obsm[embedding_key(f"{key_added}_{side}")] = full
    mdata.uns[key_added] = {
        "summary": pd.DataFrame(
            {
                "component": comps,
                "correlation": corr,
                "p": p_perm,
                "n_nonzero_x": (np.abs(fa) > 1e-12).sum(axis=0),
                "n_nonzero_y": (np.abs(fb) > 1e-12).sum(axis=0),
            }
        ),
        "weights_x": pd.DataFrame(fa, index=xs.names[used_x].astype(str), columns=comps),
        "weights_y": pd.DataFrame(fb, index=ys.names[used_y].astype(str), columns=comps),
        "null": pd.DataFrame(null, columns=comps),
        "params": {
            "x": xs.label if xs.label != "obs" else list(map(str, xs.names)),
            "y": ys.label if ys.label != "obs" else list(map(str, ys.names)),
            "method": method,
            "n_components": int(n_components),
            "n_pcs": -1 if n_pcs is None else int(n_pcs),
            "penalty_x": float(penalty_x),
            "penalty_y": float(penalty_y),
            "n_permutations": int(n_permutations),
            "seed": int(seed),
            "n_patients": len(patients),
            "n_features_x": len(used_x),
            "n_features_y": len(used_y),
            "n_features_excluded_x": int(xs.n_features - len(used_x)),
            "n_features_excluded_y": int(ys.n_features - len(used_y)),
            **{k: int(v) for k, v in counts.items() if k != "n_patients"},
        },
    }
    return mdata if copy else None
