"""Per-patient pathway scores (ssGSEA, GSVA, combined z-score) as a new ``pathways`` modality."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import anndata as ad
import numpy as np
import pandas as pd

from .._compat import copy_mudata, update_mudata
from .._utils import get_modality, require_mudata
from ..errors import ParameterError
from ._genesets import check_overlap, gene_labels, overlap_table, quiet_gseapy, restrict
from ._genesets import gene_sets as load_gene_sets
from ._rankings import expression

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from os import PathLike

    from mudata import MuData

__all__ = ["pathway_scores", "zscore_scores"]


def zscore_scores(data: pd.DataFrame, sets: Mapping[str, Sequence[str]], *, chunk_size: int = 512) -> pd.DataFrame:
    """Combined z-score per sample and set (Lee et al. 2008, doi:10.1371/journal.pcbi.1000217).

    ``data`` is samples x genes; each gene is standardised across samples (sample SD) and a set's
    score is ``sum(z) / sqrt(k)`` over its ``k`` genes (as R GSVA ``method="zscore"``). Only the
    genes of the sets are read, ``chunk_size`` genes at a time, so memory stays at one chunk of
    float64 z-scores above the data.
    """
    columns = {g: i for i, g in enumerate(data.columns)}
    member = np.zeros((len(columns), len(sets)))
    for j, genes in enumerate(sets.values()):
        idx = [columns[g] for g in genes if g in columns]
        member[idx, j] = 1.0 / np.sqrt(len(idx))
    used = np.flatnonzero(member.any(axis=1))
    scores = np.zeros((len(data), len(sets)))
    for start in range(0, len(used), chunk_size):
        cols = used[start : start + chunk_size]
        # a private copy: scaled in place below (pandas 3 returns read-only arrays)
        values = data.iloc[:, cols].to_numpy(dtype=float, copy=True)
        sd = values.std(axis=0, ddof=1)
        values -= values.mean(axis=0)
        values /= np.where(sd > 0, sd, np.nan)
        scores += np.nan_to_num(values, copy=False) @ member[cols]
    return pd.DataFrame(scores, index=data.index, columns=list(sets))


def _expression_frame(adata: ad.AnnData, layer: str | None, labels: pd.Index) -> pd.DataFrame:
    frame = pd.DataFrame(expression(adata, layer), index=adata.obs_names.astype(str), columns=labels)
    labelled = frame.columns.astype(str).str.len() > 0
    if not labelled.all():  # a copy only when some genes have no label
        frame = frame.loc[:, labelled]
    bad = frame.columns[frame.isna().any(axis=0).to_numpy()]
    if len(bad):
        msg = f"pathway_scores: {len(bad)} genes with missing values are left out (e.g. {list(bad[:3])})."
        warnings.warn(msg, UserWarning, stacklevel=3)
        frame = frame.drop(columns=bad)
    if frame.columns.has_duplicates:
        frame = frame.T.groupby(level=0, sort=False).mean().T
    return frame


def _gseapy_run(frame: pd.DataFrame, sets: dict, method: str, params: dict) -> pd.DataFrame:
    import gseapy

    common = {
        "data": frame.T,
        "gene_sets": sets,
        "outdir": None,
        "min_size": params["min_size"],
        "max_size": params["max_size"],
        "threads": params["n_jobs"],
        "verbose": False,
    }
    with quiet_gseapy():
        if method == "ssgsea":
            res = gseapy.ssgsea(sample_norm_method="rank", no_plot=True, seed=params["seed"], **common).res2d
        else:
            res = gseapy.gsva(kcdf="Gaussian", seed=params["seed"], **common).res2d
    return res.astype({"ES": float}).pivot(index="Name", columns="Term", values="ES")


def _gseapy_scores(frame: pd.DataFrame, sets: dict, method: str, params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (ES, scores) patients x sets.

    ssGSEA runs in chunks of patients (its ES depends on the patient alone) and is normalised as
    gseapy does, by the range of ES over all patients and sets.
    """
    size = params.get("chunk_size") or len(frame)
    if method == "ssgsea":
        parts = [_gseapy_run(frame.iloc[i : i + size], sets, method, params) for i in range(0, len(frame), size)]
        es = pd.concat(parts)
    else:
        es = _gseapy_run(frame, sets, method, params)
    order = [t for t in sets if t in es.columns]
    es = es.reindex(index=frame.index, columns=order)
    if method == "ssgsea":
        values = es.to_numpy(dtype=float)
        return es, es / (np.nanmax(values) - np.nanmin(values))
    return es, es


def pathway_scores(
    mdata: MuData,
    *,
    mod: str = "rna",
    layer: str | None = None,
    gene_sets: str | PathLike[str] | Mapping[str, Sequence[str]] = "hallmark",
    method: Literal["ssgsea", "gsva", "zscore"] = "ssgsea",
    min_size: int = 15,
    max_size: int = 500,
    gene_column: str | None = None,
    seed: int = 0,
    n_jobs: int = 1,
    chunk_size: int | None = 1000,
    key_added: str = "pathways",
    copy: bool = False,
) -> MuData | None:
    """Score every gene set in every patient and add the scores as a new modality.

    Methods: ``"ssgsea"`` (single-sample GSEA on within-sample ranks, Barbie et al. 2009,
    :func:`gseapy.ssgsea`), ``"gsva"`` (GSVA with a Gaussian kernel, Hänzelmann et al. 2013,
    :func:`gseapy.gsva`) and ``"zscore"`` (combined z-score, Lee et al. 2008). Use normalised,
    log-scale expression (``layer=``); ssGSEA and GSVA rank genes within each patient, GSVA and
    z-scores also compare patients, so they depend on the cohort.

    The scores become modality ``key_added`` (patients x gene sets), so that
    ``rg.integrate.associate(mdata, x="radiomics", y="pathways")`` maps radiomic features to
    pathways and ``"pathways:<term>"`` keys can enter survival models.

    Parameters
    ----------
    mdata
        Cohort container.
    mod
        Expression modality.
    layer
        Layer of ``mod`` with normalised expression (``None``: ``X``).
    gene_sets
        ``"hallmark"`` (bundled MSigDB hallmarks v7.0), a GMT path, or a dict ``{name: genes}``.
    method
        ``"ssgsea"``, ``"gsva"`` or ``"zscore"``.
    min_size
        Smallest number of a set's genes in the data for the set to be scored.
    max_size
        Largest number of a set's genes in the data for the set to be scored.
    gene_column
        ``var`` column with gene symbols to use instead of ``var_names`` (Ensembl IDs are mapped
        through ``var["gene_name"]`` automatically when present).
    seed
        Seed passed to gseapy.
    n_jobs
        Threads used by gseapy.
    chunk_size
        ssGSEA only: patients per gseapy call (``None``: all at once). Each patient's ES depends on
        that patient alone, so chunks give the same scores and bound memory (gseapy's result
        tables for 10,000 patients x 50 sets took about 10 GB in one call).
    key_added
        Name of the new modality.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.mod[key_added]`` : :class:`anndata.AnnData`
        Patients of ``mod`` x scored sets. ``X``: scores (ssGSEA: normalised ES, ES divided by
        the range over the cohort; GSVA: ES; z-score: combined z). ``layers["es"]``: raw ssGSEA ES.
        ``var``: ``set_size, overlap, fraction``.
    ``mdata.mod[key_added].uns["pathway_scores"]`` : :class:`dict`
        ``params`` and the per-set ``overlap`` table (all sets, with ``tested``).

    Examples
    --------
    >>> import numpy as np
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=40, seed=0)
    >>> X = mdata["rna"].X
    >>> mdata["rna"].layers["log"] = np.log1p(X / X.sum(axis=1, keepdims=True) * 1e6)
    >>> truth = mdata.uns["truth"]["gene_sets"]
    >>> sets = {t: g["gene"].tolist() for t, g in truth.groupby("term")}
    >>> rg.enrich.pathway_scores(mdata, layer="log", gene_sets=sets, method="zscore")
    >>> mdata["pathways"].shape
    (40, 3)
    """
    require_mudata(mdata, "enrich.pathway_scores")
    if method not in ("ssgsea", "gsva", "zscore"):
        msg = f"method must be 'ssgsea', 'gsva' or 'zscore', got {method!r}."
        raise ParameterError(msg)
    if key_added in mdata.mod and key_added == mod:
        msg = f"key_added={key_added!r} would replace the expression modality; choose another name."
        raise ParameterError(msg)
    adata = get_modality(mdata, mod)
    sets = load_gene_sets(gene_sets)
    labels = gene_labels(adata, sets, gene_column=gene_column)
    if method == "zscore":
        # z-scores of a set use its own genes only: read just the genes the sets name (a few
        # thousand of 20,000), never a float64 copy of the whole matrix
        used = np.flatnonzero(labels.isin({g for genes in sets.values() for g in genes}))
        adata, labels = adata[:, used], labels[used]
    frame = _expression_frame(adata, layer, labels)
    table = overlap_table(sets, frame.columns, min_size=min_size, max_size=max_size)
    check_overlap(table, min_size=min_size, max_size=max_size, what=f"modality {mod!r}")
    tested = restrict(sets, table, frame.columns)
    params = {
        "mod": mod,
        "layer": layer,
        "gene_sets": gene_sets if isinstance(gene_sets, str) else "custom",
        "method": method,
        "min_size": int(min_size),
        "max_size": int(max_size),
        "seed": int(seed),
    }
    layers = {}
    if method == "zscore":
        scores = zscore_scores(frame, tested)
    else:
        es, scores = _gseapy_scores(frame, tested, method, {**params, "n_jobs": int(n_jobs), "chunk_size": chunk_size})
        if method == "ssgsea":
            layers["es"] = es.to_numpy(dtype=float)
    var = table.set_index("term").loc[list(scores.columns), ["set_size", "overlap", "fraction"]]
    var.index.name = None
    result = ad.AnnData(
        X=scores.to_numpy(dtype=float),
        obs=pd.DataFrame(index=scores.index),
        var=var,
        layers=layers,
        uns={"pathway_scores": {"params": params, "overlap": table}},
    )
    target = copy_mudata(mdata) if copy else mdata
    target.mod[key_added] = result
    update_mudata(target)
    return target if copy else None
