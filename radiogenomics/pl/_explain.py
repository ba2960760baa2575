"""SHAP plots of :func:`~radiogenomics.integrate.predict` and :func:`~radiogenomics.survival.signature`: summary, dependence, feature maps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._explain import stored_shap
from .._utils import require_mudata
from ..errors import MissingResultError, ParameterError
from ._utils import new_axes

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from mudata import MuData

__all__ = ["shap_dependence", "shap_feature_maps", "shap_summary"]


def _rank01(values: np.ndarray) -> np.ndarray:
    """Feature values as ranks in [0, 1] for colouring (missing values stay NaN)."""
    return pd.Series(values).rank(pct=True).to_numpy()


def shap_summary(
    mdata: MuData,
    *,
    key: str = "predict",
    target_class: str | None = None,
    max_features: int = 15,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Draw SHAP values per feature (one row per feature, one point per patient), coloured by feature value.

    Features are ordered by mean absolute SHAP value (largest on top); colour is the rank of
    the patient's feature value (blue low, red high); missing values are grey.

    Parameters
    ----------
    mdata
        Cohort after ``predict(..., explain=True)`` or ``signature(..., explain=True)``.
    key
        ``uns`` key of that result.
    target_class
        For a multi-class target, the class whose SHAP values are drawn (required there).
    max_features
        Number of features shown.
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.scatter`.

    Returns
    -------
    The axes: one row of points per feature and a colour bar of the feature value.

    Raises
    ------
    MissingResultError
        The result has no SHAP values (run with ``explain=True``).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=100, seed=0)
    >>> rg.integrate.predict(mdata, "idh_mutant", model="logistic_l2", cv=3, repeats=1, explain=True)
    >>> ax = rg.pl.shap_summary(mdata, max_features=5)
    >>> len(ax.get_yticklabels()), ax.get_xlabel()
    (5, 'SHAP value (log-odds)')
    """
    require_mudata(mdata, "pl.shap_summary")
    shap, data, scale = stored_shap(mdata, key, target_class)
    order = shap.abs().mean().sort_values(ascending=False).index[:max_features]
    ax = new_axes(ax, figsize=(6, 0.9 + 0.35 * len(order)))
    rng = np.random.default_rng(0)  # vertical jitter of the points only
    kwargs.setdefault("s", 10)
    points = None
    for row, feature in enumerate(order[::-1]):
        values = shap[feature].to_numpy(dtype=float)
        colour = _rank01(data[feature].to_numpy(dtype=float))
        y = row + rng.uniform(-0.3, 0.3, values.size)
        missing = np.isnan(colour)
        ax.scatter(values[missing], y[missing], color="lightgrey", **kwargs)
        points = ax.scatter(
            values[~missing], y[~missing], c=colour[~missing], cmap="coolwarm", vmin=0, vmax=1, **kwargs
        )
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(order)), list(order[::-1]))
    ax.set_xlabel(f"SHAP value ({scale})" if scale else "SHAP value")
    if points is not None:
        bar = ax.figure.colorbar(points, ax=ax, ticks=[0, 1])
        bar.ax.set_yticklabels(["low", "high"])
        bar.set_label("feature value")
    return ax


def shap_dependence(
    mdata: MuData,
    feature: str,
    *,
    key: str = "predict",
    target_class: str | None = None,
    color: str | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Scatter a feature's value against its SHAP value, one point per patient.

    Parameters
    ----------
    mdata
        Cohort after ``predict(..., explain=True)`` or ``signature(..., explain=True)``.
    feature
        A column of ``uns[key]["shap"]`` (a feature the final model uses).
    key
        ``uns`` key of that result.
    target_class
        For a multi-class target, the class whose SHAP values are drawn (required there).
    color
        Another explained feature whose value colours the points (an interaction), or ``None``.
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.scatter`.

    Returns
    -------
    The axes: one point per patient, coloured by ``color`` (with a colour bar) when given.

    Raises
    ------
    MissingResultError
        No SHAP values, or ``feature`` / ``color`` is not an explained feature (the message lists some).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=100, seed=0)
    >>> rg.integrate.predict(mdata, "idh_mutant", model="logistic_l2", cv=3, repeats=1, explain=True)
    >>> top = mdata.uns["predict"]["shap"].abs().mean().idxmax()
    >>> ax = rg.pl.shap_dependence(mdata, top)
    >>> ax.get_xlabel() == top
    True
    """
    require_mudata(mdata, "pl.shap_dependence")
    shap, data, scale = stored_shap(mdata, key, target_class)
    for name in [feature] + ([color] if color else []):
        if name not in shap.columns:
            msg = f"{name!r} is not an explained feature of uns[{key!r}]; e.g. {list(shap.columns[:5])}."
            raise MissingResultError(msg)
    ax = new_axes(ax, figsize=(5, 4))
    kwargs.setdefault("s", 14)
    x, y = data[feature].to_numpy(dtype=float), shap[feature].to_numpy(dtype=float)
    if color is None:
        ax.scatter(x, y, **kwargs)
    else:
        points = ax.scatter(x, y, c=data[color].to_numpy(dtype=float), cmap="coolwarm", **kwargs)
        ax.figure.colorbar(points, ax=ax, label=color)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel(feature)
    ax.set_ylabel(f"SHAP value ({scale})" if scale else "SHAP value")
    return ax


def shap_feature_maps(
    mdata: MuData,
    manifest: pd.DataFrame | str | os.PathLike,
    patient: str,
    *,
    key: str = "predict",
    target_class: str | None = None,
    n_features: int = 3,
    slice_index: int | None = None,
    cmap: str = "magma",
    ax: Axes | Sequence[Axes] | None = None,
    **kwargs: Any,
) -> Axes:
    """Draw the voxel-wise maps of the features that contribute most to one patient's prediction.

    One panel per feature (from :func:`radiogenomics.imaging.shap_feature_maps`: the patient's
    features with the largest absolute SHAP values that have a voxel map), each the image slice
    with the feature map and the ROI contour, titled with the feature's rank, name and SHAP value.
    Higher-ranked features without a map (shape, filtered images) are named under the panels.

    Parameters
    ----------
    mdata
        Cohort after ``predict(..., explain=True)`` or ``signature(..., explain=True)`` on
        features from :func:`radiogenomics.imaging.extract`.
    manifest
        The extraction manifest (DataFrame or CSV path).
    patient
        Patient ID.
    key
        ``uns`` key of the explained result.
    target_class
        For a multi-class target, the class whose SHAP values are drawn (required there).
    n_features
        Number of features (panels).
    slice_index
        Axial slice; default the slice with the most ROI voxels.
    cmap
        Colour map of the feature maps.
    ax
        ``n_features`` axes to draw into (one is enough for one feature); a new figure with one
        row of panels is made when ``None``.
    **kwargs
        Passed to :func:`radiogenomics.imaging.shap_feature_maps` (``modality``,
        ``kernel_radius``, ``params``).

    Returns
    -------
    The axes of the top-ranked feature; all panels are in ``ax.figure``.

    Raises
    ------
    MissingResultError, DataFormatError
        As :func:`radiogenomics.imaging.shap_feature_maps`.
    ValueError
        When fewer axes than mapped features are given.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from pathlib import Path
    >>> import radiogenomics as rg
    >>> from radiogenomics.study import init
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = init(folder / "study.yaml", example="images", seed=2)  # 16 synthetic MR volumes, a lesion each
    >>> manifest = folder / "study_data" / "manifest.csv"
    >>> classes = {"firstorder": ["Mean", "Energy", "Entropy"], "shape": ["VoxelVolume"]}
    >>> radiomics = rg.imaging.extract(manifest, params={"featureClass": classes}, progress=False)
    >>> clinical = pd.read_csv(folder / "study_data" / "clinical.csv", index_col="patient_id")
    >>> mdata = rg.io.build_mudata({"radiomics": radiomics}, clinical, id_rule=None)
    >>> rg.integrate.predict(mdata, "large", model="logistic_l2", cv=3, repeats=1, explain=True)
    >>> ax = rg.pl.shap_feature_maps(mdata, manifest, "P000", n_features=2)
    >>> ax.get_title().splitlines()[0]  # rank 1 is the lesion volume: a shape feature has no voxel map
    '#2 firstorder_Energy'
    >>> import shutil
    >>> shutil.rmtree(folder)
    """
    from ..imaging import shap_feature_maps as compute
    from ._featuremap import feature_map

    require_mudata(mdata, "pl.shap_feature_maps")
    res = compute(mdata, manifest, patient, key=key, target_class=target_class, n_features=n_features, **kwargs)
    table, skipped = res["table"], res["skipped"]
    if ax is None:
        import matplotlib.pyplot as plt

        _, grid = plt.subplots(1, len(table), figsize=(4.2 * len(table), 4.2), layout="constrained", squeeze=False)
        axes = list(grid[0])
    else:
        axes = [ax] if not isinstance(ax, list | tuple | np.ndarray) else list(np.ravel(ax))
    if len(axes) < len(table):
        msg = (
            f"shap_feature_maps: {len(table)} features to draw but {len(axes)} axes given; pass ax=None (a figure "
            f"with one panel per feature) or at least {len(table)} axes."
        )
        raise ParameterError(msg)
    scale = stored_shap(mdata, key, target_class)[2]
    for panel, (feature, row) in zip(axes, table.iterrows(), strict=False):
        feature_map(
            res["images"][feature], res["maps"][feature], {str(row["roi"]): res["masks"][feature]},
            slice_index=slice_index, cmap=cmap, label=row["map_feature"], ax=panel,
        )  # fmt: skip
        slice_text = panel.get_title()
        panel.set_title(
            f"#{row['rank']} {row['map_feature']}\nSHAP {row['shap']:+.3g}{f' ({scale})' if scale else ''}, {slice_text}"
        )
    if len(skipped):
        names = "; ".join(f"#{r['rank']} {f} ({r['reason'].split(';')[0]})" for f, r in skipped.iterrows())
        axes[0].figure.supxlabel(f"no voxel map: {names}", fontsize="small")
    axes[0].figure.suptitle(f"patient {patient}: features contributing most to the prediction ({key})")
    return axes[0]
