"""Preranked GSEA (gseapy.prerank) for radiomic features, MOFA factors, risk scores or user rankings."""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._compat import copy_mudata
from .._cv import run_tasks
from .._ties import warn_rank_ties
from .._utils import get_modality, resolve_keys
from ..errors import ParameterError
from ._genesets import check_overlap, gene_labels, long_table, overlap_table, quiet_gseapy, restrict
from ._genesets import gene_sets as load_gene_sets
from ._null import patient_null, phenotype_statistics
from ._rankings import build_rankings, expression

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from os import PathLike

    import anndata as ad
    from mudata import MuData

logger = logging.getLogger(__name__)

__all__ = ["gsea", "running_score"]

RESULT_COLUMNS = [
    "ranking",
    "term",
    "es",
    "nes",
    "p",
    "padj",
    "p_fwer",
    "leading_edge",
    "n_leading",
    "set_size",
    "overlap",
    "null",
]


DUPLICATE_RULE = "one value per gene label: the largest |value| is kept"


def _duplicated_labels(ranking) -> dict[str, int]:
    """Count duplicated gene labels of user rankings and warn: they are collapsed by :data:`DUPLICATE_RULE`."""
    items = [ranking] if isinstance(ranking, str | pd.Series) else list(ranking)
    found = {}
    for i, item in enumerate(items):
        if isinstance(item, pd.Series):
            n = int(item.index.to_series().dropna().astype(str).str.strip().duplicated().sum())
            if n:
                found[str(item.name if item.name is not None else f"ranking{i + 1}").replace("/", "_")] = n
    if found:
        msg = (
            f"gsea: {sum(found.values())} duplicated gene label(s) in the ranking(s) {found}; {DUPLICATE_RULE}, "
            "which can change the result. Combine duplicates yourself first (e.g. series.groupby(level=0).mean()); "
            "the rule and counts are in uns[key_added]['params']."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    return found


def _run_prerank(rnk: pd.Series | pd.DataFrame, sets: dict, params: dict) -> pd.DataFrame:
    import gseapy

    with quiet_gseapy():
        pre = gseapy.prerank(
            rnk=rnk,
            gene_sets=sets,
            outdir=None,
            no_plot=True,
            verbose=False,
            min_size=params["min_size"],
            max_size=params["max_size"],
            permutation_num=params["n_permutations"],
            weight=params["weight"],
            seed=params["seed"],
            threads=params["n_jobs"],
            ascending=None if isinstance(rnk, pd.Series) else False,
        )
    res = pre.res2d.copy()
    if isinstance(rnk, pd.Series):
        res["Name"] = rnk.name
    return res


def prerank_table(
    table: pd.DataFrame, sets: dict[str, list[str]], params: dict, *, batch: bool = False
) -> pd.DataFrame:
    """Run gseapy.prerank for every column of ``table`` (genes x rankings) and return one long table.

    With ``batch=True`` the rankings that share the same genes go to gseapy in one call (its
    multi-column mode, which runs each column as its own prerank, in parallel in Rust); otherwise
    one call per ranking. ES and leading edges are identical; gene-set-permutation NES, p and FDR
    are Monte Carlo estimates and differ slightly between the two modes.
    """
    groups: dict[tuple, list[str]] = {}
    for name in table.columns:
        present = tuple(table[name].notna().to_numpy())
        key = present if batch else (name,)
        groups.setdefault(key, []).append(name)
    frames = []
    for names in groups.values():
        sub = table[names].dropna()
        if len(names) == 1:
            col = sub[names[0]]
            # Sort here (stable, by value then gene name) so tied genes have a reproducible order.
            order = np.lexsort((sub.index.to_numpy(dtype=str), -col.to_numpy()))
            frames.append(_run_prerank(col.iloc[order], sets, params))
        else:
            frames.append(_run_prerank(sub, sets, params))
    res = pd.concat(frames, ignore_index=True)
    out = pd.DataFrame(
        {
            "ranking": res["Name"].astype(str),
            "term": res["Term"].astype(str),
            "es": res["ES"].astype(float),
            "nes": res["NES"].astype(float),
            "p": res["NOM p-val"].astype(float),
            "padj": res["FDR q-val"].astype(float),
            "p_fwer": res["FWER p-val"].astype(float),
            "leading_edge": res["Lead_genes"].fillna("").astype(str),
        }
    )
    out["n_leading"] = [len(s.split(";")) if s else 0 for s in out["leading_edge"]]
    return out


def _ranking_null(target, ranking, sets, rng, *, expr, permutations, weight):
    return patient_null(target, expr, ranking, sets, permutations=permutations, weight=weight, rng=rng)


def _patient_statistics(
    mdata: MuData,
    observed: pd.DataFrame,
    table: pd.DataFrame,
    sets: dict,
    params: dict,
    names: list[str],
    client: Any = None,
) -> pd.DataFrame:
    """Replace NES, p, FDR and FWER of correlation rankings by a patient-permutation null."""
    adata = get_modality(mdata, params["mod"])
    labels = gene_labels(adata, sets, gene_column=params.get("gene_column"))
    values = expression(adata, params["layer"])
    expr = pd.DataFrame(values, index=adata.obs_names, columns=labels).reindex(mdata.obs_names)
    targets = resolve_keys(mdata, names)
    tasks, kept = [], []
    for name in names:
        rng = np.random.default_rng([params["seed"], list(table.columns).index(name)])
        rows = observed[observed["ranking"] == name].set_index("term")
        terms = [t for t in sets if t in rows.index]
        target = pd.to_numeric(targets[name], errors="coerce")
        tasks.append((target, table[name].dropna(), {t: sets[t] for t in terms}, rng))
        kept.append((rows, terms))
    shared = {"expr": expr, "permutations": params["n_permutations"], "weight": params["weight"]}
    # one task per ranking, each with its own seeded generator: any backend gives the same nulls
    nulls = run_tasks(_ranking_null, tasks, shared=shared, client=client)
    out = []
    for (rows, terms), null in zip(kept, nulls, strict=True):
        stats = phenotype_statistics(rows.loc[terms, "es"].to_numpy(), null)
        rows = rows.loc[terms].copy()
        rows[["nes", "p", "padj", "p_fwer"]] = stats.to_numpy()
        out.append(rows.reset_index())
    logger.info("gsea: patient-permutation null for %d rankings", len(names))
    return pd.concat(out, ignore_index=True)[observed.columns]


def running_score(ranking: pd.Series, genes: Sequence[str], *, weight: float = 1.0) -> pd.DataFrame:
    """Compute the GSEA running enrichment score of a gene set along a ranked list.

    The walk goes down the ranking (highest value first; ties in gene-name order): it steps up
    by ``|value|**weight`` (normalised) at genes of the set and down by ``1/(N - N_hit)``
    otherwise (Subramanian et al. 2005, doi:10.1073/pnas.0506580102). The enrichment score is the
    running score farthest from zero.

    Parameters
    ----------
    ranking
        Ranking values indexed by gene.
    genes
        Genes of the set.
    weight
        Exponent of the ranking values (0 gives the classic Kolmogorov-Smirnov walk).

    Returns
    -------
    One row per gene in rank order: ``gene``, ``rank`` (0-based), ``value``, ``hit`` and
    ``running_score``; ``attrs["es"]`` holds the enrichment score.

    Examples
    --------
    >>> import pandas as pd
    >>> import radiogenomics as rg
    >>> r = pd.Series([3.0, 2.0, 1.0, -1.0], index=["A", "B", "C", "D"])
    >>> curve = rg.enrich.running_score(r, ["A", "C"])
    >>> curve["running_score"].round(3).tolist(), curve.attrs["es"]
    ([0.75, 0.25, 0.5, 0.0], 0.75)
    """
    values = pd.to_numeric(ranking, errors="coerce").dropna()
    order = np.lexsort((values.index.to_numpy(dtype=str), -values.to_numpy()))
    values = values.iloc[order]
    hit = values.index.isin(list(genes))
    if not hit.any() or hit.all():
        msg = "running_score needs a gene set that covers some but not all genes of the ranking."
        raise ParameterError(msg)
    w = np.abs(values.to_numpy()) ** weight * hit
    up = np.cumsum(w) / w.sum()
    down = np.cumsum(~hit) / (~hit).sum()
    res = up - down
    curve = pd.DataFrame(
        {
            "gene": values.index,
            "rank": np.arange(len(values)),
            "value": values.to_numpy(),
            "hit": hit,
            "running_score": res,
        }
    )
    curve.attrs["es"] = float(res[np.argmax(np.abs(res))])
    return curve


def _warn_ties(mdata, table: pd.DataFrame, kinds: dict[str, str]) -> None:
    """Warn on heavily tied patient-level values (correlated with genes) and gene ranking values."""
    for name, kind in kinds.items():
        if kind == "patients" and isinstance(name, str):
            warn_rank_ties(
                resolve_keys(mdata, [name])[name].to_numpy(dtype=float), where="gsea", what=name, stacklevel=4
            )
        warn_rank_ties(table[name].to_numpy(dtype=float), where="gsea", what=f"gene ranking {name}", stacklevel=4)


def gsea(
    mdata: MuData | ad.AnnData,
    ranking: str | pd.Series | Sequence[str | pd.Series],
    *,
    mod: str = "rna",
    layer: str | None = None,
    gene_sets: str | PathLike[str] | Mapping[str, Sequence[str]] = "hallmark",
    n_permutations: int = 1000,
    null: Literal["auto", "patients", "genes"] = "auto",
    min_size: int = 15,
    max_size: int = 500,
    seed: int = 0,
    weight: float = 1.0,
    n_jobs: int = 1,
    client: Any = None,
    batch: bool = False,
    gene_column: str | None = None,
    key_added: str = "gsea",
    copy: bool = False,
) -> MuData | ad.AnnData | None:
    """Run preranked gene-set enrichment analysis for one or several gene rankings.

    Genes are ranked by one of:

    * a radiomic feature or any patient-level value, ``"radiomics:<feature>"`` or an ``obs``
      column such as a Cox risk score ``"cox_risk"``: genes are ranked by their Spearman
      correlation with it across patients with both values;
    * a factor, ``"mofa:1"``: genes are ranked by their weight in ``varm["LFs"]`` of ``mod``;
    * a :class:`pandas.Series` indexed by gene (symbols, or IDs of ``mod``'s ``var_names``).

    Significance: for correlation rankings the default null permutes patients and recomputes the
    gene correlations, which keeps gene-gene correlation intact; gseapy's gene-set permutation
    (``null="genes"``) treats genes as independent and gives small FDRs to any co-expressed set
    for random features (see ``docs/enrich.md``).

    A list runs several rankings (e.g. every radiomic feature of a cluster). Correlation rankings
    are computed in one vectorised :func:`radiogenomics.integrate.associate` call; each ranking then
    gets its own :func:`gseapy.prerank` call. ``batch=True`` sends rankings that share their genes
    to gseapy in one multi-column call instead: it gives the same ES and leading edges, but gseapy
    runs each column as a separate prerank with its own permutations, and on 50 rankings x 50
    hallmark sets it was slower (0.75x) and used 3x the memory (``benchmarks/enrichment.py``). Ensembl ``var_names`` are mapped to symbols through a
    ``var`` column (``gene_name``...) when the gene sets hold symbols; for genes with several IDs
    the value largest in absolute terms is kept.

    Parameters
    ----------
    mdata
        Cohort container (an AnnData works for Series rankings).
    ranking
        A key, a Series, or a list of them (see above).
    mod
        Expression modality whose genes are ranked.
    layer
        Layer of ``mod`` with normalised expression (``None``: ``X``); used for correlation rankings.
    gene_sets
        ``"hallmark"`` (bundled MSigDB hallmarks v7.0), a GMT path, or a dict ``{name: genes}``.
    n_permutations
        Permutations for the null distribution (minimum p-value about ``1/n_permutations``).
    null
        ``"patients"``: permute the patient values and recompute the gene correlations (for
        rankings made from a patient-level value; accounts for gene-gene correlation);
        ``"genes"``: gseapy's gene-set permutation (genes treated as exchangeable); ``"auto"``:
        patients for correlation rankings, genes for factor weights and Series.
    min_size
        Smallest number of a set's genes that must be in the ranking for the set to be tested.
    max_size
        Largest number of genes a tested set may have in the ranking.
    seed
        Seed of the permutations.
    weight
        Exponent of the ranking values in the running sum (1 = standard GSEA).
    n_jobs
        Threads used by gseapy.
    client
        A Dask :class:`distributed.Client`: the patient-permutation nulls (one task per ranking,
        each with its own seeded generator) run on its workers; results equal a local run.
    batch
        Run rankings that share their genes in one multi-column gseapy call (see above).
    gene_column
        ``var`` column with gene symbols to use instead of ``var_names``.
    key_added
        Key in ``uns`` under which results are stored.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes ``uns[key_added]`` with:

    ``"results"`` : :class:`pandas.DataFrame`
        One row per ranking and tested set: ``ranking, term, es, nes, p, padj, p_fwer,
        leading_edge`` (genes joined by ``";"``), ``n_leading, set_size`` (genes in the set),
        ``overlap`` (of them, genes in the ranking) and ``null`` (``patients`` or ``genes``);
        sorted by ranking and FDR. With the patient null, p is ``(b + 1) / (m + 1)`` over the
        same-signed null ES and FDR is its Benjamini-Hochberg adjustment over the sets (as fgsea);
        with the gene-set null, p, FDR and FWER are gseapy's (GSEA's FDR).
    ``"rankings"`` : :class:`pandas.DataFrame`
        Genes x rankings: the values that were ranked (missing where a gene is absent).
    ``"gene_sets"`` : :class:`pandas.DataFrame`
        Long table ``term, gene`` of the tested sets, restricted to ranked genes.
    ``"overlap"`` : :class:`pandas.DataFrame`
        Per set: ``term, set_size, overlap, fraction, tested``.
    ``"params"`` : :class:`dict`
        The arguments, plus ``duplicate_rule`` and ``duplicates_collapsed`` (ranking ->
        number of duplicated gene labels in a user Series; these warn).

    Examples
    --------
    >>> import numpy as np
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, seed=0)
    >>> X = mdata["rna"].X
    >>> mdata["rna"].layers["log"] = np.log1p(X / X.sum(axis=1, keepdims=True) * 1e6)
    >>> truth = mdata.uns["truth"]["gene_sets"]
    >>> sets = {t: g["gene"].tolist() for t, g in truth.groupby("term")}
    >>> feature = mdata.uns["truth"]["radiomic_features"]["feature"].iloc[0]
    >>> rg.enrich.gsea(mdata, f"radiomics:{feature}", layer="log", gene_sets=sets, n_permutations=100)
    >>> res = mdata.uns["gsea"]["results"]
    >>> res["term"].iloc[0], res["null"].iloc[0], bool(res["nes"].iloc[0] > 1)
    ('PLANTED_F1', 'patients', True)
    """
    if n_permutations < 1 or min_size < 1 or max_size < min_size:
        msg = f"Need n_permutations >= 1 and 1 <= min_size <= max_size (got {n_permutations}, {min_size}, {max_size})."
        raise ParameterError(msg)
    sets = load_gene_sets(gene_sets)
    if null not in ("auto", "patients", "genes"):
        msg = f"null must be 'auto', 'patients' or 'genes', got {null!r}."
        raise ParameterError(msg)
    duplicated = _duplicated_labels(ranking)
    table, kinds = build_rankings(mdata, ranking, mod=mod, sets=sets, gene_column=gene_column, layer=layer)
    if null == "patients" and any(kind != "patients" for kind in kinds.values()):
        msg = (
            "null='patients' needs rankings made from a patient-level value (radiomic feature, obs column); "
            f"{[n for n, k in kinds.items() if k != 'patients']} are gene weights or Series. Use null='auto' or 'genes'."
        )
        raise ParameterError(msg)
    nulls = {n: "patients" if k == "patients" and null != "genes" else "genes" for n, k in kinds.items()}
    _warn_ties(mdata, table, kinds)
    overlap = overlap_table(sets, table.index, min_size=min_size, max_size=max_size)
    check_overlap(overlap, min_size=min_size, max_size=max_size, what="the ranked genes")
    tested = restrict(sets, overlap, table.index)
    params = {
        "ranking": list(table.columns),
        "mod": mod,
        "layer": layer,
        "gene_sets": gene_sets if isinstance(gene_sets, str) else "custom",
        "n_permutations": int(n_permutations),
        "null": null,
        "min_size": int(min_size),
        "max_size": int(max_size),
        "seed": int(seed),
        "weight": float(weight),
        "n_jobs": int(n_jobs),
        "batch": bool(batch),
        "gene_column": gene_column,
        "duplicate_rule": DUPLICATE_RULE,
        "duplicates_collapsed": duplicated,
    }
    gene_null = [n for n in table.columns if nulls[n] == "genes"]
    patient_null_names = [n for n in table.columns if nulls[n] == "patients"]
    frames = []
    if gene_null:
        frames.append(prerank_table(table[gene_null], tested, params, batch=batch))
    if patient_null_names:
        observed = prerank_table(table[patient_null_names], tested, {**params, "n_permutations": 1}, batch=batch)
        frames.append(_patient_statistics(mdata, observed, table, tested, params, patient_null_names, client))
    results = pd.concat(frames, ignore_index=True)
    results["null"] = results["ranking"].map(nulls)
    set_size = {t: len(g) for t, g in sets.items()}
    results["set_size"] = results["term"].map(set_size).astype(int)
    present = {name: set(table.index[table[name].notna()]) for name in table.columns}
    results["overlap"] = [
        sum(g in present[r] for g in sets[t]) for r, t in zip(results["ranking"], results["term"], strict=True)
    ]
    order = {name: i for i, name in enumerate(table.columns)}
    results = results.assign(_o=results["ranking"].map(order), _a=-results["nes"].abs())
    results = results.sort_values(["_o", "padj", "p", "_a", "term"]).drop(columns=["_o", "_a"])
    logger.info("gsea: %d rankings x %d gene sets", table.shape[1], len(tested))
    target = copy_mudata(mdata) if copy else mdata
    target.uns[key_added] = {
        "results": results[RESULT_COLUMNS].reset_index(drop=True),
        "rankings": table,
        "gene_sets": long_table(tested),
        "overlap": overlap,
        "params": params,
    }
    return target if copy else None
