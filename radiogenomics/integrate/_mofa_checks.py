"""Input preparation and guards for :func:`radiogenomics.integrate.mofa`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from .._utils import modality_frame
from ..errors import DataFormatError, ParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from mudata import MuData

LIKELIHOODS = ("gaussian", "bernoulli", "poisson")
MIN_PATIENTS_PER_FACTOR = 15
SIZE_RATIO_WARN = 20.0
SCALE_RATIO_WARN = 100.0


@dataclass
class View:
    """One MOFA view: values aligned to the cohort's patients, with the features kept."""

    name: str
    values: pd.DataFrame  # patients (all cohort patients) x kept features
    likelihood: str
    all_features: pd.Index
    dropped: dict[str, int] = field(default_factory=dict)


def detect_likelihood(values: np.ndarray) -> str:
    """Return ``"bernoulli"`` if every observed value is 0 or 1, else ``"gaussian"``.

    Examples
    --------
    >>> import numpy as np
    >>> detect_likelihood(np.array([[0.0, 1.0], [np.nan, 1.0]])), detect_likelihood(np.array([0.5, 1.0]))
    ('bernoulli', 'gaussian')
    """
    observed = values[~np.isnan(values)]
    return "bernoulli" if observed.size and np.isin(observed, (0.0, 1.0)).all() else "gaussian"


def _resolve_likelihoods(mods: Sequence[str], likelihoods, frames: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    if likelihoods is None:
        chosen = {m: detect_likelihood(frames[m].to_numpy()) for m in mods}
    elif isinstance(likelihoods, str):
        chosen = dict.fromkeys(mods, likelihoods)
    elif hasattr(likelihoods, "items"):
        chosen = {m: likelihoods.get(m) or detect_likelihood(frames[m].to_numpy()) for m in mods}
    else:
        likelihoods = list(likelihoods)
        if len(likelihoods) != len(mods):
            msg = f"likelihoods has {len(likelihoods)} entries for {len(mods)} views {list(mods)}; give one per view or a dict."
            raise ParameterError(msg)
        chosen = dict(zip(mods, likelihoods, strict=True))
    bad = {m: lik for m, lik in chosen.items() if lik not in LIKELIHOODS}
    if bad:
        msg = f"Unknown likelihood(s) {bad}; use one of {LIKELIHOODS}."
        raise ParameterError(msg)
    for m, lik in chosen.items():
        if lik == "bernoulli" and detect_likelihood(frames[m].to_numpy()) != "bernoulli":
            msg = f"View {m!r} is declared Bernoulli but has values other than 0/1; binarise it or use 'gaussian'."
            raise DataFormatError(msg)
    return chosen


def looks_like_counts(values: np.ndarray) -> bool:
    """Return True for integer-valued, large and right-skewed values (raw sequencing counts).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> looks_like_counts(rng.poisson(rng.lognormal(4, 2, (50, 40))).astype(float))
    True
    >>> looks_like_counts(np.log1p(rng.poisson(rng.lognormal(4, 2, (50, 40))).astype(float)))
    False
    """
    observed = values[~np.isnan(values)]
    if observed.size < 20 or observed.min() < 0 or not np.all(observed == np.round(observed)):
        return False
    return bool(observed.max() > 100 and stats.skew(observed) > 2)


def replace_infinite(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """Return ``frame`` with infinite values set to missing, warning with their count and features.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> import pandas as pd
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     out = replace_infinite(pd.DataFrame({"a": [1.0, np.inf], "b": [0.0, 1.0]}), "radiomics")
    >>> int(out["a"].isna().sum()), str(caught[0].message)
    (1, "radiomics: 1 infinite value(s) in 1 feature(s) (e.g. ['a']) treated as missing.")
    """
    infinite = np.isinf(frame.to_numpy(dtype=float))
    if not infinite.any():
        return frame
    columns = list(frame.columns[infinite.any(axis=0)])
    warnings.warn(
        f"{where}: {int(infinite.sum())} infinite value(s) in {len(columns)} feature(s) (e.g. {columns[:5]}) treated as missing.",
        UserWarning,
        stacklevel=4,
    )
    return frame.mask(infinite)


def _drop_uninformative(name: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    present = frame.dropna(how="all")
    all_missing = frame.isna().all(axis=0)
    constant = (present.nunique(dropna=True) <= 1) & ~all_missing
    dropped = {"all_missing": int(all_missing.sum()), "constant": int(constant.sum())}
    if any(dropped.values()):
        warnings.warn(
            f"mofa: view {name!r}: excluding {dropped['all_missing']} feature(s) with no observed value and "
            f"{dropped['constant']} constant feature(s) (MOFA cannot fit them); their weights are NaN. "
            "Filter them beforehand to silence this.",
            UserWarning,
            stacklevel=4,
        )
    return frame.loc[:, ~(all_missing | constant)], dropped


def _standardise(frame: pd.DataFrame) -> pd.DataFrame:
    return (frame - frame.mean()) / frame.std(ddof=0)


def _warn_scales(name: str, present: np.ndarray) -> None:
    if present.shape[0] < 3:
        return
    sds = np.nanstd(present, axis=0)
    sds = sds[np.isfinite(sds) & (sds > 0)]
    if sds.size and sds.max() > SCALE_RATIO_WARN * sds.min():
        warnings.warn(
            f"mofa: features of view {name!r} are on very different scales (SD from {sds.min():.3g} to "
            f"{sds.max():.3g}); the largest dominate a Gaussian view. Pass scale_features=True or "
            "standardise them first.",
            UserWarning,
            stacklevel=4,
        )


def prepare_views(
    mdata: MuData,
    mods: Sequence[str] | None,
    likelihoods,
    *,
    scale_features: bool,
) -> list[View]:
    """Build MOFA views aligned to ``mdata.obs_names`` (NaN rows for patients without a view)."""
    mods = list(mdata.mod) if mods is None else ([mods] if isinstance(mods, str) else list(mods))
    if not mods:
        msg = "mofa needs at least one view; pass mods=[...] with modality names."
        raise ParameterError(msg)
    frames = {m: replace_infinite(modality_frame(mdata, m), f"mofa: view {m!r}") for m in mods}
    chosen = _resolve_likelihoods(mods, likelihoods, frames)
    views = []
    for m in mods:
        kept, dropped = _drop_uninformative(m, frames[m])
        if chosen[m] == "gaussian" and scale_features:
            kept = _standardise(kept)
        views.append(View(m, kept, chosen[m], frames[m].columns, dropped))
    return views


def _check_n_factors(views: Sequence[View], n_factors: int) -> None:
    """Refuse more factors than patients or features (mofapy2 fails in its PCA initialisation)."""
    present = np.zeros(len(views[0].values), dtype=bool)
    for view in views:
        present |= ~np.isnan(view.values.to_numpy(dtype=float)).all(axis=1)
    n_used, n_features = int(present.sum()), sum(view.values.shape[1] for view in views)
    if not 1 <= n_factors <= min(n_used, n_features):
        msg = (
            f"mofa: n_factors={n_factors} but the views hold {n_used} patients and {n_features} features; MOFA "
            f"cannot estimate more factors than either. Use 1 <= n_factors <= {min(n_used, n_features)}, better "
            f"<= {max(n_used // MIN_PATIENTS_PER_FACTOR, 1)} (at least {MIN_PATIENTS_PER_FACTOR} patients per factor)."
        )
        raise ParameterError(msg)


def check_views(views: Sequence[View], n_factors: int, *, scale_features: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """Warn about the usual mistakes; return the per-view table and which patients have any view.

    Raises :class:`ParameterError` when ``n_factors`` exceeds the patients or features.
    """
    _check_n_factors(views, n_factors)
    rows = []
    n_patients = len(views[0].values)
    has_any = np.zeros(n_patients, dtype=bool)
    for view in views:
        values = view.values.to_numpy()
        row_missing = np.isnan(values).all(axis=1)
        has_any |= ~row_missing
        present = values[~row_missing]
        rows.append(
            {
                "view": view.name,
                "likelihood": view.likelihood,
                "n_features": values.shape[1],
                "n_patients_present": int((~row_missing).sum()),
                "n_patients_missing": int(row_missing.sum()),
                "fraction_values_missing": float(np.isnan(present).mean()) if present.size else 1.0,
                "n_features_excluded": int(sum(view.dropped.values())),
            }
        )
        if view.likelihood == "gaussian" and not scale_features and looks_like_counts(present):
            warnings.warn(
                f"mofa: view {view.name!r} looks like raw counts (integer, large, skewed) but is modelled as "
                f"Gaussian; normalise it first, e.g. rg.omics.normalize(mdata, mod={view.name!r}, method='log_cpm') or log1p of CPM "
                "(scanpy.pp.normalize_total + scanpy.pp.log1p), or set likelihoods={...: 'poisson'}.",
                UserWarning,
                stacklevel=3,
            )
        elif view.likelihood == "gaussian" and not scale_features:
            _warn_scales(view.name, present)
    table = pd.DataFrame(rows).set_index("view")
    missing = table.loc[table["n_patients_missing"] > 0, "n_patients_missing"]
    if len(missing):
        counts = ", ".join(f"{v}: {n}" for v, n in missing.items())
        warnings.warn(
            f"mofa: patients missing from views ({counts} of {n_patients}); MOFA treats them as missing "
            "data, so their factor values rest on the other views only.",
            UserWarning,
            stacklevel=3,
        )
    sizes = table["n_features"]
    if len(sizes) > 1 and sizes.max() > SIZE_RATIO_WARN * max(sizes.min(), 1):
        warnings.warn(
            f"mofa: views of very different sizes ({ {k: int(v) for k, v in sizes.items()} }); the largest view dominates the factors. "
            "Select features first (e.g. highly variable genes, scanpy.pp.highly_variable_genes) so view "
            f"sizes are within about {SIZE_RATIO_WARN:g}-fold.",
            UserWarning,
            stacklevel=3,
        )
    n_used = int(has_any.sum())
    if n_used < MIN_PATIENTS_PER_FACTOR * n_factors:
        warnings.warn(
            f"mofa: {n_used} patients for {n_factors} factors (fewer than {MIN_PATIENTS_PER_FACTOR} per factor); "
            "factors may be unstable. Lower n_factors.",
            UserWarning,
            stacklevel=3,
        )
    return table, has_any
