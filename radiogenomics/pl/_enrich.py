"""Plots of pathway enrichment: dot plot, GSEA running score, radiomic-pathway heatmap."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._utils import require_mudata
from ..errors import MissingColumnError, ParameterError
from ..get import associations, result
from ._utils import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from mudata import MuData

__all__ = ["enrichment_dotplot", "gsea_running_score", "pathway_heatmap"]


# MSigDB collection prefixes of gene-set names, written out
_COLLECTIONS = {"HALLMARK": "Hallmark", "KEGG": "KEGG", "REACTOME": "Reactome", "BIOCARTA": "BioCarta"}
_COLLECTIONS |= {"WP": "WikiPathways", "GOBP": "GO BP", "GOMF": "GO MF", "GOCC": "GO CC", "PID": "PID"}
# short words of gene-set names that are words, not gene or complex symbols
_WORDS = {"VIA", "AND", "OF", "IN", "THE", "TO", "BY", "FOR", "ON", "BILE", "ACID", "HEME", "LATE", "BETA", "CELL"}
_WORDS |= {"ALPHA", "UP", "DN"}


def set_name(term: str, width: int | None = None) -> str:
    """Readable name of a gene set: ``HALLMARK_TNFA_SIGNALING_VIA_NFKB`` -> ``Hallmark: TNFA signaling via NFKB``.

    The MSigDB collection prefix is written out; words longer than four letters are lower
    case, symbols (four letters or fewer, or with a digit, e.g. ``MYC``, ``E2F``) stay upper
    case; ``DN`` is ``down``. Names without a known prefix are returned as they are. With
    ``width``, the name is wrapped onto lines of at most that many characters.
    """
    import textwrap

    prefix, _, rest = term.partition("_")
    if prefix in _COLLECTIONS and rest:
        words = []
        for word in rest.split("_"):
            symbol = (len(word) <= 4 or any(c.isdigit() for c in word)) and word not in _WORDS
            words.append(word if symbol else {"DN": "down"}.get(word, word.lower()))
        words[0] = words[0][:1].upper() + words[0][1:]
        term = f"{_COLLECTIONS[prefix]}: {' '.join(words)}"
    return "\n".join(textwrap.wrap(term, width)) if width else term


def _ranking_name(ranking: str) -> str:
    """``mofa:1`` -> ``MOFA factor 1``; ``<mod>:<feature>`` -> the feature; other names as they are."""
    if ":" not in ranking:
        return ranking
    source, _, name = ranking.partition(":")
    return f"MOFA factor {name}" if source == "mofa" and name.isdigit() else name


def enrichment_dotplot(
    mdata: MuData,
    *,
    key: str = "gsea",
    rankings: list[str] | None = None,
    top: int = 10,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Dot plot of GSEA results: rankings x gene sets, colour = NES, size = -log10 FDR.

    The ``top`` sets with the smallest FDR (over the shown rankings) are shown, with readable
    names (``HALLMARK_TNFA_SIGNALING_VIA_NFKB`` is written ``Hallmark: TNFA signaling via NFKB``,
    wrapped onto lines of at most 34 characters); a new figure's height grows with the number
    of sets.

    Parameters
    ----------
    mdata
        Cohort with results of :func:`radiogenomics.enrich.gsea` in ``uns[key]["results"]``.
    key
        Key of the GSEA results.
    rankings
        Rankings to show (default: all).
    top
        Number of gene sets shown.
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.scatter` for the gene-set dots (e.g. ``cmap``).

    Returns
    -------
    The axes: one dot per ranking and gene set, a colour bar of NES and a legend of dot sizes.

    Examples
    --------
    >>> import numpy as np
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, seed=0)
    >>> X = mdata["rna"].X
    >>> mdata["rna"].layers["log"] = np.log1p(X / X.sum(axis=1, keepdims=True) * 1e6)
    >>> sets = {t: g["gene"].tolist() for t, g in mdata.uns["truth"]["gene_sets"].groupby("term")}
    >>> rg.enrich.gsea(
    ...     mdata, ["radiomics:CT_tumour_original_shape_Elongation"], layer="log", gene_sets=sets, n_permutations=50
    ... )
    >>> rg.pl.enrichment_dotplot(mdata).get_xlabel()
    'ranking'
    """
    require_mudata(mdata, "pl.enrichment_dotplot")
    res = result(mdata, key, "results")
    if rankings is not None:
        res = res[res["ranking"].isin(rankings)]
    if res.empty:
        msg = f"No GSEA results to plot in uns[{key!r}] for rankings={rankings}."
        raise ParameterError(msg)
    terms = res.groupby("term")["padj"].min().sort_values(kind="stable").index[:top].tolist()
    res = res[res["term"].isin(terms)]
    cols = list(dict.fromkeys(res["ranking"]))
    names = [set_name(t, width=34) for t in terms[::-1]]
    height = 1.6 + 0.17 * sum(n.count("\n") + 2 for n in names)  # grows with the sets and their lines
    ax = new_axes(ax, figsize=(5.0 + 0.45 * len(cols), height))
    x = res["ranking"].map({c: i for i, c in enumerate(cols)})
    y = res["term"].map({t: i for i, t in enumerate(terms[::-1])})
    size = 20 + 40 * -np.log10(res["padj"].clip(lower=1e-4).to_numpy())
    lim = float(np.nanmax(np.abs(res["nes"]))) or 1.0
    kwargs.setdefault("cmap", "RdBu_r")
    points = ax.scatter(x, y, s=size, c=res["nes"], vmin=-lim, vmax=lim, edgecolors="k", linewidths=0.3, **kwargs)
    tilt: dict[str, Any] = {"rotation": 45, "ha": "right"} if len(cols) > 2 else {}
    ax.set_xticks(range(len(cols)), [_ranking_name(c) for c in cols], fontsize=8, **tilt)
    ax.set_yticks(range(len(terms)), names, fontsize=8)
    ax.set_xlim(-0.6, len(cols) - 0.4)
    ax.set_xlabel("ranking")
    ax.figure.colorbar(points, ax=ax, label="NES", shrink=0.6)
    for fdr in (0.25, 0.05, 0.001):
        ax.scatter([], [], s=20 + 40 * -np.log10(fdr), c="grey", label=f"FDR {fdr:g}")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=7, frameon=False)
    return ax


def gsea_running_score(mdata: MuData, ranking: str, term: str, *, key: str = "gsea", ax: Axes | None = None) -> Axes:
    """Plot the GSEA running enrichment score of one gene set along one ranking.

    The curve is recomputed deterministically from the stored ranking values and gene set
    (``uns[key]["rankings"]``, ``uns[key]["gene_sets"]``) with the stored ``weight``, so it
    redraws from a reloaded ``.h5mu``; its extreme equals the stored ES.

    Parameters
    ----------
    mdata
        Cohort with results of :func:`radiogenomics.enrich.gsea`.
    ranking
        Ranking name (a column of ``uns[key]["rankings"]``).
    term
        Gene set name.
    key
        Key of the GSEA results.
    ax
        Axes to draw into; a new figure is made when ``None``.

    Returns
    -------
    The axes: the running score curve, one tick per gene of the set under it and a dashed line
    at the rank of the ES.

    Examples
    --------
    >>> import numpy as np
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, seed=0)
    >>> X = mdata["rna"].X
    >>> mdata["rna"].layers["log"] = np.log1p(X / X.sum(axis=1, keepdims=True) * 1e6)
    >>> sets = {t: g["gene"].tolist() for t, g in mdata.uns["truth"]["gene_sets"].groupby("term")}
    >>> rg.enrich.gsea(
    ...     mdata, "radiomics:CT_tumour_original_shape_Elongation", layer="log", gene_sets=sets, n_permutations=50
    ... )
    >>> ax = rg.pl.gsea_running_score(mdata, "radiomics:CT_tumour_original_shape_Elongation", "PLANTED_F1")
    >>> ax.get_ylabel()
    'running enrichment score'
    """
    require_mudata(mdata, "pl.gsea_running_score")
    from ..enrich import running_score

    rankings = result(mdata, key, "rankings")
    sets = result(mdata, key, "gene_sets")
    params = result(mdata, key, "params")
    if ranking not in rankings.columns:
        msg = f"Ranking {ranking!r} not in uns[{key!r}]['rankings']; available: {list(rankings.columns)[:5]}."
        raise MissingColumnError(msg)
    genes = sets.loc[sets["term"] == term, "gene"].tolist()
    if not genes:
        msg = f"Gene set {term!r} was not tested in uns[{key!r}]; tested: {sorted(sets['term'].unique())[:5]}."
        raise MissingColumnError(msg)
    curve = running_score(rankings[ranking].dropna(), genes, weight=float(params["weight"]))
    ax = new_axes(ax, figsize=(6, 3.5))
    ax.plot(curve["rank"], curve["running_score"], color="tab:green", lw=1.5)
    ax.axhline(0, color="grey", lw=0.6)
    low = float(curve["running_score"].min())
    span = float(curve["running_score"].max()) - low
    hits = curve.loc[curve["hit"], "rank"].to_numpy()
    ax.vlines(hits, low - 0.12 * span, low - 0.02 * span, color="k", lw=0.5)
    best = int(np.argmax(np.abs(curve["running_score"].to_numpy())))
    ax.axvline(best, color="tab:red", ls="--", lw=0.8)
    ax.set_xlabel(f"gene rank in {_ranking_name(ranking)} (n = {len(curve)})")
    ax.set_ylabel("running enrichment score")
    ax.set_title(f"{set_name(term)}: ES = {curve.attrs['es']:.3f}", fontsize=9)
    return ax


def pathway_heatmap(
    mdata: MuData,
    *,
    key: str = "associate",
    features: list[str] | None = None,
    top: int = 20,
    alpha: float = 0.05,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Heatmap of a radiomic-pathway association map: features x pathways, colour = correlation.

    Reads the map (``x_feature, y_feature, r, padj``, via :func:`radiogenomics.get.associations`) written by
    ``rg.integrate.associate(mdata, x="radiomics", y="pathways")``; cells with ``padj < alpha``
    are marked with a dot. Without ``features``, the ``top`` x features with the strongest
    association (smallest p-value, or largest ``|r|`` without a ``p`` column) are shown.

    Parameters
    ----------
    mdata
        Cohort with an association map.
    key
        Key of the association results.
    features
        x features to show (default: the ``top`` strongest).
    top
        Number of x features shown when ``features`` is ``None``.
    alpha
        FDR threshold for the dots.
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow` for the correlation image (e.g. ``cmap``).

    Returns
    -------
    The axes: the features x pathways image of ``r`` with a colour bar, dots on the cells with
    ``padj < alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, seed=0)
    >>> X = mdata["rna"].X
    >>> mdata["rna"].layers["log"] = np.log1p(X / X.sum(axis=1, keepdims=True) * 1e6)
    >>> sets = {t: g["gene"].tolist() for t, g in mdata.uns["truth"]["gene_sets"].groupby("term")}
    >>> rg.enrich.pathway_scores(mdata, layer="log", gene_sets=sets, method="zscore")
    >>> rg.integrate.associate(mdata, x="radiomics", y="pathways")
    >>> rg.pl.pathway_heatmap(mdata, top=10).get_xlabel()
    'pathway'
    """
    require_mudata(mdata, "pl.pathway_heatmap")
    res = associations(mdata, key)
    for col in ("x_feature", "y_feature", "r"):
        if col not in res.columns:
            msg = f"uns[{key!r}]['results'] lacks column {col!r}; run rg.integrate.associate(mdata, x='radiomics', y='pathways')."
            raise MissingColumnError(msg)
    res = res.assign(x_feature=res["x_feature"].astype(str), y_feature=res["y_feature"].astype(str))
    if features is None:
        # strongest by p-value (small-n pairs with extreme r do not crowd out the map); |r| without p
        score = -res["p"] if "p" in res.columns else res["r"].abs()
        strength = res.assign(strength=score).groupby("x_feature")["strength"].max().dropna()
        features = strength.sort_values(ascending=False, kind="stable").index[:top].tolist()
    res = res[res["x_feature"].isin(features)]
    r = res.pivot_table(index="x_feature", columns="y_feature", values="r", observed=True).reindex(features)
    ax = new_axes(ax, figsize=(2.5 + 0.22 * r.shape[1], 1.5 + 0.22 * r.shape[0]))
    kwargs.setdefault("cmap", "RdBu_r")
    image = ax.imshow(r.to_numpy(), aspect="auto", vmin=-1, vmax=1, interpolation="nearest", **kwargs)
    if "padj" in res.columns:
        padj = res.pivot_table(index="x_feature", columns="y_feature", values="padj", observed=True)
        padj = padj.reindex(index=r.index, columns=r.columns).to_numpy()
        rows, cols = np.nonzero(np.nan_to_num(padj, nan=1.0) < alpha)
        ax.scatter(cols, rows, s=6, c="k", marker="o", label=f"FDR < {alpha:g}")
    ax.set_xticks(range(r.shape[1]), [set_name(str(c)) for c in r.columns], rotation=90, fontsize=6)
    ax.set_yticks(range(r.shape[0]), [str(i) for i in pd.Index(r.index)], fontsize=6)
    ax.set_xlabel("pathway")
    ax.set_ylabel("radiomic feature")
    ax.figure.colorbar(image, ax=ax, label="correlation r", shrink=0.6)
    return ax
