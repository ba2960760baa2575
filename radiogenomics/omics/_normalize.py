"""RNA-seq normalisation, gene filtering and highly variable genes."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import anndata as ad
import numpy as np
import pandas as pd

from .._compat import copy_mudata, stored_matrix, update_mudata
from .._utils import dense, get_modality, train_mask
from ..errors import ConvergenceError, DataFormatError, MissingColumnError, ParameterError
from ._vst import dispersion_trend, gene_dispersions, mean_dispersion, size_factors, vst_mean_transform, vst_transform

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["filter_genes", "highly_variable", "normalize"]


def _counts(adata: ad.AnnData, layer: str, *, check_log: bool = True) -> np.ndarray:
    """Return a copy of the raw counts (float64), storing a copy of ``X`` in ``layers[layer]`` first if absent.

    The result never shares memory with the stored layer, so transforms done in place on it
    (scanpy's ``normalize_total``) leave the raw counts intact.
    """
    if layer not in adata.layers:
        adata.layers[layer] = stored_matrix(adata).copy()
    counts = np.array(dense(adata.layers[layer]), dtype=np.float64, copy=True)
    if not np.isfinite(counts).all():
        msg = f"layers[{layer!r}] has missing or infinite values; normalisation needs complete raw counts."
        raise DataFormatError(msg)
    if (counts < 0).any():
        msg = f"layers[{layer!r}] has negative values: these are not raw counts (already log-transformed?)."
        raise DataFormatError(msg)
    top = float(counts.max()) if counts.size else 0.0
    if check_log and counts.size and top <= _LOG_SCALE_MAX and not np.array_equal(counts, np.round(counts)):
        msg = (
            f"layers[{layer!r}] holds fractional values no larger than {top:.3g}: raw counts reach thousands, so "
            "these look log-transformed already (log2 CPM/TPM?); normalising them again gives a log of a log. "
            "Pass the raw counts (e.g. 2**x - 1 of log2(count+1) data) or skip normalize."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    return counts


_LOG_SCALE_MAX = 30.0  # log2(count + 1) never exceeds ~30 (a billion reads on one gene)


def _log_tpm(adata: ad.AnnData, counts_layer: str) -> tuple[np.ndarray, str]:
    if "tpm" in adata.layers:
        tpm = dense(adata.layers["tpm"])
        source = "layers['tpm']"
    elif "gene_length" in adata.var.columns:
        length = pd.to_numeric(adata.var["gene_length"], errors="coerce").to_numpy(dtype=float)
        if not (np.isfinite(length) & (length > 0)).all():
            msg = "var['gene_length'] must be positive for every gene (bp)."
            raise DataFormatError(msg)
        rate = _counts(adata, counts_layer) / (length / 1e3)
        tpm = rate / rate.sum(axis=1, keepdims=True) * 1e6
        adata.layers["tpm"] = tpm
        source = f"layers[{counts_layer!r}] / var['gene_length']"
    else:
        msg = "method='log_tpm' needs layers['tpm'] (GDC STAR files have it) or var['gene_length'] in bp."
        raise MissingColumnError(msg)
    return np.log2(tpm + 1.0), source


def normalize(
    data: MuData | ad.AnnData,
    *,
    mod: str = "rna",
    method: Literal["log_cpm", "log_tpm", "vst"] = "log_cpm",
    layer: str = "counts",
    key_added: str = "normalize",
    copy: bool = False,
) -> MuData | ad.AnnData | None:
    """Normalise RNA-seq counts into ``X``, keeping the raw counts in a layer.

    * ``"log_cpm"``: :func:`scanpy.pp.normalize_total` to 1e6 reads per sample, then
      :func:`scanpy.pp.log1p` with base 2, i.e. ``log2(CPM + 1)``.
    * ``"log_tpm"``: ``log2(TPM + 1)`` from ``layers["tpm"]`` (as read from GDC files) or from
      counts and ``var["gene_length"]`` (bp): ``TPM = 1e6 * (c/L) / sum(c/L)``.
    * ``"vst"``: DESeq2's variance-stabilising transformation, ``blind=TRUE``,
      ``fitType="parametric"`` (median-of-ratios size factors, Cox-Reid gene-wise dispersions,
      trend ``asymptDisp + extraPois/mean``, closed-form transform on a log2 scale); checked
      against DESeq2 1.38 in the tests. When the parametric trend cannot be fitted (a few
      samples), a constant dispersion is used (DESeq2 ``fitType="mean"``) with a warning.

    Parameters
    ----------
    data
        MuData (modality ``mod`` is used) or AnnData, samples x genes.
    mod
        Modality holding the counts.
    method
        Normalisation method, as above.
    layer
        Layer with raw counts; if absent, ``X`` is taken as raw counts and copied there first.
    key_added
        Key in the modality's ``uns`` for the parameters.
    copy
        Return a modified copy instead of writing into ``data``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes into the modality:

    ``X`` (float64)
        Normalised values.
    ``layers[layer]``
        Raw counts (unchanged, created from ``X`` if absent).
    ``obs["size_factor"]`` (``vst`` only)
        Median-of-ratios size factors.
    ``uns[key_added]["params"]``
        ``method``, ``layer``, ``source`` and, for ``vst``, ``fit_type`` (``"parametric"`` or
        ``"mean"``), ``asympt_disp`` (the constant dispersion for ``"mean"``) and ``extra_pois``.

    Examples
    --------
    >>> import data_loaders as dl
    >>> import radiogenomics as rg
    >>> rna = dl.read_gdc_star_counts(
    ...     dl.example_file("gdc_star_counts"), sample_sheet=dl.example_file("gdc_sample_sheet")
    ... )
    >>> rg.omics.normalize(rna, method="log_cpm")
    >>> round(float((2 ** rna.X[0] - 1).sum()))  # CPM sum to one million
    1000000
    >>> rna.uns["normalize"]["params"]["method"]
    'log_cpm'
    """
    if copy:
        data = copy_mudata(data)
    adata = get_modality(data, mod)
    params: dict = {"method": method, "layer": layer}
    if method == "log_cpm":
        import scanpy as sc

        tmp = ad.AnnData(X=_counts(adata, layer))
        sc.pp.normalize_total(tmp, target_sum=1e6)
        sc.pp.log1p(tmp, base=2)
        values, params["source"] = np.asarray(tmp.X, dtype=np.float64), f"layers[{layer!r}]"
    elif method == "log_tpm":
        values, params["source"] = _log_tpm(adata, layer)
    elif method == "vst":
        counts = _counts(adata, layer, check_log=False)  # log data fail the whole-number check below
        if not np.array_equal(counts, np.round(counts)):
            msg = (
                f"method='vst' needs whole-number counts in layers[{layer!r}] (RSEM expected counts: round them first)."
            )
            raise DataFormatError(msg)
        sf = size_factors(counts)
        norm = counts / sf[:, None]
        disp = gene_dispersions(counts, sf)
        try:
            a0, a1 = dispersion_trend(norm.mean(axis=0), disp)
            values, fit = vst_transform(norm, a0, a1), "parametric"
        except ConvergenceError as e:
            # DESeq2 also falls back when the parametric fit fails (there to "local"; here to "mean")
            a0, a1, fit = mean_dispersion(disp), 0.0, "mean"
            values = vst_mean_transform(norm, a0)
            msg = f"{e} Using a constant dispersion {a0:.3g} (DESeq2 fitType='mean') instead."
            warnings.warn(msg, UserWarning, stacklevel=2)
        adata.obs["size_factor"] = sf
        params.update(source=f"layers[{layer!r}]", fit_type=fit, asympt_disp=a0, extra_pois=a1)
    else:
        msg = f"method={method!r} is not known; use 'log_cpm', 'log_tpm' or 'vst'."
        raise ParameterError(msg)
    adata.X = values
    adata.uns[key_added] = {"params": params}
    return data if copy else None


def filter_genes(
    data: MuData | ad.AnnData,
    *,
    mod: str = "rna",
    min_count: float = 10,
    min_samples: float = 0.1,
    gene_types: Sequence[str] | None = None,
    layer: str = "counts",
    key_added: str = "filter_genes",
    copy: bool = False,
) -> MuData | ad.AnnData | None:
    """Remove genes that are rarely expressed (and, optionally, of unwanted biotypes).

    A gene is kept when its raw count is at least ``min_count`` in at least ``min_samples``
    samples (a fraction if below 1, else a number), and its ``var["gene_type"]`` is in
    ``gene_types`` when given. The rule uses no outcome, so it can be applied to a whole cohort.

    Parameters
    ----------
    data
        MuData or AnnData, samples x genes.
    mod
        Modality to filter.
    min_count
        Minimum raw count.
    min_samples
        Fraction (< 1) or number (>= 1) of samples that must reach ``min_count``.
    gene_types
        Biotypes to keep, e.g. ``["protein_coding"]`` (needs ``var["gene_type"]``).
    layer
        Layer with raw counts (``X`` is used if absent).
    key_added
        Key in the modality's ``uns`` for the parameters and the removed genes.
    copy
        Return a modified copy instead of writing into ``data``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Removes genes from the modality and writes
    ``uns[key_added]["params"]`` and ``uns[key_added]["removed"]`` (DataFrame ``gene``, ``reason``).

    Examples
    --------
    >>> import data_loaders as dl
    >>> import radiogenomics as rg
    >>> rna = dl.read_gdc_star_counts(
    ...     dl.example_file("gdc_star_counts"), sample_sheet=dl.example_file("gdc_sample_sheet")
    ... )
    >>> rg.omics.filter_genes(rna, min_count=10, min_samples=0.5, gene_types=["protein_coding"])
    >>> rna.n_vars, rna.uns["filter_genes"]["removed"]["gene"].str[:15].tolist()[:2]
    (19, ['ENSG00000000005', 'ENSG00000002586'])
    """
    if copy:
        data = copy_mudata(data)
    adata = get_modality(data, mod)
    counts = dense(adata.layers[layer]) if layer in adata.layers else dense(adata.X)
    needed = min_samples * adata.n_obs if min_samples < 1 else min_samples
    low = (counts >= min_count).sum(axis=0) < needed
    reason = np.where(low, f"count >= {min_count:g} in fewer than {needed:g} samples", "")
    if gene_types is not None:
        if "gene_type" not in adata.var.columns:
            msg = "gene_types= needs var['gene_type'] (GDC STAR files have it)."
            raise MissingColumnError(msg)
        other = ~adata.var["gene_type"].isin(list(gene_types)).to_numpy()
        reason = np.where(other & (reason == ""), "gene_type not in gene_types", reason)
    keep = reason == ""
    removed = pd.DataFrame({"gene": adata.var_names[~keep].astype(str), "reason": reason[~keep].astype(str)})
    adata._inplace_subset_var(keep)
    adata.uns[key_added] = {
        "params": {
            "min_count": float(min_count),
            "min_samples": float(min_samples),
            "gene_types": list(gene_types or []),
            "layer": layer,
        },
        "removed": removed,
    }
    if adata is not data:
        update_mudata(data)
    return data if copy else None


def highly_variable(
    data: MuData | ad.AnnData,
    *,
    mod: str = "rna",
    n_top_genes: int = 2000,
    flavor: Literal["seurat", "cell_ranger"] = "seurat",
    train=None,
    key_added: str = "highly_variable",
    copy: bool = False,
) -> MuData | ad.AnnData | None:
    """Flag highly variable genes with :func:`scanpy.pp.highly_variable_genes`.

    Run on log-normalised ``X`` (after :func:`normalize`, whose log2 scale is passed to scanpy
    as ``uns["log1p"]["base"] = 2``). With ``train``, the genes are ranked
    on the training samples only, so a validation cohort does not influence the selection.

    Parameters
    ----------
    data
        MuData or AnnData, samples x genes.
    mod
        Modality to use.
    n_top_genes
        Number of genes to flag.
    flavor
        scanpy dispersion flavour for log data.
    train
        Boolean mask, ``obs`` column or sample IDs of the training samples (``None``: all).
    key_added
        Name of the boolean ``var`` column and of the ``uns`` entry.
    copy
        Return a modified copy instead of writing into ``data``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes ``var[key_added]`` (bool),
    ``var["hv_means"]``, ``var["hv_dispersions_norm"]`` and ``uns[key_added]["params"]``.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=30, n_genes=200, seed=0)
    >>> rg.omics.normalize(mdata, method="log_cpm")
    >>> rg.omics.highly_variable(mdata, n_top_genes=50)
    >>> int(mdata.mod["rna"].var["highly_variable"].sum())
    50
    """
    import scanpy as sc

    if copy:
        data = copy_mudata(data)
    adata = get_modality(data, mod)
    mask = train_mask(adata, train, where="normalize")
    sub = ad.AnnData(X=dense(adata.X)[mask], var=pd.DataFrame(index=adata.var_names))
    if "normalize" in adata.uns:  # normalize() writes log2 values: tell scanpy the base
        sub.uns["log1p"] = {"base": 2}
    elif "log1p" in adata.uns:
        sub.uns["log1p"] = dict(adata.uns["log1p"])
    table = sc.pp.highly_variable_genes(sub, n_top_genes=min(n_top_genes, adata.n_vars), flavor=flavor, inplace=False)
    table.index = adata.var_names
    adata.var[key_added] = table["highly_variable"].to_numpy(dtype=bool)
    adata.var["hv_means"] = table["means"].to_numpy(dtype=float)
    adata.var["hv_dispersions_norm"] = table["dispersions_norm"].to_numpy(dtype=float)
    adata.uns[key_added] = {"params": {"n_top_genes": int(n_top_genes), "flavor": flavor, "n_train": int(mask.sum())}}
    return data if copy else None
