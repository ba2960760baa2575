"""Patient-permutation null for GSEA of correlation rankings.

Gene-set permutation (gseapy.prerank) treats genes as exchangeable; co-expressed genes are not,
so for a ranking made of gene-phenotype correlations it overstates significance. The standard
GSEA remedy is to permute the phenotype: here the patient values of the radiomic feature (or
risk score) are permuted, the gene correlations recomputed, and the enrichment scores of the
permuted rankings form the null (Subramanian et al. 2005, doi:10.1073/pnas.0506580102).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.stats import rankdata

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["enrichment_scores", "patient_null", "permuted_correlations", "phenotype_statistics"]


def permuted_correlations(values: np.ndarray, matrix: np.ndarray, n_perm: int, rng: np.random.Generator) -> np.ndarray:
    """Spearman correlations (n_perm x genes) of ``matrix`` (patients x genes) with permuted ``values``."""
    rx = rankdata(values)
    rx = (rx - rx.mean()) / np.sqrt(((rx - rx.mean()) ** 2).sum())
    rm = rankdata(matrix, axis=0)
    rm = rm - rm.mean(axis=0)
    norm = np.sqrt((rm**2).sum(axis=0))
    rm = np.divide(rm, norm, out=np.zeros_like(rm), where=norm > 0)
    perm = np.stack([rx[rng.permutation(len(rx))] for _ in range(n_perm)])
    return perm @ rm


def enrichment_scores(
    scores: np.ndarray, genes: Sequence[str], sets: Mapping[str, Sequence[str]], *, weight: float = 1.0
) -> np.ndarray:
    """Enrichment scores (rankings x sets) of the GSEA running sum, for many rankings at once.

    ``scores`` is rankings x genes. Genes are walked from the highest value down (ties in the
    order of ``genes``), as in :func:`radiogenomics.enrich.running_score`. The running sum only
    turns at the set's genes, so it is evaluated at each hit and just before it.
    """
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    n_rank, n_genes = scores.shape
    order = np.argsort(-scores, axis=1, kind="stable")
    position = np.empty_like(order)
    np.put_along_axis(position, order, np.arange(n_genes)[None, :].repeat(n_rank, axis=0), axis=1)
    index = {g: i for i, g in enumerate(genes)}
    rows = np.arange(n_rank)[:, None]
    out = np.empty((n_rank, len(sets)))
    for j, members in enumerate(sets.values()):
        cols = np.array(sorted({index[g] for g in members if g in index}))
        hit_pos = position[:, cols]
        sort = np.argsort(hit_pos, axis=1)
        hit_pos = np.take_along_axis(hit_pos, sort, axis=1)
        w = np.abs(np.take_along_axis(scores[:, cols], sort, axis=1)) ** weight
        total = w.sum(axis=1, keepdims=True)
        up = np.cumsum(w, axis=1) / np.where(total > 0, total, 1.0)
        down = (hit_pos - np.arange(len(cols))[None, :]) / (n_genes - len(cols))
        at_hit = up - down
        before_hit = np.concatenate([np.zeros((n_rank, 1)), up[:, :-1]], axis=1) - down
        candidates = np.concatenate([at_hit, before_hit], axis=1)
        best = np.argmax(np.abs(candidates), axis=1)
        out[:, j] = candidates[rows[:, 0], best]
    return out


def _same_sign_mean(null: np.ndarray, *, positive: bool) -> np.ndarray:
    mask = null >= 0 if positive else null < 0
    count = mask.sum(axis=0)
    total = np.abs(np.where(mask, null, 0.0)).sum(axis=0)
    return np.divide(total, count, out=np.full(null.shape[1], np.nan), where=count > 0)


def patient_null(
    target: pd.Series,
    expr: pd.DataFrame,
    ranking: pd.Series,
    sets: Mapping[str, Sequence[str]],
    *,
    permutations: int,
    weight: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Null enrichment scores (permutations x sets) of a correlation ranking, permuting patients.

    ``target`` holds the patient values, ``expr`` is patients x genes with columns labelled as the
    ranking's genes (duplicated labels: the column with the strongest observed correlation is used).
    """
    usable = target.notna().to_numpy() & expr.notna().all(axis=1).to_numpy()
    x = target.to_numpy(dtype=float)[usable]
    matrix = expr.to_numpy(dtype=float)[usable]
    keep = np.asarray(expr.columns.isin(ranking.index))
    matrix, labels = matrix[:, keep], expr.columns[keep]
    if labels.has_duplicates:
        rx = rankdata(x) - rankdata(x).mean()
        rm = rankdata(matrix, axis=0) - rankdata(matrix, axis=0).mean(axis=0)
        strength = np.abs(rx @ rm) / np.maximum(np.sqrt((rm**2).sum(axis=0)), 1e-300)
        first = pd.Series(strength).groupby(np.asarray(labels)).idxmax().to_numpy()
        matrix, labels = matrix[:, first], labels[first]
    order = np.argsort(np.asarray(labels, dtype=str), kind="stable")
    null = permuted_correlations(x, matrix[:, order], permutations, rng)
    return enrichment_scores(null, list(labels[order]), sets, weight=weight)


def phenotype_statistics(es: np.ndarray, null: np.ndarray) -> pd.DataFrame:
    """NES, nominal p, FDR and FWER p from observed ES (sets) and a permutation null (perms x sets).

    NES divides ES by the mean of the same-signed null ES of its set (as GSEA). The nominal p is
    ``(b + 1) / (m + 1)``, with ``m`` the same-signed null ES of the set and ``b`` of them at
    least as extreme (never 0; Phipson & Smyth 2010, doi:10.2202/1544-6115.1585); FDR is the
    Benjamini-Hochberg adjustment of these p over the sets of the ranking (as fgsea); FWER is
    the fraction of permutations whose most extreme same-signed null NES reaches the NES.
    """
    from statsmodels.stats.multitest import multipletests

    pos_mean, neg_mean = _same_sign_mean(null, positive=True), _same_sign_mean(null, positive=False)
    nes = es / np.where(es >= 0, pos_mean, neg_mean)
    null_nes = np.where(null >= 0, null / pos_mean, null / neg_mean)
    top = np.nanmax(np.where(null_nes >= 0, null_nes, -np.inf), axis=1)
    bottom = np.nanmin(np.where(null_nes < 0, null_nes, np.inf), axis=1)
    pval, fwer = np.ones(len(es)), np.ones(len(es))
    for j, value in enumerate(es):
        col = null[:, j]
        same = col[col >= 0] if value >= 0 else col[col < 0]
        extreme = (same >= value) if value >= 0 else (same <= value)
        pval[j] = (extreme.sum() + 1) / (same.size + 1)
        hits = (top >= nes[j]) if value >= 0 else (bottom <= nes[j])
        fwer[j] = (hits.sum() + 1) / (len(hits) + 1)
    fdr = multipletests(pval, method="fdr_bh")[1]
    return pd.DataFrame({"nes": nes, "p": pval, "padj": fdr, "p_fwer": fwer})
