"""A synthetic radiogenomic cohort with planted truth."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..io import build_mudata
from ._names import radiomic_feature_table, synthetic_barcode

if TYPE_CHECKING:
    from mudata import MuData

__all__ = ["synthetic_cohort"]

_MUT_GENES = ["IDH1", "IDH2", "TP53", "ATRX", "EGFR", "PTEN", "CIC", "NF1", "PIK3CA", "TERT"]


def _radiomics(rng, structure, z, sites, n_sites, n_features, block, batch_shift, batch_scale):
    names = radiomic_feature_table(n_features)
    n = z.shape[0]
    x = rng.standard_normal((n, n_features)).astype(np.float32)
    planted = {}
    for k in range(z.shape[1]):
        cols = np.arange(k * block, min((k + 1) * block, n_features))
        x[:, cols] += 1.5 * z[:, [k]]
        planted[f"F{k + 1}"] = [names[c][0] for c in cols]
    shift = structure.normal(0.0, batch_shift, size=(n_sites, n_features)).astype(np.float32)
    scale = np.exp(structure.normal(0.0, np.log(batch_scale), size=(n_sites, n_features))).astype(np.float32)
    x = x * scale[sites] + shift[sites]
    # Radiomic features are positive, skewed and on very different scales, as in pyradiomics output.
    offsets = np.exp(structure.uniform(0, 6, n_features)).astype(np.float32)
    x = x * offsets / 4 + offsets
    var = pd.DataFrame(names, columns=["name", "modality", "roi", "image_type", "feature_class", "feature"]).set_index(
        "name"
    )
    return ad.AnnData(X=x, var=var), planted, shift, scale


def _proportions(noise, base, z, loadings, idh, rows) -> np.ndarray:
    """Expected fraction of each gene's reads for the patients ``rows`` (float32, rows sum to 1)."""
    eta = base + z[rows] @ loadings.T + noise
    eta[:, 2] -= 0.8 * idh[rows]  # EGFR higher in IDH-wildtype tumours
    eta -= eta.max(axis=1, keepdims=True)
    prop = np.exp(eta, out=eta)
    prop /= prop.sum(axis=1, keepdims=True)
    return prop


def _rna(rng, structure, z, n_genes, set_size, idh, chunk=256):
    """Simulate counts in chunks of ``chunk`` patients: the peak stays near the float32 result.

    The random streams are drawn in the order of the one-shot simulation (all expression noise,
    then the depths, then the counts), so every chunk size gives the same cohort: the noise is
    drawn twice, once to reach the depths and once, from a copy of the generator, to use it.
    """
    n, k = z.shape
    genes = [f"GENE{i:05d}" for i in range(n_genes)]
    genes[:4] = ["CD274", "CXCL8", "EGFR", "IDH1"]
    loadings = np.zeros((n_genes, k), dtype=np.float32)
    gene_sets = {}
    for j in range(k):
        idx = np.arange(4 + j * set_size, min(4 + (j + 1) * set_size, n_genes))
        loadings[idx, j] = 0.8
        gene_sets[f"PLANTED_F{j + 1}"] = [genes[i] for i in idx]
    loadings[0, 0] = 0.7  # CD274 (PD-L1) follows factor 1
    loadings[1, min(2, k - 1)] = 0.7  # CXCL8 follows factor 3
    base = structure.normal(3.0, 1.5, n_genes).astype(np.float32)
    base[:4] = [3.0, 3.5, 5.0, 5.0]
    z = z.astype(np.float32)
    noise_rng = np.random.Generator(type(rng.bit_generator)())
    noise_rng.bit_generator.state = rng.bit_generator.state
    blocks = [slice(i, min(i + chunk, n)) for i in range(0, n, chunk)]
    for rows in blocks:  # advance past the noise to the depths
        rng.normal(0, 0.3, (rows.stop - rows.start, n_genes))
    depth = np.exp(rng.normal(np.log(5e5 * n_genes / 1000), 0.3, n))
    counts = np.empty((n, n_genes), dtype=np.float32)
    for rows in blocks:
        noise = noise_rng.normal(0, 0.3, (rows.stop - rows.start, n_genes)).astype(np.float32)
        prop = _proportions(noise, base, z, loadings, idh, rows)
        counts[rows] = rng.poisson(prop * depth[rows, None])
    return ad.AnnData(X=counts, var=pd.DataFrame(index=genes)), gene_sets, loadings


def _mutations(rng, idh, z):
    n = len(idh)
    m = (rng.random((n, len(_MUT_GENES))) < 0.04).astype(np.float32)
    m[:, 0] = idh * (rng.random(n) < 0.9)
    m[:, 1] = idh * (1 - m[:, 0])
    m[:, 2] = np.where(idh == 1, rng.random(n) < 0.6, rng.random(n) < 0.25)
    m[:, 4] = (1 - idh) * (rng.random(n) < 1 / (1 + np.exp(-(z[:, 0] - 0.5))))
    return ad.AnnData(X=m, var=pd.DataFrame(index=_MUT_GENES))


def synthetic_cohort(
    n_patients: int = 200,
    *,
    n_features: int = 100,
    n_genes: int = 500,
    n_factors: int = 3,
    n_sites: int = 3,
    block: int = 10,
    gene_set_size: int = 25,
    hazard_coef: float = 0.8,
    censoring: float = 0.3,
    seed: int = 0,
    structure_seed: int | None = None,
) -> MuData:
    """Simulate a paired radiomics / RNA-seq / mutation cohort with known ground truth.

    Latent factors ``F1..Fk`` (standard normal per patient) drive a block of ``block`` radiomic
    features each and a planted gene set of ``gene_set_size`` genes each. ``F1`` raises the
    hazard of death (log hazard ratio ``hazard_coef`` per SD) and PD-L1 (``CD274``); ``F2``
    sets IDH status (IDH1/IDH2 mutations; IDH-mutant patients live longer); ``F3`` drives
    ``CXCL8``. Radiomic features carry an additive and multiplicative site (scanner) effect
    independent of biology. Survival times are Weibull, with uniform administrative censoring.
    RNA is simulated as Poisson counts (raw counts in ``X``). RNA and mutations are indexed by
    TCGA-style aliquot/sample barcodes and paired with :func:`radiogenomics.io.build_mudata`.

    Parameters
    ----------
    n_patients
        Number of patients.
    n_features
        Number of radiomic features (pyradiomics-style names ``CT_tumour_<imageType>_<class>_<feature>``).
    n_genes
        Number of genes (``CD274``, ``CXCL8``, ``EGFR``, ``IDH1``, then ``GENE00004``...).
    n_factors
        Number of latent factors (at least 1; factor 2 sets IDH when present).
    n_sites
        Number of acquisition sites with their own batch effect.
    block
        Radiomic features driven by each factor.
    gene_set_size
        Genes driven by each factor (the planted gene sets ``PLANTED_F1``...).
    hazard_coef
        Log hazard ratio of death per SD of ``F1``.
    censoring
        Approximate fraction of censored patients.
    seed
        Seed of the patients (factors, sites, noise, counts, survival); the same seeds give the
        same cohort.
    structure_seed
        Seed of what does not depend on the patients: feature units and offsets, the site
        (scanner) effects and baseline gene expression. Cohorts with different ``seed`` and the
        same ``structure_seed`` are two cohorts measured with the same features at the same
        sites, so a model fitted on one applies unchanged to the other (external validation).
        ``None`` draws the structure from ``seed`` as well, so each seed has its own units.

    Returns
    -------
    :class:`mudata.MuData` with modalities ``radiomics``, ``rna`` (raw counts) and ``mut``;
    ``obs`` columns ``age``, ``kps``, ``sex``, ``site``, ``idh_mutant``, ``os_months``,
    ``os_event``; the pairing table in ``uns["pairing"]``; and ``uns["truth"]`` with
    ``factors`` (patients x factors), ``radiomic_features`` and ``gene_sets`` (long tables
    ``factor``/``term``, ``feature``/``gene``), ``hazard`` (true log hazard ratios),
    ``batch_shift`` (site x feature) and ``params``.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=50, seed=1)
    >>> mdata.shape
    (50, 610)
    >>> sorted(mdata.mod)
    ['mut', 'radiomics', 'rna']
    >>> mdata.uns["truth"]["gene_sets"]["term"].unique().tolist()
    ['PLANTED_F1', 'PLANTED_F2', 'PLANTED_F3']
    """
    if n_factors < 1 or n_patients < 10:
        msg = f"synthetic_cohort needs n_factors >= 1 and n_patients >= 10 (got {n_factors}, {n_patients})."
        raise ParameterError(msg)
    min_features, min_genes = n_factors * block, 4 + n_factors * gene_set_size
    if n_features < min_features or n_genes < min_genes:
        msg = (
            f"synthetic_cohort: n_features must be >= n_factors*block = {min_features} (got {n_features}) "
            f"and n_genes >= 4 + n_factors*gene_set_size = {min_genes} (got {n_genes}); "
            "raise n_features/n_genes or lower n_factors, block or gene_set_size."
        )
        raise ParameterError(msg)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n_patients, n_factors)).astype(np.float32)
    sites = rng.integers(0, n_sites, n_patients)
    idh_logit = -0.6 + 2.5 * z[:, 1] if n_factors > 1 else np.full(n_patients, -0.6)
    idh = (rng.random(n_patients) < 1 / (1 + np.exp(-idh_logit))).astype(np.float32)
    age = np.clip(rng.normal(58 - 15 * idh, 12), 18, 90).round(1)
    kps = np.clip(np.round(rng.normal(80, 12, n_patients) / 10) * 10, 40, 100)

    lin = hazard_coef * z[:, 0] + 0.03 * (age - 55) - 0.7 * idh
    shape = 1.3
    event_time = (rng.exponential(1.0, n_patients) / (np.exp(lin) / 18.0**shape)) ** (1 / shape)
    cens_time = rng.uniform(0, np.quantile(event_time, 1 - censoring) * 2 + 1e-9, n_patients)
    os_months = np.minimum(event_time, cens_time).round(2) + 0.01
    os_event = event_time <= cens_time

    structure = rng if structure_seed is None else np.random.default_rng([structure_seed, n_features, n_genes, n_sites])
    radiomics, planted, shift, _ = _radiomics(rng, structure, z, sites, n_sites, n_features, block, 0.8, 1.2)
    rna, gene_sets, _ = _rna(rng, structure, z, n_genes, gene_set_size, idh)
    mut = _mutations(rng, idh, z)
    patients = [synthetic_barcode(i) for i in range(n_patients)]
    radiomics.obs_names = patients
    rna.obs_names = [f"{p}-01A-01R-A000-07" for p in patients]
    mut.obs_names = [f"{p}-01A-11D-A000-09" for p in patients]
    clinical = pd.DataFrame(
        {
            "age": age,
            "kps": kps,
            "sex": pd.Categorical(rng.choice(["female", "male"], n_patients)),
            "site": pd.Categorical([f"site{s + 1}" for s in sites]),
            "idh_mutant": idh.astype(bool),
            "os_months": os_months.astype(float),
            "os_event": os_event,
        },
        index=patients,
    )
    # build_mudata copies each modality it pairs; the counts are this function's own, so the RNA
    # is paired without its matrix (same IDs and genes) and the matrix put in afterwards (no copy)
    stand_in = ad.AnnData(obs=pd.DataFrame(index=rna.obs_names), var=rna.var)
    mdata = build_mudata({"radiomics": radiomics, "rna": stand_in, "mut": mut}, clinical)
    if list(mdata.mod["rna"].obs["sample_id"]) != list(rna.obs_names):  # every patient kept, in order
        msg = "synthetic_cohort: the RNA samples were not paired one to one."
        raise RuntimeError(msg)
    mdata.mod["rna"].X = rna.X
    factor_names = [f"F{k + 1}" for k in range(n_factors)]
    mdata.uns["truth"] = {
        "factors": pd.DataFrame(z, index=patients, columns=factor_names),
        "radiomic_features": pd.DataFrame(
            [(f, n) for f, names in planted.items() for n in names], columns=["factor", "feature"]
        ),
        "gene_sets": pd.DataFrame([(t, g) for t, genes in gene_sets.items() for g in genes], columns=["term", "gene"]),
        "hazard": pd.DataFrame({"term": ["F1", "age", "idh_mutant"], "log_hr": [hazard_coef, 0.03, -0.7]}),
        "batch_shift": pd.DataFrame(
            shift, index=[f"site{s + 1}" for s in range(n_sites)], columns=radiomics.var_names.rename(None)
        ),
        "params": {
            "n_patients": n_patients,
            "n_features": n_features,
            "n_genes": n_genes,
            "n_factors": n_factors,
            "n_sites": n_sites,
            "block": block,
            "gene_set_size": gene_set_size,
            "hazard_coef": hazard_coef,
            "censoring": censoring,
            "seed": seed,
            "structure_seed": structure_seed,
        },
    }
    return mdata
