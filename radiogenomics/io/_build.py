"""Pair modalities and clinical data per patient in one MuData."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import anndata as ad
import numpy as np
import pandas as pd

from .._compat import expected_duplicate_names, md
from ..errors import DataFormatError, InputTypeError, PairingError, ParameterError
from ._checks import check_survival_times, convert_numeric_text
from ._diagnose import explain_disjoint
from ._ids import normalize_ids

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from mudata import MuData

__all__ = ["build_mudata"]

_PAIRING_COLUMNS = ["input_id", "modality", "patient_id", "status", "reason"]


def _as_anndata(name: str, data: ad.AnnData | pd.DataFrame) -> ad.AnnData:
    if isinstance(data, ad.AnnData):
        return data
    if isinstance(data, pd.DataFrame):
        bad = [
            c
            for c in data.columns
            if not pd.api.types.is_numeric_dtype(data[c]) and not pd.api.types.is_bool_dtype(data[c])
        ]
        if bad:
            msg = (
                f"Modality {name!r}: columns {bad[:5]} are not numeric. A modality matrix holds features only; "
                "move annotations to the clinical table or convert them with pd.to_numeric(errors='coerce')."
            )
            raise DataFormatError(msg)
        var = pd.DataFrame(index=data.columns.astype(str))
        obs = pd.DataFrame(index=pd.Index([str(i) for i in data.index]))
        return ad.AnnData(X=data.to_numpy(dtype=np.float64), obs=obs, var=var)
    msg = f"Modality {name!r} is a {type(data).__name__}; pass an AnnData or a pandas DataFrame (patients as rows)."
    raise InputTypeError(msg)


def _pick_one_per_patient(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """Mark every row kept or dropped; one row per patient is kept."""
    table = table.assign(modality=source, status="kept", reason="", position=np.arange(len(table)))
    missing = table["patient_id"].isna()
    table.loc[missing, ["status", "reason"]] = ["dropped", "missing or empty ID"]
    # ties of sample priority go to the smallest input ID text, so the choice does not depend on row order
    present = table[~missing].sort_values(["patient_id", "priority", "input_id", "position"], kind="stable")
    kept_id = present.groupby("patient_id", sort=False)["input_id"].transform("first")
    for idx in present.index[present.duplicated("patient_id", keep="first")]:
        kept = kept_id[idx]
        same = table.at[idx, "input_id"].strip().upper() == kept.strip().upper()
        why = "duplicate ID" if same else "other sample of patient"
        table.loc[idx, ["status", "reason"]] = [
            "dropped",
            f"{why}; kept {kept!r} (primary tumour, lowest vial/portion first)",
        ]
    return table


def _cohort_patients(tables: Mapping[str, pd.DataFrame], mods: list[str], how: str) -> list[str]:
    kept = {m: list(dict.fromkeys(tables[m].loc[tables[m]["status"] == "kept", "patient_id"])) for m in mods}
    if how == "outer":
        return list(dict.fromkeys(p for m in mods for p in kept[m]))
    if how == "inner":
        common = set.intersection(*(set(v) for v in kept.values()))
        return [p for p in kept[mods[0]] if p in common]
    return kept[how]


def _check_overlap(tables, adatas, id_rule) -> None:
    if len(tables) < 2:
        return
    for source, table in tables.items():
        mine = set(table.loc[table["status"] == "kept", "patient_id"])
        others = {p for name, t in tables.items() if name != source for p in t["patient_id"].dropna()}
        if mine and not mine & others:
            raise PairingError(explain_disjoint(source, tables, adatas, id_rule))


def _sanitize_clinical(clinical: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    renamed = {c: str(c).replace("/", "_") for c in clinical.columns if "/" in str(c) or not isinstance(c, str)}
    clinical = clinical.rename(columns=renamed)
    for col in clinical.columns:
        s = clinical[col]
        if s.dtype == object and not s.dropna().map(lambda v: isinstance(v, str)).all():
            clinical[col] = s.map(lambda v: v if pd.isna(v) else str(v)).astype("string")
    return clinical, {str(k): v for k, v in renamed.items()}


def _clinical_rows(clinical: pd.DataFrame, table: pd.DataFrame) -> tuple[pd.DataFrame, dict, dict]:
    """Kept clinical rows indexed by patient, numbers-as-text converted, names sanitised, months checked."""
    keep = table["status"].eq("kept").to_numpy()
    clin = clinical.iloc[keep].copy()
    clin.index = table.loc[keep, "patient_id"].to_numpy()
    clin, converted = convert_numeric_text(clin, where="build_mudata clinical table", stacklevel=4)
    clin, renamed = _sanitize_clinical(clin)
    for col in clin.columns:
        if str(col).endswith("_months"):
            check_survival_times(clin[col], column=str(col), where="build_mudata clinical table", stacklevel=4)
    return clin, renamed, converted


def _mark_outside(table: pd.DataFrame, cohort: set[str], how: str, source: str) -> None:
    if how == "inner":
        what = "patient lacks at least one modality (how='inner')"
    elif how == "outer":
        what = "patient has no data in any modality (clinical rows do not add patients)"
    else:
        what = f"patient has no {how!r} data (how={how!r})"
    outside = (table["status"] == "kept") & ~table["patient_id"].isin(cohort)
    table.loc[outside, ["status", "reason"]] = ["dropped", f"not in cohort: {what}"]


def build_mudata(
    modalities: Mapping[str, ad.AnnData | pd.DataFrame],
    clinical: pd.DataFrame | None = None,
    *,
    id_rule: Literal["tcga_patient"] | Callable[[str], str] | None = "tcga_patient",
    how: str = "outer",
) -> MuData:
    """Pair modalities and clinical data per patient in one MuData.

    Identifiers are normalised per input (``id_rule``); when a patient has several samples in
    one modality one is kept deterministically (primary tumour ``01`` before recurrent ``02``
    before other sample types, then the lowest vial, portion and plate). Every input ID of every
    modality and of the clinical table is accounted for in ``mdata.uns["pairing"]``; dropped IDs
    also raise one :class:`UserWarning` with their count.

    Parameters
    ----------
    modalities
        Modality name to AnnData or DataFrame, patients (or samples) as rows. Standard names are
        ``"radiomics"``, ``"rna"`` and ``"mut"``.
    clinical
        Patient-level table indexed by patient (or sample) ID; its columns go to ``mdata.obs``.
        Survival endpoints are ``<endpoint>_months`` (float) and ``<endpoint>_event`` (bool).
        Clinical rows do not add patients: the cohort is defined by the modalities.
    id_rule
        ``"tcga_patient"`` (sample, portion and aliquot barcodes to the 12-character patient
        barcode; case, whitespace and ``_``/``.`` separators normalised), ``None`` (IDs kept as
        given, surrounding whitespace removed) or a callable mapping a stripped ID to a patient ID.
    how
        ``"outer"`` keeps every patient of any modality (``obs["has_<mod>"]`` marks what is
        present), ``"inner"`` keeps patients present in all modalities, and a modality name
        keeps the patients of that modality.

    Returns
    -------
    The cohort, with:

    ``mdata.mod[name]`` : :class:`anndata.AnnData`
        One row per patient, ``obs_names`` are patient IDs and ``obs["sample_id"]`` the input ID.
    ``mdata.obs``
        Clinical columns (``/`` in names replaced by ``_``; text columns whose every value is
        a number converted to float, with a warning) and ``has_<mod>`` flags. A ``*_months``
        column reaching more than 30 years warns (days labelled as months?).
    ``mdata.uns["pairing"]`` : :class:`pandas.DataFrame`
        ``input_id, modality, patient_id, status, reason``: one row per input ID.
    ``mdata.uns["radiogenomics"]``
        Package version and the parameters of this call (``renamed_columns``,
        ``converted_numeric``: column -> number of values converted).

    Raises
    ------
    PairingError
        When an input shares no patient with any other input; the message shows example IDs
        of each side and the likely cause (transposed matrix, ID scheme, sample barcodes).
    DataFormatError
        When ``modalities`` is empty.

    Examples
    --------
    >>> import pandas as pd
    >>> import radiogenomics as rg
    >>> radiomics = pd.DataFrame({"volume": [1.0, 2.0]}, index=["TCGA-02-0001-01A", "TCGA-02-0003-01A"])
    >>> rna = pd.DataFrame({"EGFR": [5.0, 6.0]}, index=["TCGA-02-0001-01A-01R-0177-01", "TCGA-02-0003-01A-01R-0177-01"])
    >>> mdata = rg.io.build_mudata({"radiomics": radiomics, "rna": rna})
    >>> mdata.obs_names.tolist()
    ['TCGA-02-0001', 'TCGA-02-0003']
    >>> mdata.uns["pairing"]["status"].tolist()
    ['kept', 'kept', 'kept', 'kept']
    """
    from .. import __version__

    if not modalities:
        msg = "build_mudata needs at least one modality, e.g. {'radiomics': adata}."
        raise DataFormatError(msg)
    mods = [str(m) for m in modalities]
    if how not in ("outer", "inner", *mods):
        msg = f"how={how!r} is not valid; use 'outer', 'inner' or one of the modality names {mods}."
        raise ParameterError(msg)
    adatas = {str(name): _as_anndata(str(name), data) for name, data in modalities.items()}
    tables = {name: _pick_one_per_patient(normalize_ids(a.obs_names, id_rule), name) for name, a in adatas.items()}
    if clinical is not None:
        if not isinstance(clinical, pd.DataFrame):
            msg = f"clinical must be a pandas DataFrame indexed by patient ID, got {type(clinical).__name__}."
            raise InputTypeError(msg)
        tables["clinical"] = _pick_one_per_patient(normalize_ids(clinical.index, id_rule), "clinical")
    _check_overlap(tables, adatas, id_rule)

    patients = _cohort_patients(tables, mods, how)
    if not patients:
        sizes = {m: int((tables[m]["status"] == "kept").sum()) for m in mods}
        msg = f"No patient is present in every modality (how='inner'); patients per modality: {sizes}. Use how='outer'."
        raise PairingError(msg)
    cohort = set(patients)
    for name, table in tables.items():
        _mark_outside(table, cohort, how, name)

    built = {}
    for name, adata in adatas.items():
        keep = tables[name]["status"].eq("kept").to_numpy()
        sub = adata[keep].copy()
        sub.obs["sample_id"] = adata.obs_names[keep].to_numpy()
        sub.obs_names = tables[name].loc[keep, "patient_id"].to_numpy()
        built[name] = sub
    with expected_duplicate_names():
        mdata = md.MuData(built)
    for name in mods:
        mdata.obs[f"has_{name}"] = mdata.obs_names.isin(built[name].obs_names)

    renamed: dict[str, str] = {}
    converted: dict[str, int] = {}
    if clinical is not None:
        clin, renamed, converted = _clinical_rows(clinical, tables["clinical"])
        clin = clin.reindex(mdata.obs_names)
        for col in clin.columns:
            mdata.obs[col] = clin[col]

    pairing = pd.concat(tables.values(), ignore_index=True)[_PAIRING_COLUMNS]
    pairing["patient_id"] = pairing["patient_id"].fillna("")
    mdata.uns["pairing"] = pairing
    mdata.uns["radiogenomics"] = {
        "version": __version__,
        "build_mudata": {
            "id_rule": id_rule if isinstance(id_rule, str | None) else repr(id_rule),
            "how": how,
            "renamed_columns": renamed,
            "converted_numeric": converted,
        },
    }
    _warn_drops(pairing)
    return mdata


def _warn_drops(pairing: pd.DataFrame) -> None:
    dropped = pairing[pairing["status"] == "dropped"]
    if dropped.empty:
        return
    by = dropped.groupby(["modality", dropped["reason"].str.split(";").str[0]]).size()
    detail = "; ".join(f"{mod}: {n} {reason}" for (mod, reason), n in by.items())
    msg = f"build_mudata dropped {len(dropped)} input IDs ({detail}). Every ID is listed in mdata.uns['pairing']."
    warnings.warn(msg, UserWarning, stacklevel=3)
