"""One extraction case (one image + mask + label): read, check, preprocess, run pyradiomics.

``run_case`` never raises for a bad case: it returns ``status="failed"`` with a reason, so a
batch goes on. It runs in the main process, in pool workers and on Dask workers alike.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _checkpoint
from ._io import GEOMETRY_TOLERANCE, geometry_difference, read_case_image, read_case_mask, reader_record, resample_to

if TYPE_CHECKING:
    from collections.abc import Iterator

logger = logging.getLogger(__name__)

ITK_THREADS = 1
_EXTRACTORS: dict[str, Any] = {}  # per-process cache: params JSON -> RadiomicsFeatureExtractor
_MAX_EXTRACTORS = 8  # one per modality preset of a batch is enough


def tolerance_of(params: dict[str, Any]) -> float:
    """The "same grid" tolerance in effect: pyradiomics' ``geometryTolerance`` setting, else the package's."""
    value = (params.get("setting") or {}).get("geometryTolerance")
    return float(value) if value is not None else GEOMETRY_TOLERANCE


@contextmanager
def sitk_state(tolerance: float) -> Iterator[None]:
    """Run with SimpleITK single-threaded and at ``tolerance``; restore every global touched on exit.

    pyradiomics' extractor sets SimpleITK's process-wide coordinate and direction tolerances (and
    its own module variable) from ``geometryTolerance`` and leaves them; the ``radiomics`` logger
    level is set here. All of them are put back, so no call changes the next one.
    """
    import SimpleITK as sitk
    from radiomics import featureextractor

    process = sitk.ProcessObject
    saved = (
        process.GetGlobalDefaultNumberOfThreads(),
        process.GetGlobalDefaultCoordinateTolerance(),
        process.GetGlobalDefaultDirectionTolerance(),
        featureextractor.geometryTolerance,
        logging.getLogger("radiomics").level,
    )
    process.SetGlobalDefaultNumberOfThreads(ITK_THREADS)
    process.SetGlobalDefaultCoordinateTolerance(tolerance)
    process.SetGlobalDefaultDirectionTolerance(tolerance)
    logging.getLogger("radiomics").setLevel(logging.ERROR)
    try:
        yield
    finally:
        process.SetGlobalDefaultNumberOfThreads(saved[0])
        process.SetGlobalDefaultCoordinateTolerance(saved[1])
        process.SetGlobalDefaultDirectionTolerance(saved[2])
        featureextractor.geometryTolerance = saved[3]
        logging.getLogger("radiomics").setLevel(saved[4])


class CaseError(Exception):
    """A case cannot be extracted; the message is the reason recorded in the failures table."""


def make_extractor(params: dict[str, Any]) -> Any:
    """Build a pyradiomics extractor from a parameter dict in pyradiomics' schema (validated by pyradiomics).

    Construction sets SimpleITK's global tolerances when ``geometryTolerance`` is given: it runs
    inside :func:`sitk_state`, which restores them.
    """
    from radiomics import featureextractor

    with sitk_state(tolerance_of(params)), warnings.catch_warnings():
        # pykwalify (pyradiomics' schema validator) loads its extension module the old way
        warnings.filterwarnings("ignore", message="the load_module", category=DeprecationWarning)
        return featureextractor.RadiomicsFeatureExtractor(params)


def _extractor(params_json: str) -> Any:
    extractor = _EXTRACTORS.get(params_json)
    if extractor is None:
        if len(_EXTRACTORS) >= _MAX_EXTRACTORS:
            _EXTRACTORS.clear()
        extractor = _EXTRACTORS[params_json] = make_extractor(json.loads(params_json))
    return extractor


def _label_counts(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-zero labels present and their voxel counts (bincount: linear time for ordinary label maps)."""
    flat = array.ravel()
    if flat.dtype.kind in "ui" and flat.size and flat.min() >= 0 and flat.max() < 2**16:
        counts = np.bincount(flat.astype(np.intp, copy=False))
        labels = np.flatnonzero(counts)
        counts = counts[labels]
    else:
        labels, counts = np.unique(flat, return_counts=True)
    keep = labels != 0
    return labels[keep], counts[keep]


def _check_mask(mask: Any, label: int, when: str = "") -> int:
    import SimpleITK as sitk

    present, counts = _label_counts(sitk.GetArrayViewFromImage(mask))
    if present.size == 0:
        msg = f"mask is empty{when}: no non-zero voxel"
        raise CaseError(msg)
    if label not in present:
        shown = ", ".join(str(int(v)) for v in present[:10])
        msg = f"label {label} absent from mask{when}; labels present: {shown}"
        raise CaseError(msg)
    return int(counts[np.flatnonzero(present == label)[0]])


def _read(case: dict[str, Any]) -> tuple[Any, Any]:
    try:
        image = read_case_image(case)
    except (OSError, ValueError, RuntimeError) as e:
        msg = f"cannot read image: {e}"
        raise CaseError(msg) from e
    try:
        mask = read_case_mask(case, image)
    except (OSError, ValueError, RuntimeError) as e:
        msg = f"cannot read mask: {e}"
        raise CaseError(msg) from e
    return image, mask


def _diagnostics(image: Any, voxels: int) -> dict[str, Any]:
    spacing = list(image.GetSpacing()) + [float("nan")] * (3 - image.GetDimension())
    size = list(image.GetSize()) + [1] * (3 - image.GetDimension())
    return {
        "image_hash": None,  # filled in after pyradiomics (which hashes the same images) runs
        "mask_hash": None,
        "spacing_x": float(spacing[0]),
        "spacing_y": float(spacing[1]),
        "spacing_z": float(spacing[2]),
        "size_x": int(size[0]),
        "size_y": int(size[1]),
        "size_z": int(size[2]),
        "mask_voxels": voxels,
        "mask_volume_mm3": float(voxels * np.prod(image.GetSpacing())),
    }


def _hashes(diagnostics: dict, output: dict, raw: tuple[Any, Any], *, preprocessed: bool) -> None:
    """SimpleITK SHA1 of the image and mask as read: pyradiomics' own when it hashed those, else computed here."""
    import SimpleITK as sitk

    if not preprocessed and "diagnostics_Image-original_Hash" in output:
        diagnostics["image_hash"] = str(output["diagnostics_Image-original_Hash"])
        diagnostics["mask_hash"] = str(output["diagnostics_Mask-original_Hash"])
    else:
        diagnostics["image_hash"], diagnostics["mask_hash"] = sitk.Hash(raw[0]), sitk.Hash(raw[1])


def case_params(case: dict[str, Any], settings: dict[str, Any]) -> str:
    """The pyradiomics parameters (JSON) of a case: its modality's preset, else the batch's."""
    return (settings.get("params_by_modality") or {}).get(case.get("modality"), settings["params_json"])


def _on_image_grid(image: Any, mask: Any, tolerance: float, *, resample: bool) -> tuple[Any, bool]:
    """Put the mask on the image's grid: same grid within ``tolerance`` -> exact copy of the image's geometry."""
    diff = geometry_difference(image, mask, tolerance)
    if diff:
        if not resample:
            msg = f"image/mask geometry mismatch: {diff}; pass resample_mask=True to resample the mask onto the image"
            raise CaseError(msg)
        return resample_to(mask, image), True
    if not (
        image.GetOrigin() == mask.GetOrigin()
        and image.GetSpacing() == mask.GetSpacing()
        and image.GetDirection() == mask.GetDirection()
    ):
        # equal within the tolerance (e.g. NIfTI's float32 header): take the image's exact values,
        # so no later check (SimpleITK's, pyradiomics') sees a difference the package called none
        import SimpleITK as sitk

        mask = sitk.Image(mask)
        mask.CopyInformation(image)
    return mask, False


def _compute(case: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    from ._preprocess import preprocess

    image, mask = _read(case)
    label = int(case["label"])
    params_json = case_params(case, settings)
    tolerance = tolerance_of(json.loads(params_json))
    mask, resampled = _on_image_grid(image, mask, tolerance, resample=settings["resample_mask"])
    voxels = _check_mask(mask, label, " after resampling onto the image" if resampled else "")
    diagnostics = _diagnostics(image, voxels) | reader_record(image)
    diagnostics["mask_resampled"] = resampled
    record: dict[str, Any] = {}
    raw = (image, mask)
    if settings["preprocess"]:
        try:
            image, mask, record = preprocess(image, mask, **settings["preprocess"])
        except (ValueError, RuntimeError) as e:
            msg = f"preprocess failed: {e}"
            raise CaseError(msg) from e
        _check_mask(mask, label, " after preprocessing")
    diagnostics["preprocess"] = json.dumps(record, sort_keys=True) if record else ""
    extractor = _extractor(params_json)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            output = extractor.execute(image, mask, label=label)
        except (ValueError, RuntimeError, AssertionError) as e:
            msg = f"pyradiomics failed: {e}"
            raise CaseError(msg) from e
    for w in caught:
        logger.debug("pyradiomics warning for %s: %s", case["patient_id"], w.message)
    diagnostics["n_warnings"] = len(caught)
    diagnostics["geometry_tolerance"] = tolerance
    _hashes(diagnostics, output, raw, preprocessed=bool(record))
    # pyradiomics returns 0-d arrays; MCC can carry a zero imaginary part from its eigenvalues
    features = {k: float(np.real(v)) for k, v in output.items() if not k.startswith("diagnostics_")}
    return {"features": features, "diagnostics": diagnostics}


def run_case(case: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Extract one case; save it to the checkpoint folder (atomically) if one is set; never raise for a bad case.

    SimpleITK runs single-threaded inside a case: some filters (N4) give results that depend on
    the number of threads, so this keeps results identical across backends and machines;
    parallelism comes from running cases side by side. The geometry tolerance in effect is set
    for the case and every global is restored after it (:func:`sitk_state`).
    """
    start = time.perf_counter()
    result: dict[str, Any] = {"key": case["key"], "patient_id": case["patient_id"]}
    try:
        with sitk_state(tolerance_of(json.loads(case_params(case, settings)))):
            result.update(_compute(case, settings), status="ok", reason="")
    except CaseError as e:
        result.update(status="failed", reason=str(e))
    except Exception as e:  # noqa: BLE001 - an unexpected error in one case must not stop the batch
        result.update(status="failed", reason=f"{type(e).__name__}: {e}")
    result["seconds"] = time.perf_counter() - start
    if result["status"] == "ok" and settings.get("checkpoint"):
        _checkpoint.save(settings["checkpoint"], case["key"], result)
    return result
