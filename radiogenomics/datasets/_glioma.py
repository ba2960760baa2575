"""TCGA glioma radiogenomic cohort (Bakas 2017 features, Ceccarelli 2016 labels)."""

from __future__ import annotations

import re
import warnings
from importlib.resources import files
from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pandas as pd

from ..errors import DataFormatError
from ..io import build_mudata

if TYPE_CHECKING:
    from mudata import MuData

__all__ = ["tcga_glioma"]

_DATA = files("radiogenomics.datasets") / "data"

_CLINICAL = {
    "Study": "study",
    "Histology": "histology",
    "Grade": "grade",
    "Age (years at diagnosis)": "age",
    "Gender": "sex",
    "Survival (months)": "os_months",
    "Vital status (1=dead)": "os_event",
    "Karnofsky Performance Score": "kps",
    "IDH status": "idh_status",
    "1p/19q codeletion": "codel_1p19q",
    "IDH/codel subtype": "idh_codel_subtype",
    "MGMT promoter status": "mgmt_status",
    "TERT promoter status": "tert_promoter_status",
    "ATRX status": "atrx_status",
    "Chr 7 gain/Chr 10 loss": "chr7_gain_chr10_loss",
    "Original Subtype": "original_subtype",
    "Transcriptome Subtype": "transcriptome_subtype",
    "Tissue source site": "tissue_source_site",
}

SOURCES = {
    "radiomics": (
        "Bakas S, et al. Advancing The Cancer Genome Atlas glioma MRI collections with expert segmentation labels "
        "and radiomic features. Sci Data 4:170117 (2017), doi:10.1038/sdata.2017.117. TCIA analysis results "
        "doi:10.7937/K9/TCIA.2017.KLXWJJ1Q (TCGA-GBM) and doi:10.7937/K9/TCIA.2017.GJQ7R0EF (TCGA-LGG), CC BY 3.0."
    ),
    "clinical": (
        "Ceccarelli M, et al. Molecular Profiling Reveals Biologically Discrete Subsets and Pathways of Progression "
        "in Diffuse Glioma. Cell 164(3):550-563 (2016), doi:10.1016/j.cell.2015.12.028. Table S1A (TCGA open access)."
    ),
    "mut": (
        "Tasci E, et al. Glioma Grading Clinical and Mutation Features. UCI Machine Learning Repository (2022), "
        "doi:10.24432/C5R62J, CC BY 4.0."
    ),
    "rna": (
        "Verhaak RGW, et al. Integrated genomic analysis identifies clinically relevant subtypes of glioblastoma. "
        "Cancer Cell 17(1):98-110 (2010): unified expression of the 840 ClaNC genes, 173 TCGA-GBM samples."
    ),
}


def _read(name: str, **kwargs) -> pd.DataFrame:
    with (_DATA / name).open("rb") as handle:
        return pd.read_csv(handle, compression="gzip", **kwargs)


def _feature_annotation(names: pd.Index) -> pd.DataFrame:
    def token(name: str, options: tuple[str, ...]) -> str:
        parts = name.split("_")
        return next((p for p in parts if p in options), "other")

    family = names.str.split("_").str[0]
    cls = [n.split("_")[1] if f == "TEXTURE" else f for n, f in zip(names, family, strict=True)]
    return pd.DataFrame(
        {
            "family": family,
            "feature_class": cls,
            "region": [token(n, ("ET", "NET", "ED", "TC", "WT")) for n in names],
            "sequence": [token(n, ("T1", "T1Gd", "T2", "FLAIR")) for n in names],
        },
        index=names,
    )


def _radiomics() -> tuple[ad.AnnData, pd.DataFrame]:
    frames = []
    for project, name in (
        ("TCGA-GBM", "bakas2017_tcga_gbm_radiomics.csv.gz"),
        ("TCGA-LGG", "bakas2017_tcga_lgg_radiomics.csv.gz"),
    ):
        frames.append(_read(name, dtype=str).set_index("ID").assign(project=project))
    raw = pd.concat(frames)
    meta = raw[["project", "Date"]].rename(columns={"Date": "scan_date"})
    text = raw.drop(columns=["project", "Date"])
    values = text.apply(pd.to_numeric, errors="coerce")
    # 'Inf' (e.g. distance to the ventricles of an absent oedema) is undefined, not a number
    values = values.mask(np.isinf(values))
    bad = values.isna() & text.notna()
    coerced = pd.DataFrame(
        [(raw.index[i], text.columns[j], text.iat[i, j]) for i, j in zip(*np.nonzero(bad.to_numpy()), strict=True)],
        columns=["patient_id", "feature", "value"],
    )
    var = _feature_annotation(values.columns)
    var["n_missing"] = values.isna().sum().to_numpy()
    adata = ad.AnnData(X=values.to_numpy(dtype=np.float64), obs=meta, var=var)
    adata.obs["n_missing"] = values.isna().sum(axis=1).to_numpy()
    adata.uns["coerced_cells"] = coerced
    adata.uns["missing_by_region"] = (
        var.groupby("region")["n_missing"]
        .agg(["size", "sum"])
        .rename(columns={"size": "n_features", "sum": "n_missing_cells"})
    )
    return adata, coerced


def _clinical() -> pd.DataFrame:
    table = _read("ceccarelli2016_table_s1a.csv.gz").set_index("Case")
    keep = table[list(_CLINICAL)].rename(columns=_CLINICAL)
    rest = table.drop(columns=list(_CLINICAL))
    rest.columns = [re.sub(r"[^a-z0-9]+", "_", c.lower()).strip("_") for c in rest.columns]
    clinical = pd.concat([keep, rest], axis=1)
    clinical["os_event"] = clinical["os_event"].map({1.0: True, 0.0: False}).astype("boolean")
    clinical["idh_mutant"] = clinical["idh_status"].map({"Mutant": True, "WT": False}).astype("boolean")
    clinical["codel_1p19q"] = clinical["codel_1p19q"].map({"codel": True, "non-codel": False}).astype("boolean")
    clinical["mgmt_methylated"] = (
        clinical["mgmt_status"].map({"Methylated": True, "Unmethylated": False}).astype("boolean")
    )
    clinical["grade"] = pd.Categorical(clinical["grade"], categories=["G2", "G3", "G4"], ordered=True)
    for col in ("study", "histology", "idh_status", "idh_codel_subtype", "mgmt_status", "sex"):
        clinical[col] = clinical[col].astype("category")
    return clinical


def _mutations() -> ad.AnnData:
    table = _read("tasci2022_uci_glioma_mutations.csv.gz", encoding="utf-8-sig").set_index("Case_ID")
    genes = list(table.columns[table.columns.get_loc("IDH1") :])
    unknown = ~table[genes].isin(["MUTATED", "NOT_MUTATED"])
    if unknown.any().any():
        msg = f"Unexpected mutation codes {sorted(set(table[genes].to_numpy()[unknown.to_numpy()]))}; expected MUTATED/NOT_MUTATED."
        raise DataFormatError(msg)
    flags = table[genes].eq("MUTATED").astype(np.float64)
    obs = table[["Project", "Grade"]].rename(columns={"Project": "project", "Grade": "grade"})
    return ad.AnnData(X=flags.to_numpy(), obs=obs, var=pd.DataFrame(index=genes))


def _expression() -> ad.AnnData:
    table = _read("verhaak2010_unified_core_clanc840.tsv.gz", sep="\t", index_col=0)
    subtype = table.loc["Subtype"].iloc[1:]
    genes = table.drop(index="Subtype")
    marks = genes.iloc[:, 0]
    values = genes.iloc[:, 1:].astype(np.float64).T
    obs = pd.DataFrame({"verhaak_subtype": pd.Categorical(subtype.to_numpy())}, index=values.index)
    var = pd.DataFrame({"subtype_marker": marks.to_numpy()}, index=values.columns)
    return ad.AnnData(X=values.to_numpy(), obs=obs, var=var)


def tcga_glioma(*, expression: bool = True, mutations: bool = True) -> MuData:
    """Load the TCGA glioma radiogenomic cohort shipped with the package (167 patients, offline).

    Radiomic features are the Bakas et al. 2017 TCIA analysis results (CaPTk, 724 features over
    the enhancing tumour ET, non-enhancing/necrotic core NET, oedema ED, tumour core TC and
    whole tumour WT on T1, T1Gd, T2 and FLAIR) for 102 TCGA-GBM and 65 TCGA-LGG patients.
    Clinical and molecular labels come from Ceccarelli et al. 2016 (IDH status, 1p/19q
    codeletion, MGMT promoter methylation, grade, histology, age, KPS, overall survival), the
    ``mut`` modality holds the UCI binary mutation flags of 20 genes and ``rna`` the Verhaak 2010
    unified expression of the 840 subtype-classifier genes (52 GBM patients).

    Cells that are not finite numbers (two ``#DIV/0!`` entries and one ``Inf`` in the LGG table) become missing values and
    are listed in ``mod["radiomics"].uns["coerced_cells"]``; features missing because a
    sub-region is absent (mostly no enhancing tumour in LGG) stay missing and are counted in
    ``var["n_missing"]``, ``obs["n_missing"]`` and ``uns["missing_by_region"]``. The cohort is
    anchored on the radiomics patients; every other input ID is listed in ``uns["pairing"]``
    with the reason it was not kept, and a :class:`UserWarning` reports their count.

    Parameters
    ----------
    expression
        Include the Verhaak 2010 expression modality ``rna``.
    mutations
        Include the UCI mutation modality ``mut``.

    Returns
    -------
    :class:`mudata.MuData` with 167 patients; ``obs`` has ``idh_mutant``, ``codel_1p19q``,
    ``mgmt_methylated`` (nullable booleans), ``idh_status``, ``mgmt_status``, ``grade``,
    ``age``, ``kps``, ``os_months``, ``os_event`` and the other Ceccarelli columns;
    ``uns["source"]`` holds citations and licences.

    Examples
    --------
    >>> import warnings
    >>> import radiogenomics as rg
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     mdata = rg.datasets.tcga_glioma()
    >>> "dropped 1825 input IDs" in str(caught[0].message)  # clinical, mutation and expression rows of other patients
    True
    >>> mdata.n_obs, mdata["radiomics"].n_vars
    (167, 724)
    >>> int(mdata.obs["idh_mutant"].notna().sum()), int(mdata.obs["os_event"].sum())
    (148, 90)
    """
    radiomics, coerced = _radiomics()
    modalities = {"radiomics": radiomics}
    if mutations:
        modalities["mut"] = _mutations()
    if expression:
        modalities["rna"] = _expression()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mdata = build_mudata(modalities, _clinical(), how="radiomics")
    for w in caught:
        if str(w.message).startswith("build_mudata"):
            warnings.warn(f"tcga_glioma: {w.message}", w.category, stacklevel=2)
    mdata.uns["source"] = {key: text for key, text in SOURCES.items() if key in modalities or key == "clinical"}
    mdata.uns["source"]["notes"] = (
        f"{len(coerced)} non-numeric radiomic cells set to missing (see mod['radiomics'].uns['coerced_cells']). "
        "Features of absent sub-regions are missing, not zero."
    )
    return mdata
