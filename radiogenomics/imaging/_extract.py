"""Radiomic feature extraction over a manifest with pyradiomics: parallel, checkpointed, failures recorded."""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import warnings
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import DataFormatError, InputTypeError, MissingFileError, ParameterError
from ..io._text import read_text
from . import _checkpoint
from ._backends import resolve_jobs, runner
from ._case import ITK_THREADS, make_extractor, tolerance_of
from ._manifest import feature_prefix, read_manifest, several_timepoints

if TYPE_CHECKING:
    from anndata import AnnData

logger = logging.getLogger(__name__)

PARAMS_DIR = Path(__file__).parent / "params"
PREPROCESS_KEYS = {"n4", "spacing", "interpolator", "normalize", "reference"}
VAR_COLUMNS = ["modality", "roi", "image_type", "feature_class", "feature"]
FAILURE_COLUMNS = ["patient_id", "image", "mask", "reason", "modality", "roi", "label"]
SCHEMA_KEYS = {"imageType", "featureClass", "setting", "voxelSetting"}
# modality names by imaging family, to catch one preset applied to CT and MR alike
FAMILIES = {
    "CT": r"(CE|NC|CB)?CT",
    "MR": r"MRI?|T1\w*|T2\w*|FLAIR|DWI|ADC|SWI|PD|DCE\w*",
    "PET": r"PET|PT|FDG\w*",
}


def _load_params(params: dict | str | os.PathLike | None) -> tuple[dict[str, Any], str]:
    import yaml

    if params is None:
        return {}, "pyradiomics defaults"
    if isinstance(params, dict):
        return json.loads(json.dumps(params)), "dict"
    path = Path(params)
    if not path.is_file() and str(params).upper() in {"CT", "MR"}:
        path = PARAMS_DIR / f"{str(params).upper()}.yaml"
    if not path.is_file():
        msg = f"params={params!r}: no such YAML file; pass a pyradiomics parameter file, a dict, 'CT' or 'MR'."
        raise MissingFileError(msg)
    loaded = yaml.safe_load(read_text(path, "pyradiomics parameter")) or {}
    return loaded, str(path)


def _families(modalities: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for modality in modalities:
        for family, pattern in FAMILIES.items():
            if re.fullmatch(pattern, modality, flags=re.IGNORECASE):
                found.setdefault(family, []).append(modality)
                break
    return found


def _resolve_params(params: Any, cases: pd.DataFrame) -> dict[str, Any]:
    """One parameter set for the batch, or one per modality (``params={"CT": "CT", "T1": "MR"}``).

    Returns ``raw`` (dict, or modality -> dict), ``source``, ``effective`` (same shapes),
    ``by_modality`` (modality -> params JSON, or None) and ``labels`` (modality -> default label).
    """
    modalities = list(dict.fromkeys(cases["modality"]))
    if isinstance(params, dict) and params and not set(params) & SCHEMA_KEYS:
        missing = [m for m in modalities if m not in params]
        if missing:
            msg = f"params has no entry for the manifest modalities {missing} (entries: {sorted(map(str, params))}); add one per modality."
            raise ParameterError(msg)
        loaded = {m: _load_params(params[m]) for m in modalities}
        effective = {m: _effective_params(raw) for m, (raw, _) in loaded.items()}
        return {
            "raw": {m: raw for m, (raw, _) in loaded.items()},
            "source": {m: source for m, (_, source) in loaded.items()},
            "effective": effective,
            "by_modality": {m: json.dumps(raw) for m, (raw, _) in loaded.items()},
            "labels": {m: int(e["setting"].get("label", 1)) for m, e in effective.items()},
            "tolerance": {m: tolerance_of(raw) for m, (raw, _) in loaded.items()},
        }
    raw, source = _load_params(params)
    effective = _effective_params(raw)
    families = _families(modalities)
    if len(families) > 1:
        shown = "; ".join(f"{f}: {', '.join(m)}" for f, m in families.items())
        msg = (
            f"extract: the manifest mixes imaging families ({shown}) and one parameter set ({source}) is applied "
            "to all of them; pass one preset per modality, e.g. params={'CT': 'CT', 'T1': 'MR'}."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    label = int(effective["setting"].get("label", 1))
    return {
        "raw": raw,
        "source": source,
        "effective": effective,
        "by_modality": None,
        "labels": dict.fromkeys(modalities, label),
        "tolerance": tolerance_of(raw),
    }


def _load_checkpoints(checkpoint: str | os.PathLike, keys: list[str]) -> tuple[list[dict | None], list[str]]:
    Path(checkpoint).mkdir(parents=True, exist_ok=True)
    results: list[dict | None] = []
    invalid = 0
    for key in keys:
        result, state = _checkpoint.load(checkpoint, key)
        results.append(result)
        invalid += state == "invalid"
    if invalid:
        msg = (
            f"extract: {invalid} checkpoint files in {checkpoint} do not match their checksum (edited or damaged); "
            "those cases are recomputed."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    return results, ["checkpoint" if r is not None else "computed" for r in results]


def _effective_params(params: dict[str, Any]) -> dict[str, Any]:
    """Validate ``params`` with pyradiomics' own schema; return the settings it will use."""
    try:
        extractor = make_extractor(params)
    except Exception as e:  # pykwalify's SchemaError and pyradiomics' ValueError
        msg = f"params are not valid pyradiomics parameters: {e}"
        raise ParameterError(msg) from e
    return {
        "setting": extractor.settings,
        "imageType": extractor.enabledImagetypes,
        "featureClass": extractor.enabledFeatures,
    }


def _check_preprocess(preprocess: dict[str, Any] | None) -> dict[str, Any] | None:
    if not preprocess:
        return None
    if not isinstance(preprocess, dict) or set(preprocess) - PREPROCESS_KEYS:
        unknown = sorted(set(preprocess) - PREPROCESS_KEYS) if isinstance(preprocess, dict) else preprocess
        msg = f"preprocess must be a dict of rg.imaging.preprocess options {sorted(PREPROCESS_KEYS)}; got {unknown}."
        raise ParameterError(msg)
    out = dict(preprocess)
    if out.get("reference") is not None:
        if not isinstance(out["reference"], str | os.PathLike):
            msg = "preprocess['reference'] must be a path (the image is re-read in every worker)."
            raise InputTypeError(msg)
        out["reference"] = str(Path(out["reference"]).resolve())
    if out.get("spacing") is not None and not np.isscalar(out["spacing"]):
        out["spacing"] = [float(s) for s in out["spacing"]]
    return out


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for dist in ("radiogenomics", "pyradiomics-bhklab", "pyradiomics", "SimpleITK", "numpy", "PyWavelets", "highdicom"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _feature_table(cases: pd.DataFrame, results: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Assemble X (patients x features), var and the patient order from the successful cases."""
    ok = [i for i, r in enumerate(results) if r["status"] == "ok"]
    patients = list(dict.fromkeys(cases.loc[ok, "patient_id"]))
    columns: dict[str, dict[str, str]] = {}
    values: dict[tuple[str, str], float] = {}
    timepoints = several_timepoints(cases)
    for i in ok:
        case = cases.loc[i]
        prefix = feature_prefix(case, timepoints=timepoints)
        for name, value in results[i]["features"].items():
            image_type, feature_class, feature = name.split("_", 2)
            full = prefix + name
            columns.setdefault(
                full,
                {
                    "modality": case["modality"],
                    "roi": case["roi"],
                    "image_type": image_type,
                    "feature_class": feature_class,
                    "feature": feature,
                }
                | ({"timepoint": case["timepoint"]} if "timepoint" in case else {}),
            )
            values[(case["patient_id"], full)] = value
    var = pd.DataFrame.from_dict(columns, orient="index") if columns else pd.DataFrame()
    X = pd.DataFrame(np.nan, index=patients, columns=list(columns))
    row = {p: k for k, p in enumerate(patients)}
    col = {c: k for k, c in enumerate(columns)}
    array = X.to_numpy(copy=True)
    for (patient, name), value in values.items():
        array[row[patient], col[name]] = value
    return pd.DataFrame(array, index=patients, columns=list(columns)), var, patients


def _obs_table(cases: pd.DataFrame, results: list[dict], patients: list[str]) -> pd.DataFrame:
    """Per-case diagnostics as ``{modality}_{roi}_<field>`` columns; one row per patient."""
    obs = pd.DataFrame(index=pd.Index(patients, name="patient_id"))
    columns: dict[str, pd.Series] = {}
    keep = set(patients)
    timepoints = several_timepoints(cases)
    prefixes = pd.Series(
        [feature_prefix(case, timepoints=timepoints) for _, case in cases.iterrows()], index=cases.index
    )
    for prefix, group in cases.groupby(prefixes, sort=False):
        rows: dict[str, dict[str, Any]] = {}
        for i, case in group.iterrows():
            if case["patient_id"] not in keep:
                continue
            result = results[i]
            row = {"status": result["status"], "image": case["image"], "mask": case["mask"], "label": case["label"]}
            row.update(result.get("diagnostics", {}))
            rows[case["patient_id"]] = row
        table = pd.DataFrame.from_dict(rows, orient="index").reindex(obs.index)
        for column in table.columns:
            series = table[column]
            if series.dtype == object:
                series = series.where(series.notna(), "").astype(str)
            columns[prefix + column] = series.replace("", "absent") if column == "status" else series
    # one concat, not one insert per column (pandas warns about fragmented frames beyond 100 inserts)
    return pd.concat([obs, pd.DataFrame(columns, index=obs.index)], axis=1)


def extract(
    manifest: pd.DataFrame | str | os.PathLike,
    *,
    params: dict | str | os.PathLike | None = None,
    preprocess: dict[str, Any] | None = None,
    n_jobs: int = 1,
    checkpoint: str | os.PathLike | None = None,
    client: Any = None,
    progress: bool = True,
    resample_mask: bool = False,
) -> AnnData:
    """Extract radiomic features for every case of a manifest with pyradiomics.

    Each manifest row is one case (an image, a mask and a label). Images and masks are read
    with SimpleITK (NIfTI, NRRD, MHA, or a folder holding one DICOM series); a mask may also be
    a DICOM-SEG file (read with highdicom; ``label`` is then the segment number, overlapping
    segments are fine, and the segment is placed on the image grid). pyradiomics computes the features
    (van Griethuysen et al. 2017, doi:10.1158/0008-5472.CAN-17-0339).

    A case that fails (unreadable file, empty mask, label absent, image/mask geometry mismatch,
    pyradiomics error) is recorded with its reason and the batch goes on; a :class:`UserWarning`
    gives the count. Only when every case fails is an error raised.

    Parameters
    ----------
    manifest
        DataFrame or CSV path with columns ``patient_id``, ``image``, ``mask`` and optional
        ``modality`` (CT, PET, T1, T1Gd, T2, FLAIR...; default ``"image"``), ``roi`` (tumour,
        oedema...; default ``"roi"``) and ``label`` (mask value; default the ``label`` setting of
        ``params``, else 1). Relative paths in a CSV are relative to the CSV. A patient may have
        several rows with different modality/roi; they become columns of one row.
    params
        pyradiomics parameters in pyradiomics' own schema (``imageType``, ``featureClass``,
        ``setting``): a YAML path, a dict, or ``"CT"`` / ``"MR"`` for the documented defaults
        shipped in ``radiogenomics/imaging/params``. ``None`` uses pyradiomics' defaults
        (Original image, all feature classes, binWidth 25, no resampling). For a manifest
        mixing modalities, a dict with one entry per manifest ``modality`` (each entry any of
        the above), e.g. ``{"CT": "CT", "T1Gd": "MR", "FLAIR": "MR"}``; one parameter set for a
        manifest mixing CT, MR and PET modalities gives a :class:`UserWarning`. The
        ``geometryTolerance`` setting (default ``1e-4``, ITK's rule: a fraction of the voxel
        spacing) decides when a mask is on the image's grid, for this package and pyradiomics
        alike; SimpleITK's global tolerances are restored after every case.
    preprocess
        Options of :func:`radiogenomics.imaging.preprocess` applied to every case before
        pyradiomics, e.g. ``{"spacing": (1, 1, 1), "normalize": "zscore"}`` (``reference`` as a path).
    n_jobs
        Number of worker processes (``-1``: all cores). Workers exit when the calling process
        dies (even by SIGKILL). When a worker dies, the pool is rebuilt and the unfinished cases
        are resubmitted (up to 3 attempts each), with a :class:`UserWarning`.
    checkpoint
        Folder where each finished case is saved as it finishes (temporary file, then
        ``os.replace``); a rerun with the same folder and settings skips the saved cases, so a
        killed batch loses no finished case. Each file holds a checksum of its content; a file
        that does not match (edited, damaged) is recomputed, with a :class:`UserWarning` giving
        the count. With Dask the folder must be shared by the workers.
    client
        A :class:`distributed.Client`; cases then run on its cluster (instead of ``n_jobs``).
    progress
        Show a tqdm progress bar.
    resample_mask
        Resample a mask whose grid differs from the image onto the image (nearest neighbour)
        instead of failing the case. A mask on the same grid within the tolerance takes the
        image's exact geometry in any case, so pyradiomics never refuses a grid the package accepts.

    Returns
    -------
    :class:`anndata.AnnData` with one row per patient having at least one successful case:

    ``X``
        Features named ``{modality}_{roi}_{imageType}_{class}_{feature}``,
        e.g. ``T1Gd_tumour_original_glcm_Contrast``; NaN where a patient's case failed.
    ``var``
        ``modality``, ``roi``, ``image_type``, ``feature_class``, ``feature``.
    ``obs``
        Per case, prefixed ``{modality}_{roi}_``: ``status`` (ok, failed, absent), ``image``,
        ``mask``, ``label``, ``image_hash``, ``mask_hash`` (SimpleITK SHA1 of the voxels as read),
        ``spacing_x/y/z``, ``size_x/y/z``, ``mask_voxels``, ``mask_volume_mm3``,
        ``mask_resampled``, ``preprocess`` (JSON record of what was done), ``n_warnings``,
        ``geometry_tolerance`` (the tolerance in effect for the case).
    ``uns["extraction"]``
        ``params`` (JSON of the settings pyradiomics used; per modality when given so),
        ``params_source``, ``geometry_tolerance`` (float, or modality -> float), ``preprocess``
        (JSON), ``versions``, ``backend``, ``n_jobs``, ``resample_mask``, ``itk_threads`` (1: each
        case runs single-threaded so results do not depend on the machine), ``checkpoint``,
        ``cases`` (one row per case: status, source ``computed``/``checkpoint``, seconds,
        ``attempts``: times submitted in this call, above 1 when a worker died, 0 from a checkpoint) and
        ``failures`` (``patient_id``, ``image``, ``mask``, ``reason``, ``modality``, ``roi``, ``label``).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np, pandas as pd, SimpleITK as sitk
    >>> import radiogenomics as rg
    >>> folder, rng, rows = tempfile.mkdtemp(), np.random.default_rng(0), []
    >>> mask = np.zeros((8, 16, 16), np.uint8)
    >>> mask[2:6, 4:12, 4:12] = 1
    >>> for pid in ["P1", "P2", "P3"]:
    ...     sitk.WriteImage(sitk.GetImageFromArray(rng.normal(100, 20, mask.shape)), f"{folder}/{pid}.nrrd")
    ...     sitk.WriteImage(sitk.GetImageFromArray(mask), f"{folder}/{pid}_mask.nrrd")
    ...     rows.append(dict(patient_id=pid, image=f"{folder}/{pid}.nrrd", mask=f"{folder}/{pid}_mask.nrrd"))
    >>> params = {"imageType": {"Original": {}}, "featureClass": {"firstorder": None}}
    >>> manifest = pd.DataFrame(rows).assign(modality="CT", roi="tumour")
    >>> adata = rg.imaging.extract(manifest, params=params, progress=False)
    >>> adata.shape
    (3, 18)
    >>> adata.var.loc["CT_tumour_original_firstorder_Mean", "feature_class"]
    'firstorder'
    """
    from tqdm import tqdm

    n_jobs = resolve_jobs(n_jobs)
    if client is not None and n_jobs != 1:
        msg = "pass either n_jobs (local processes) or client (a Dask cluster), not both."
        raise ParameterError(msg)
    prep = _check_preprocess(preprocess)
    cases = read_manifest(manifest, default_label=0)  # 0: not given, filled from the modality's params
    resolved = _resolve_params(params, cases)
    cases["label"] = [int(l) or resolved["labels"][m] for l, m in zip(cases["label"], cases["modality"], strict=True)]
    settings = {
        "params_json": json.dumps(resolved["raw"]),
        "preprocess": prep,
        "resample_mask": bool(resample_mask),
    }
    if resolved["by_modality"] is not None:
        settings["params_by_modality"] = resolved["by_modality"]
    # resample_mask is not part of a case's identity: a case it changes fails without it and is never saved
    settings_json = json.dumps({k: v for k, v in settings.items() if k != "resample_mask"}, sort_keys=True)
    settings["checkpoint"] = str(Path(checkpoint).resolve()) if checkpoint is not None else None
    cases["key"] = [_checkpoint.case_key(c, settings_json) for c in cases.to_dict("records")]
    results: list[dict | None] = [None] * len(cases)
    sources = ["computed"] * len(cases)
    if checkpoint is not None:
        results, sources = _load_checkpoints(checkpoint, list(cases["key"]))
    todo = [i for i, r in enumerate(results) if r is None]
    records = cases.to_dict("records")
    backend, run = runner([records[i] for i in todo], settings, n_jobs, client)
    with tqdm(total=len(cases), initial=len(cases) - len(todo), disable=not progress, desc="extract") as bar:
        computed: dict[int, dict] = {}
        for j, result in run():
            computed[todo[j]] = {"attempts": 1, **result}
            bar.update(1)
    retried = sum(r["attempts"] > 1 for r in computed.values())
    if retried:
        msg = f"extract: a worker process died; {retried} cases were resubmitted to a new process pool (see uns['extraction']['cases']['attempts'])."
        warnings.warn(msg, UserWarning, stacklevel=2)
    info = {"backend": backend, "n_jobs": n_jobs, "settings": settings, "resolved": resolved}
    every = [computed[i] if r is None else r for i, r in enumerate(results)]  # every case ran or was loaded
    return _assemble(cases, every, sources, **info)


def _assemble(cases: pd.DataFrame, results: list[dict], sources: list[str], **info: Any) -> AnnData:
    from anndata import AnnData

    cases = cases.assign(
        status=[r["status"] for r in results],
        source=sources,
        seconds=[float(r["seconds"]) for r in results],
        attempts=[int(r.get("attempts", 1)) if s == "computed" else 0 for r, s in zip(results, sources, strict=True)],
    )
    failed = cases["status"] != "ok"
    failures = cases.loc[failed].assign(reason=[r["reason"] for r in results if r["status"] != "ok"])
    failures = failures[FAILURE_COLUMNS].reset_index(drop=True)
    if not (~failed).any():
        shown = "; ".join(f"{r.patient_id}: {r.reason}" for r in failures.head(5).itertuples())
        msg = f"every case failed ({len(cases)}): {shown}"
        raise DataFormatError(msg)
    X, var, patients = _feature_table(cases, results)
    obs = _obs_table(cases, results, patients)
    resolved = info["resolved"]
    source = resolved["source"]
    uns = {
        "params": json.dumps(resolved["effective"], sort_keys=True),
        "params_source": source if isinstance(source, str) else json.dumps(source, sort_keys=True),
        "geometry_tolerance": resolved["tolerance"],
        "preprocess": json.dumps(info["settings"]["preprocess"], sort_keys=True),
        "versions": _versions(),
        "backend": info["backend"],
        "n_jobs": info["n_jobs"],
        "resample_mask": info["settings"]["resample_mask"],
        "itk_threads": ITK_THREADS,
        "checkpoint": info["settings"]["checkpoint"] or "",
        "cases": cases.drop(columns="key").reset_index(drop=True),
        "failures": failures.astype({"label": int}),
    }
    if failed.any():
        lost = sorted(set(failures["patient_id"]) - set(patients))
        msg = f"extract: {int(failed.sum())} of {len(cases)} cases failed; see adata.uns['extraction']['failures']" + (
            f"; patients without any feature: {lost[:10]}" if lost else ""
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    adata = AnnData(X=X.to_numpy(dtype=np.float64), obs=obs, var=var)
    adata.obs_names = pd.Index(patients).astype(str)
    adata.uns["extraction"] = uns
    logger.info("extract: %d patients, %d features, %d failed cases", adata.n_obs, adata.n_vars, int(failed.sum()))
    return adata
