"""Build a cohort from the inputs of a study file: bundled datasets, feature tables, omics, clinical."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pandas as pd

from ..errors import DataFormatError, MissingColumnError, ParameterError
from ._tablefile import read_text_table, reading

if TYPE_CHECKING:
    from pathlib import Path

    from mudata import MuData

    from ._schema import ClinicalInput, CohortInputs, FileInput, Study

__all__ = ["build_cohort", "read_clinical", "read_manifest"]

_MONTHS_PER = {"days": 1 / 30.4375, "weeks": 7 / 30.4375, "months": 1.0, "years": 12.0}


def _sep(path: Path, sep: str | None) -> str:
    if sep is not None:
        return sep
    return (
        "\t" if path.suffix.lower() in (".tsv", ".txt", ".tab") or path.name.endswith((".tsv.gz", ".txt.gz")) else ","
    )


def _reader_args(study: Study, key: tuple, path: Path, sep: str | None) -> dict[str, str]:
    """Where a file is named in the study file, its separator and the key that sets it."""
    return {"where": study.key_line(key), "sep": _sep(path, sep), "sep_key": ".".join(map(str, key[:-1])) + ".sep"}


def read_manifest(study: Study) -> pd.DataFrame:
    """The image manifest of the study cohort, image and mask paths made absolute."""
    if study.inputs.images is None:
        msg = "the study file has no inputs.images; add inputs.images.manifest (the image manifest) for steps.extract"
        raise ParameterError(msg)
    path = study.resolve(study.inputs.images.manifest)
    table = read_text_table(path, **_reader_args(study, ("inputs", "images", "manifest"), path, None))
    for col in ("image", "mask"):
        if col in table:
            table[col] = [str((path.parent / p).resolve()) for p in table[col].astype(str)]
    return table


def _read_table(path: Path, spec: FileInput, args: dict[str, str]) -> pd.DataFrame:
    frame = read_text_table(path, **args)
    if spec.transpose:
        frame = frame.set_index(frame.columns[0]).T
    elif spec.id_column is not None:
        if spec.id_column not in frame.columns:
            msg = f"{path.name}: id_column '{spec.id_column}' not found; columns are {', '.join(map(str, frame.columns[:10]))}"
            raise MissingColumnError(msg)
        frame = frame.set_index(spec.id_column)
    else:
        frame = frame.set_index(frame.columns[0])
    frame.index = frame.index.astype(str)
    text = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if text:
        msg = (
            f"{path.name}: {len(text)} non-numeric columns ({', '.join(map(str, text[:5]))}); a feature table holds "
            "numbers only: set 'id_column', 'transpose: true' for features as rows, or remove text columns"
        )
        raise DataFormatError(msg)
    return frame.astype(np.float64)


def _read_matrix(study: Study, spec: FileInput, key: tuple) -> ad.AnnData | pd.DataFrame:
    path = study.resolve(spec.path)
    args = _reader_args(study, key, path, spec.sep)
    if spec.format == "table":
        frame = _read_table(path, spec, args)
        values = frame.to_numpy()
        adata = ad.AnnData(X=values, obs=pd.DataFrame(index=frame.index), var=pd.DataFrame(index=frame.columns))
        if spec.layer is not None:
            adata.layers[spec.layer] = values.copy()
        return adata
    with reading(path, **args):
        return _read_with_loader(study, spec, path)


def _read_with_loader(study: Study, spec: FileInput, path: Path) -> ad.AnnData | pd.DataFrame:
    import data_loaders as dl

    if spec.format == "pyradiomics":
        return dl.read_pyradiomics_csv(path, id_column=spec.id_column or "patient_id")
    if spec.format == "xena":
        return dl.read_xena_matrix(path, units=spec.units or "other")
    if spec.format == "gdc_star":
        if spec.sample_sheet is None:
            msg = f"{spec.path}: format 'gdc_star' needs 'sample_sheet' (the GDC sample sheet TSV)"
            raise DataFormatError(msg)
        return dl.read_gdc_star_counts(path, sample_sheet=study.resolve(spec.sample_sheet))
    if spec.format == "cbioportal_expression":
        return dl.read_cbioportal_expression(path)
    if spec.format == "maf":
        return dl.mutation_matrix(path, genes=spec.genes)
    return ad.read_h5ad(path)


def _event(values: pd.Series, coding: list, path: Path, column: str) -> pd.Series:
    events = {str(v).strip().lower() for v in coding}
    text = values.astype("string").str.strip().str.lower()
    out = pd.Series(text.isin(events).to_numpy(), index=values.index, dtype="boolean")
    out[values.isna().to_numpy()] = pd.NA
    if out.dropna().nunique() < 2 and out.notna().sum() > 0:
        seen = ", ".join(sorted(text.dropna().unique())[:6])
        msg = (
            f"{path.name}: event column '{column}' gives only one class with event_values {sorted(events)} "
            f"(values seen: {seen}); set clinical.columns.event_values to the values meaning the event happened"
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    return out


def read_clinical(study: Study, spec: ClinicalInput, key: tuple = ("inputs", "clinical", "path")) -> pd.DataFrame:
    """Read a clinical table and map its columns: patient ID, ``<endpoint>_months``/``_event``, covariates."""
    import data_loaders as dl

    path = study.resolve(spec.path)
    args = _reader_args(study, key, path, spec.sep)
    if spec.format == "cbioportal":
        with reading(path, **args):
            frame = dl.read_cbioportal_clinical(path).reset_index()
    else:
        frame = read_text_table(path, **args)
    cols = spec.columns
    wanted = {"id": cols.id, "time": cols.time, "event": cols.event, **cols.covariates}
    missing = [(k, v) for k, v in wanted.items() if v is not None and v not in frame.columns]
    if missing:
        from ._load import closest

        names = list(map(str, frame.columns))
        hints = [(k, v, closest(str(v), names)) for k, v in missing]
        text = "; ".join(f"{k}: {v}" + (f" (did you mean '{c}'?)" if c else "") for k, v, c in hints)
        msg = f"{path.name}: inputs.clinical.columns name columns that are not in the table ({text}); columns are {', '.join(names)}"
        raise MissingColumnError(msg)
    out = frame.set_index(cols.id)
    out.index = out.index.astype(str)
    out.index.name = None
    if cols.time is not None:
        time = pd.to_numeric(out.pop(cols.time), errors="coerce")
        out[f"{cols.endpoint}_months"] = time * _MONTHS_PER[cols.time_unit]
    if cols.event is not None:
        out[f"{cols.endpoint}_event"] = _event(out.pop(cols.event), cols.event_values, path, cols.event)
    return out.rename(columns={v: k for k, v in cols.covariates.items()})


def _bundled(cohort: CohortInputs) -> MuData:
    from .. import datasets

    with warnings.catch_warnings():
        # the pairing report of the bundled data (kept in uns['pairing'] and shown in the report)
        warnings.filterwarnings("ignore", message=".*build_mudata dropped.*", category=UserWarning)
        if cohort.dataset == "tcga_glioma":
            return datasets.tcga_glioma(**cohort.dataset_options)
        return datasets.synthetic_cohort(**cohort.dataset_options)


def build_cohort(study: Study, cohort: CohortInputs, *, how: str, radiomics: ad.AnnData | None = None) -> MuData:
    """Build the MuData of one cohort from its inputs (``radiomics`` from the extract step if given)."""
    from ..io import build_mudata

    if cohort.dataset is not None:
        return _bundled(cohort)
    prefix = ("inputs", "validation") if cohort is study.inputs.validation else ("inputs",)
    mods: dict[str, ad.AnnData | pd.DataFrame] = {}
    if radiomics is not None:
        mods["radiomics"] = radiomics
    elif cohort.radiomics is not None:
        mods["radiomics"] = _read_matrix(study, cohort.radiomics, (*prefix, "radiomics", "path"))
    for name, spec in cohort.omics.items():
        mods[name] = _read_matrix(study, spec, (*prefix, "omics", name, "path"))
    clinical = None
    if cohort.clinical is not None:
        clinical = read_clinical(study, cohort.clinical, (*prefix, "clinical", "path"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        mdata = build_mudata(mods, clinical, id_rule=cohort.id_rule, how=how)
    for w in caught:  # re-emit with the study's context; the per-ID table is in uns['pairing']
        warnings.warn(str(w.message), w.category, stacklevel=2)
    return mdata
