"""Mutation landscape (oncoplot) of the mutation modality, with clinical tracks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._utils import dense, get_modality, require_mudata
from ..errors import MissingColumnError
from ._utils import new_axes

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from mudata import MuData

NOT_MUTATED = "#e3e3e3"
NOT_PROFILED = "#ffffff"
MUTATED = "#2b6a99"
# maftools-like colours for the MAF Variant_Classification values
CLASS_COLORS = {
    "Missense_Mutation": "#33a02c",
    "Nonsense_Mutation": "#e31a1c",
    "Frame_Shift_Del": "#1f78b4",
    "Frame_Shift_Ins": "#6a3d9a",
    "Splice_Site": "#ff7f00",
    "In_Frame_Del": "#d4b106",
    "In_Frame_Ins": "#8c564b",
    "Translation_Start_Site": "#17becf",
    "Nonstop_Mutation": "#e377c2",
}
ACRONYMS = {"idh", "kps", "os", "pfs", "dfs", "dss", "mgmt", "tert", "atrx", "who", "ct", "mr", "pet", "tmb", "rna"}


def human(name: str) -> str:
    """A readable label: ``"idh_status"`` -> ``"IDH status"``, ``"Missense_Mutation"`` -> ``"Missense mutation"``."""
    words = [w for w in re.split(r"[_\s]+", str(name)) if w]
    out = [w.upper() if w.lower() in ACRONYMS else w.lower() for w in words]
    if out and out[0].islower():
        out[0] = out[0][0].upper() + out[0][1:]
    return " ".join(out) or str(name)


def _pick_genes(adata, values: np.ndarray, genes: Sequence[str] | None, n_genes: int) -> list[int]:
    names = list(adata.var_names)
    if genes is not None:
        missing = [g for g in genes if g not in names]
        if missing:
            msg = f"oncoplot: genes {missing} are not in the mutation modality (e.g. {names[:5]})."
            raise MissingColumnError(msg)
        return [names.index(g) for g in genes]
    hotspot = adata.var["hotspot"].astype(bool).to_numpy() if "hotspot" in adata.var else np.zeros(len(names), bool)
    freq = np.nansum(values > 0, axis=0)
    order = [j for j in np.argsort(-freq, kind="stable") if not hotspot[j] and freq[j] > 0]
    return order[:n_genes]


def _classes(adata, cols: list[int], mutated: np.ndarray, layer: str | None) -> tuple[np.ndarray, dict[int, str]]:
    """Class code per cell (0 = none) and code -> class name, from ``layers[layer]`` or one "Mutated" class."""
    if layer is None or layer not in adata.layers:
        return mutated.astype(int), {1: "Mutated"}
    codes = np.asarray(dense(adata.layers[layer])[:, cols], dtype=int)
    codes[~mutated] = 0
    table = adata.uns.get(f"{layer}_codes")
    if table is not None:
        table = pd.DataFrame(table)
        names = dict(zip(table["code"].astype(int), table[layer].astype(str), strict=True))
    else:
        names = {int(c): f"class {int(c)}" for c in np.unique(codes) if c}
    return codes, {int(c): names.get(int(c), f"class {int(c)}") for c in np.unique(codes) if c}


def _track_colors(values: pd.Series) -> tuple[np.ndarray, list[tuple[str, tuple[float, float, float]]]]:
    """RGB per patient for one clinical track and its legend entries (label, colour)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_rgb

    rgb = np.ones((len(values), 3))
    missing = values.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        x = values.to_numpy(dtype=float)
        lo, hi = np.nanmin(x), np.nanmax(x)
        scaled = (x - lo) / (hi - lo) if hi > lo else np.full(len(x), 0.5)
        rgb[~missing] = colormaps["viridis"](scaled[~missing])[:, :3]
        entries = [(f"{lo:.3g}", colormaps["viridis"](0.0)[:3]), (f"{hi:.3g}", colormaps["viridis"](1.0)[:3])]
    else:
        levels = list(pd.Series(values[~missing]).astype(str).drop_duplicates().sort_values())
        palette = colormaps["tab20" if len(levels) > 10 else "Set2"]
        colors = {lev: palette(k % palette.N)[:3] for k, lev in enumerate(levels)}
        rgb[~missing] = [colors[v] for v in values[~missing].astype(str)]
        entries = [(lev, colors[lev]) for lev in levels]
    if missing.any():
        entries.append(("missing", to_rgb(NOT_PROFILED)))
    return rgb, entries


def _legend(ax: Axes, class_entries, tracks) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(color=c, label=label) for label, c in class_entries]
    handles.append(Patch(facecolor=NOT_MUTATED, edgecolor="none", label="Not mutated"))
    for name, entries in tracks:
        handles.append(Patch(color="none", label=f"{name}:"))
        handles += [Patch(facecolor=c, edgecolor="#999999", linewidth=0.3, label=label) for label, c in entries]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.06, 1.0), frameon=False, fontsize="small")


def oncoplot(
    mdata: MuData,
    *,
    mod: str = "mut",
    genes: Sequence[str] | None = None,
    n_genes: int = 20,
    clinical: Sequence[str] = (),
    layer: str | None = "variant_class",
    ax: Axes | None = None,
) -> Axes:
    """Draw the mutation landscape (oncoplot): genes x patients, coloured by variant class, with clinical tracks.

    Patients are the samples of the mutation modality, sorted as maftools' ``oncoplot``
    (Mayakonda et al. 2018, doi:10.1101/gr.239244.118) does: by their mutation in the most
    frequently mutated gene first, then the next. Each row is labelled with its gene and, on the
    right, the percentage of patients mutated. Cells take the colour of the variant class in
    ``layers[layer]`` (as written by :func:`data_loaders.mutation_matrix`, with its code table in
    ``uns["<layer>_codes"]``), or one colour when the layer is absent. Clinical tracks (columns of
    ``mdata.obs``) are drawn below the genes: categories with a qualitative palette, numbers
    with viridis, missing values white.

    Parameters
    ----------
    mdata
        Cohort with a mutation modality (patients x genes; ``X`` > 0 means mutated).
    mod
        The mutation modality.
    genes
        Genes to show, in this order; ``None`` shows the ``n_genes`` most frequently mutated
        genes (hotspot columns such as ``IDH1_R132`` left out).
    n_genes
        Number of genes shown when ``genes`` is ``None``.
    clinical
        Columns of ``mdata.obs`` drawn as tracks, e.g. ``("idh_status", "grade", "age")``.
    layer
        Layer of variant class codes; ``None`` or absent: one "Mutated" colour.
    ax
        Axes to draw into; a new figure is made when ``None``.

    Returns
    -------
    The axes holding the landscape (an image: one row per gene, a blank row, one row per track).

    Raises
    ------
    MissingColumnError
        The modality, a gene or a clinical column is absent.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=40, n_genes=100, seed=0)
    >>> ax = rg.pl.oncoplot(mdata, n_genes=5, clinical=("idh_mutant", "age"))
    >>> [t.get_text() for t in ax.get_yticklabels()][-2:]
    ['IDH mutant', 'Age']
    """
    require_mudata(mdata, "pl.oncoplot")
    from matplotlib.colors import to_rgb

    adata = get_modality(mdata, mod)
    values = dense(adata.X)
    cols = _pick_genes(adata, values, genes, n_genes)
    if not cols:
        msg = f"oncoplot: no gene is mutated in any patient of modality {mod!r}; pass genes=[...] to show some."
        raise MissingColumnError(msg)
    shown = values[:, cols]
    profiled = ~np.isnan(shown)
    mutated = np.nan_to_num(shown) > 0
    missing = [c for c in clinical if c not in mdata.obs.columns]
    if missing:
        msg = f"oncoplot: clinical columns {missing} not found in mdata.obs (e.g. {list(mdata.obs.columns[:8])})."
        raise MissingColumnError(msg)
    order = np.lexsort([~mutated[:, j] for j in reversed(range(len(cols)))])
    codes, class_names = _classes(adata, cols, mutated, layer)
    class_rgb = {
        c: to_rgb(CLASS_COLORS.get(name, MUTATED if name == "Mutated" else f"C{k % 10}"))
        for k, (c, name) in enumerate(sorted(class_names.items()))
    }
    image = np.ones((len(cols) + (1 + len(clinical) if clinical else 0), len(order), 3))
    image[: len(cols)] = to_rgb(NOT_MUTATED)
    for c, colour in class_rgb.items():
        image[: len(cols)][(codes == c).T] = colour
    image[: len(cols)][~profiled.T] = to_rgb(NOT_PROFILED)
    image[: len(cols)] = image[: len(cols), order]
    tracks = []
    obs = mdata.obs.reindex(adata.obs_names)
    for k, column in enumerate(clinical):
        rgb, entries = _track_colors(obs[column].iloc[order])
        image[len(cols) + 1 + k] = rgb
        tracks.append((human(column), entries))
    ax = new_axes(ax, figsize=(max(6.0, 0.05 * len(order) + 4), 0.3 * image.shape[0] + 1.5))
    ax.imshow(image, aspect="auto", interpolation="nearest")
    labels = [str(adata.var_names[j]) for j in cols] + ([""] + [name for name, _ in tracks] if clinical else [])
    ticks = [i for i, label in enumerate(labels) if label]
    ax.set_yticks(ticks, [labels[i] for i in ticks])
    ax.set_xticks([])
    for i in range(len(cols)):
        percent = 100 * mutated[:, i].sum() / max(profiled[:, i].sum(), 1)
        ax.text(len(order) - 0.5 + 0.01 * len(order), i, f"{percent:.0f}%", va="center", fontsize="small")
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(f"Patients (n = {len(order)})")
    ax.set_title("Mutation landscape")
    _legend(ax, [(human(class_names[c]), class_rgb[c]) for c in sorted(class_names)], tracks)
    return ax
