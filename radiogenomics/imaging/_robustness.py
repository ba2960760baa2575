"""Feature robustness from image/mask perturbations, with voxel-shuffled negative controls."""

from __future__ import annotations

import logging
import tempfile
import warnings
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import InsufficientDataError, ParameterError
from ._icc import COLUMNS, _resolve_form, icc_from_cube, mean_squares
from ._manifest import read_manifest
from ._perturb import PERTURBATIONS, STOCHASTIC, perturb, shuffle_voxels

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

__all__ = ["robustness"]

logger = logging.getLogger(__name__)

TEXTURE_CLASSES = {"glcm", "glrlm", "glszm", "gldm", "ngtdm"}
SEP = "~"  # joins patient and version in the temporary manifest


def _versions(perturbations: Sequence[str], n_perturbations: int, n_shuffles: int) -> list[tuple[str, str]]:
    """(version name, kind) pairs: the original, each perturbation, then the shuffled controls."""
    out = [("original", "original")]
    for kind in perturbations:
        if kind not in PERTURBATIONS:
            msg = f"Unknown perturbation {kind!r}; use some of {PERTURBATIONS}."
            raise ParameterError(msg)
        reps = n_perturbations if kind in STOCHASTIC else 1
        out += [(f"{kind}_{r + 1}" if kind in STOCHASTIC else kind, kind) for r in range(reps)]
    out += [(f"shuffle_{r + 1}", "shuffle") for r in range(n_shuffles)]
    return out


def _write_versions(cases: pd.DataFrame, versions, seed: int, folder: Path) -> pd.DataFrame:
    import SimpleITK as sitk

    from ._io import read_image, read_mask

    rows: list[dict] = []
    for case in cases.itertuples(index=False):
        ident = f"{case.patient_id}|{case.modality}|{case.roi}"
        rng = np.random.default_rng([seed, zlib.crc32(ident.encode())])
        image = read_image(case.image)
        mask = read_mask(case.mask, image)
        stem = f"case{len(rows)}"
        for name, kind in versions:
            if kind == "shuffle":
                img, roi = shuffle_voxels(image, mask, case.label, rng)
                what = "voxels shuffled within the ROI"
            else:
                img, roi, what = perturb(image, mask, case.label, kind, rng)
            img_path, roi_path = folder / f"{stem}_{name}_image.nrrd", folder / f"{stem}_{name}_mask.nrrd"
            sitk.WriteImage(img, str(img_path))
            sitk.WriteImage(roi, str(roi_path))
            rows.append(
                {
                    "patient_id": f"{case.patient_id}{SEP}{name}",
                    "image": str(img_path),
                    "mask": str(roi_path),
                    "modality": case.modality,
                    "roi": case.roi,
                    "label": 1,
                    "version": name,
                    "kind": kind,
                    "description": what,
                }
            )
    return pd.DataFrame(rows)


def _cube(values: pd.DataFrame, patients: list[str], names: list[str]) -> np.ndarray:
    index = pd.MultiIndex.from_product([patients, names])
    full = values.reindex(index)
    return full.to_numpy(dtype=np.float64).reshape(len(patients), len(names), values.shape[1])


def _drop_failed(values: pd.DataFrame, patients: list[str], versions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Leave out, for every patient, a perturbed version that failed for some patient (keeps the patients)."""
    names = [n for n, _ in versions]
    full = values.reindex(pd.MultiIndex.from_product([patients, names]))
    failed_rows = full.index[full.isna().all(axis=1)]
    failed = sorted({v for _, v in failed_rows} - {"original"})
    if failed:
        who = sorted({p for p, v in failed_rows if v in failed})
        msg = (
            f"robustness: versions {failed} could not be extracted for patients {who[:5]} "
            "(see the extract warning); they are left out of the ICC for every patient so that no patient is lost."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    return [(n, k) for n, k in versions if n not in failed]


def robustness(
    manifest: pd.DataFrame | str | os.PathLike,
    *,
    perturbations: Sequence[str] = PERTURBATIONS,
    n_perturbations: int = 2,
    n_shuffles: int = 2,
    params: dict | str | os.PathLike | None = None,
    form: str = "ICC(1,1)",
    seed: int = 0,
    n_jobs: int = 1,
    progress: bool = True,
) -> pd.DataFrame:
    """Measure how robust each radiomic feature is to image and mask perturbations (ICC).

    Following Zwanenburg et al. 2019 (doi:10.1038/s41598-018-36938-4), every case of the
    manifest is re-extracted under small, plausible changes: the ROI dilated and eroded by one
    voxel (``"dilate"``, ``"erode"``), image and ROI translated together by a random fraction
    of a voxel (``"translate"``, ``n_perturbations`` draws) and Gaussian noise at the image's
    own noise level added (``"noise"``, ``n_perturbations`` draws; Immerkaer's noise
    estimate). Features are computed by :func:`radiogenomics.imaging.extract` with ``params``
    on the original and every perturbed version, and the agreement across versions over
    patients is the intraclass correlation, ``ICC(1,1)`` by default (one-way random effects,
    absolute agreement, single measurement: a perturbation is drawn afresh for every patient,
    so versions are not crossed "raters"; see :func:`radiogenomics.imaging.icc`).

    Negative controls: each case is also extracted from ``n_shuffles`` images whose voxel
    intensities are randomly permuted inside the ROI (same histogram and shape, no spatial
    structure; cf. Welch et al. 2019, doi:10.1016/j.radonc.2018.10.027). ``icc_shuffled`` is
    the ICC between the original and the shuffled versions. A texture feature is flagged
    (``negative_control``) when destroying the spatial arrangement changes it no more than the
    perturbations do (``icc_shuffled >= ci_lower``): what it measures across patients is the
    intensity histogram, the ROI and noise, not texture. First-order and shape features are
    unchanged by shuffling by construction (``icc_shuffled`` = 1) and are not flagged.

    Parameters
    ----------
    manifest
        Cases as for :func:`radiogenomics.imaging.extract` (``patient_id``, ``image``,
        ``mask``, optional ``modality``, ``roi``, ``label``). At least 3 patients.
    perturbations
        Any of ``"dilate"``, ``"erode"``, ``"translate"``, ``"noise"``.
    n_perturbations
        Random draws for each of ``"translate"`` and ``"noise"``.
    n_shuffles
        Voxel-shuffled copies per case (negative controls); 0 skips them.
    params
        pyradiomics parameters, as for :func:`radiogenomics.imaging.extract`.
    form
        ICC form (see :func:`radiogenomics.imaging.icc`).
    seed
        Seed of every random perturbation and shuffle (per case, from the seed and the case's
        patient/modality/roi, so results do not depend on the manifest order).
    n_jobs
        Worker processes for the extraction.
    progress
        Show a progress bar.

    Returns
    -------
    :class:`pandas.DataFrame` indexed by feature (the names :func:`radiogenomics.imaging.extract`
    gives) with the ICC over the original and all perturbed versions (``icc``, ``ci_lower``,
    ``ci_upper``, ``F``, ``df1``, ``df2``, ``p``, ``n_targets``, ``n_raters``, ``form``),
    ``icc_<perturbation>`` (original versus that perturbation only), ``icc_shuffled`` and
    ``negative_control`` (bool). Pass it to :func:`radiogenomics.imaging.filter_features`
    (``icc=``) and plot it with :func:`radiogenomics.pl.icc_distribution`. A perturbed version
    that fails to extract for some patient (an erosion that empties a thin ROI) is left out for
    every patient, with a warning, so that no patient is lost (``n_raters`` shows how many
    versions were used; ``icc_<perturbation>`` is NaN when none of its versions is left). A
    patient whose original image fails is left out (``n_targets``).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np, pandas as pd, SimpleITK as sitk
    >>> from scipy import ndimage
    >>> import radiogenomics as rg
    >>> folder, rng, rows = tempfile.mkdtemp(), np.random.default_rng(0), []
    >>> mask = np.zeros((6, 20, 20), np.uint8)
    >>> mask[1:5, 4:16, 4:16] = 1
    >>> for i in range(5):
    ...     smooth = ndimage.gaussian_filter(rng.normal(size=mask.shape), 0.5 + i / 2)
    ...     image = 100 + 20 * i + 30 * smooth / smooth.std()
    ...     sitk.WriteImage(sitk.GetImageFromArray(image), f"{folder}/P{i}.nrrd")
    ...     sitk.WriteImage(sitk.GetImageFromArray(mask), f"{folder}/P{i}_mask.nrrd")
    ...     rows.append(dict(patient_id=f"P{i}", image=f"{folder}/P{i}.nrrd", mask=f"{folder}/P{i}_mask.nrrd"))
    >>> params = {"imageType": {"Original": {}}, "featureClass": {"firstorder": ["Mean"], "glcm": ["Correlation"]}}
    >>> res = rg.imaging.robustness(
    ...     pd.DataFrame(rows).assign(modality="CT", roi="tumour"), params=params, progress=False
    ... )
    >>> res.loc["CT_tumour_original_firstorder_Mean", "icc"] > 0.95
    np.True_
    >>> bool(res.loc["CT_tumour_original_glcm_Correlation", "negative_control"])  # texture beyond the histogram
    False
    """
    from ._extract import extract

    cases = read_manifest(manifest)
    patients = list(dict.fromkeys(cases["patient_id"]))
    if len(patients) < 3:
        msg = f"robustness needs at least 3 patients to estimate between-patient variance; got {len(patients)}."
        raise InsufficientDataError(msg)
    if n_perturbations < 1:
        msg = "n_perturbations must be >= 1."
        raise InsufficientDataError(msg)
    versions = _versions(list(perturbations), n_perturbations, n_shuffles)
    with tempfile.TemporaryDirectory(prefix="rg_robustness_") as tmp:
        table = _write_versions(cases, versions, seed, Path(tmp))
        adata = extract(
            table[["patient_id", "image", "mask", "modality", "roi", "label"]],
            params=params,
            n_jobs=n_jobs,
            progress=progress,
        )
    split = adata.obs_names.str.rsplit(SEP, n=1)
    values = pd.DataFrame(adata.X, index=pd.MultiIndex.from_tuples([tuple(s) for s in split]), columns=adata.var_names)
    versions = _drop_failed(values, patients, versions)
    perturbed = [name for name, kind in versions if kind != "shuffle"]
    out = pd.DataFrame(
        icc_from_cube(_cube(values, patients, perturbed), form), index=pd.Index(adata.var_names, name="feature")
    )
    out["form"] = _resolve_form(form)
    out = out[COLUMNS]
    for kind in dict.fromkeys(k for k in perturbations if k in PERTURBATIONS):
        names = ["original"] + [n for n, k in versions if k == kind]
        out[f"icc_{kind}"] = icc_from_cube(_cube(values, patients, names), form)["icc"] if len(names) > 1 else np.nan
    if any(k == "shuffle" for _, k in versions):
        names = ["original"] + [n for n, k in versions if k == "shuffle"]
        out["icc_shuffled"] = icc_from_cube(_cube(values, patients, names), form)["icc"]
        texture = adata.var["feature_class"].isin(TEXTURE_CLASSES).to_numpy()
        with np.errstate(invalid="ignore"):
            out["negative_control"] = texture & (out["icc_shuffled"].to_numpy() >= out["ci_lower"].to_numpy())
    constant = mean_squares(_cube(values, patients, perturbed))["msb"] == 0
    if constant.any():
        logger.info("robustness: %d features constant across patients (ICC undefined)", int(constant.sum()))
    return out
