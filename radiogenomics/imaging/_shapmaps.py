"""Voxel-wise maps of the radiomic features that contribute most to one patient's prediction (SHAP)."""

from __future__ import annotations

import json
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._explain import stored_shap
from .._utils import require_mudata
from ..errors import DataFormatError, MissingColumnError, MissingResultError
from ._featuremap import CLASSES, feature_map, read_case
from ._manifest import read_manifest

if TYPE_CHECKING:
    import os

    from mudata import MuData

__all__ = ["shap_feature_maps"]


def _unmappable(name: str, var: pd.DataFrame) -> str:
    """Why a feature has no voxel map ('' when it has one)."""
    if name not in var.index or not {"image_type", "feature_class", "modality", "roi"} <= set(var.columns):
        return "not a feature extracted by rg.imaging.extract in this modality"
    row = var.loc[name]
    if row["image_type"] != "original":
        return f"computed on a filtered image ({row['image_type']}); maps are of the original image only"
    if row["feature_class"] not in CLASSES:
        return f"{row['feature_class']} features describe the whole ROI and have no voxel map"
    return ""


def _settings(adata, image_modality: str) -> dict[str, Any]:
    """Return the pyradiomics ``setting`` entries the features were extracted with (``uns['extraction']``)."""
    extraction = adata.uns.get("extraction", {})
    raw = extraction.get("params")
    if not raw:
        return {}
    params = json.loads(raw) if isinstance(raw, str) else dict(raw)
    if "setting" not in params and image_modality in params:  # one parameter set per modality
        params = params[image_modality]
    setting = dict(params.get("setting", {}))
    setting.pop("label", None)
    return {k: v for k, v in setting.items() if v is not None}


def _case_row(cases: pd.DataFrame, patient: str, info: pd.Series) -> int:
    """Position of the manifest row the feature was extracted from."""
    keep = (cases["patient_id"].astype(str) == patient) & (cases["modality"] == info["modality"])
    keep &= cases["roi"] == info["roi"]
    if "timepoint" in info.index and "timepoint" in cases and pd.notna(info["timepoint"]):
        keep &= cases["timepoint"] == info["timepoint"]
    rows = np.flatnonzero(keep.to_numpy())
    if len(rows) != 1:
        what = "no manifest row" if not len(rows) else f"{len(rows)} manifest rows ({rows.tolist()})"
        msg = (
            f"shap_feature_maps: {what} for patient {patient!r}, modality {info['modality']!r}, ROI "
            f"{info['roi']!r}; pass the manifest the features were extracted from."
        )
        raise DataFormatError(msg)
    return int(rows[0])


def shap_feature_maps(
    mdata: MuData,
    manifest: pd.DataFrame | str | os.PathLike,
    patient: str,
    *,
    key: str = "predict",
    target_class: str | None = None,
    n_features: int = 3,
    modality: str = "radiomics",
    kernel_radius: int = 1,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Compute voxel-wise maps of the radiomic features with the largest SHAP values for one patient.

    The patient's SHAP values (``uns[key]["shap"]`` of :func:`radiogenomics.integrate.predict` or
    :func:`radiogenomics.survival.signature` run with ``explain=True``) are ranked by absolute
    value; the first ``n_features`` that have a voxel map (original-image first-order and texture
    features) are mapped with :func:`radiogenomics.imaging.feature_map` on the patient's image
    and ROI read from ``manifest``, with the pyradiomics settings the features were extracted
    with (``uns["extraction"]`` of the modality; ``params`` entries override them). Features
    ranked higher without a map (shape, filtered images, non-radiomic covariates) are listed
    with the reason. The map shows where in the tumour the feature that drives the prediction
    is high (van Griethuysen et al. 2017 voxel-based extraction; Lundberg & Lee 2017 SHAP).

    Parameters
    ----------
    mdata
        Cohort with ``uns[key]["shap"]`` and the radiomic modality the features came from.
    manifest
        The extraction manifest (DataFrame or CSV path) the modality was extracted from.
    patient
        Patient ID (a row of the SHAP table).
    key
        ``uns`` key of the explained result.
    target_class
        For a multi-class target, the class whose SHAP values rank the features (required there).
    n_features
        Number of features mapped.
    modality
        Modality holding the radiomic features (its ``var`` has ``modality, roi, image_type,
        feature_class, feature`` from :func:`radiogenomics.imaging.extract`).
    kernel_radius
        Kernel radius in voxels (1: a 3x3x3 cube).
    params
        pyradiomics ``setting`` entries overriding the extraction settings (e.g. ``{"binWidth": 25}``).

    Returns
    -------
    dict with ``"table"`` (one row per mapped feature, in rank order: ``rank`` among all
    explained features by absolute SHAP, ``map_feature`` (``<class>_<feature>``), ``shap``,
    ``value`` (the patient's feature value), ``manifest_row``, ``image_modality``, ``roi``), ``"skipped"`` (higher-ranked features
    without a map: ``rank, shap, reason``), ``"maps"`` (feature -> :class:`SimpleITK.Image`,
    NaN outside the ROI), ``"images"`` and ``"masks"`` (feature -> image and ROI mask read
    from the manifest).

    Raises
    ------
    MissingResultError
        No SHAP values in ``uns[key]`` (rerun with ``explain=True``) or ``patient`` not in them.
    ValueError
        ``target_class`` missing for a multi-class result, or given for another one.
    MissingColumnError
        ``modality`` is not a modality of ``mdata``.
    DataFormatError
        None of the patient's explained features has a voxel map, or the manifest has no single
        row for the patient's image.

    Warns
    -----
    UserWarning
        When the extraction preprocessed the images (``preprocess=``): the maps are computed on
        the images as read, without that preprocessing.

    Examples
    --------
    See :func:`radiogenomics.pl.shap_feature_maps`, which draws these maps, for a complete run:

    >>> import radiogenomics as rg
    >>> maps = rg.imaging.shap_feature_maps(mdata, manifest, "P001", n_features=2)  # doctest: +SKIP
    >>> maps["table"][["rank", "shap"]]  # doctest: +SKIP
    """
    require_mudata(mdata, "imaging.shap_feature_maps")
    shap, data, _ = stored_shap(mdata, key, target_class)
    if modality not in mdata.mod:
        msg = f"shap_feature_maps: no modality {modality!r}; modalities are {list(mdata.mod)}."
        raise MissingColumnError(msg)
    patient = str(patient)
    if patient not in shap.index:
        msg = f"patient {patient!r} has no SHAP values in uns[{key!r}]; e.g. {list(shap.index[:5])}."
        raise MissingResultError(msg)
    adata = mdata[modality]
    var = adata.var
    values = shap.loc[patient].astype(float).dropna()
    order = values.abs().sort_values(ascending=False, kind="stable").index
    chosen, skipped = [], []
    for rank, column in enumerate(order, start=1):
        name = column.split(":", 1)[1] if column.startswith(f"{modality}:") else column
        reason = _unmappable(name, var)
        if reason:
            skipped.append({"feature": column, "rank": rank, "shap": values[column], "reason": reason})
            continue
        chosen.append((rank, column, name))
        if len(chosen) == n_features:
            break
    if not chosen:
        reasons = "; ".join(f"{s['feature']}: {s['reason']}" for s in skipped[:5])
        msg = f"shap_feature_maps: none of patient {patient!r}'s explained features has a voxel map ({reasons})."
        raise DataFormatError(msg)
    preprocess = adata.uns.get("extraction", {}).get("preprocess")
    if preprocess not in (None, "", "null", "{}"):
        warnings.warn(
            f"shap_feature_maps: the features were extracted after preprocessing ({preprocess}); the maps are "
            "computed on the images as read from the manifest, without it.",
            UserWarning,
            stacklevel=2,
        )
    cases = read_manifest(manifest)
    rows: list[dict] = []
    out: dict[str, dict] = {"maps": {}, "images": {}, "masks": {}}
    read: dict[int, tuple] = {}
    for rank, column, name in chosen:
        info = var.loc[name]
        row = _case_row(cases, patient, info)
        if row not in read:
            read[row] = read_case(cases, row)
        image, mask = read[row]
        label = int(cases.iloc[row]["label"]) if "label" in cases else 1
        setting = {**_settings(adata, str(info["modality"])), **(params or {})}
        feature = f"{info['feature_class']}_{info['feature']}"
        out["maps"][column] = feature_map(
            image, mask, feature, kernel_radius=kernel_radius, label=label, params=setting
        )
        out["images"][column], out["masks"][column] = image, mask
        value = float(data.loc[patient, column]) if data is not None and column in data else float("nan")
        rows.append(
            {
                "feature": column,
                "map_feature": feature,
                "rank": rank,
                "shap": float(values[column]),
                "value": value,
                "manifest_row": row,
                "image_modality": str(info["modality"]),
                "roi": str(info["roi"]),
            }
        )
    out["table"] = pd.DataFrame(rows).set_index("feature")
    out["skipped"] = pd.DataFrame(skipped, columns=["feature", "rank", "shap", "reason"]).set_index("feature")
    return out
