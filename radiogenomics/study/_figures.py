"""Figures of a study report: drawn with ``rg.pl`` from the stored results, labelled for publication."""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from matplotlib.axes import Axes
    from matplotlib.typing import RcKeyType
    from mudata import MuData

    from ._schema import Study

    # (id, section, title, caption, draw on an Axes, size in inches)
    FigureSpec = tuple[str, str, str, str, Callable[[Axes], Any], tuple[float, float]]

__all__ = ["Figure", "label", "make_figures"]

DEFAULT_LABELS = {
    "os_months": "Overall survival (months)",
    "os_event": "Death",
    "pfs_months": "Progression-free survival (months)",
    "age": "Age (years)",
    "grade": "WHO grade",
    "idh_mutant": "IDH mutant",
    "codel_1p19q": "1p/19q codeletion",
    "mgmt_methylated": "MGMT methylated",
    "kps": "Karnofsky score",
    "sex": "Sex",
    "site": "Site",
    "study": "Study",
    "risk_score_cv": "Radiomic risk score",
    "risk_score": "Radiomic risk score",
    "risk_score_cv_group": "Radiomic risk group",
    "radiomics": "Radiomics",
    "rna": "Expression",
    "mut": "Mutations",
    "clinical": "Clinical",
}


# BraTS sub-regions and MR sequences of the TCIA glioma features (Bakas et al., Sci Data 2017)
_REGIONS = {
    "ET": "enhancing tumour",
    "NET": "necrotic/non-enhancing core",
    "ED": "oedema",
    "TC": "tumour core",
    "WT": "whole tumour",
}
_SEQUENCES = {"T1": "T1", "T1Gd": "T1-Gd", "T2": "T2", "FLAIR": "FLAIR"}
# pyradiomics feature classes (van Griethuysen et al., Cancer Res 2017)
_CLASSES = {"firstorder": "first-order", "shape": "shape", "shape2D": "2D shape"}
_BRATS = re.compile(r"^(TEXTURE|INTENSITY)_(\w+?)_(ET|NET|ED|TC|WT)_(T1Gd|T1|T2|FLAIR)(?:_(\w+))?$")
_PYRADIOMICS = re.compile(
    r"^(?:(?P<prefix>.+?)_)?(?P<image>original|wavelet-[HL]{2,3}|log-sigma-[\d-]+mm-[23]D|square|squareroot|logarithm"
    r"|exponential|gradient|lbp-2D|lbp-3D-\w+)_(?P<cls>shape|shape2D|firstorder|glcm|glrlm|glszm|gldm|ngtdm)"
    r"_(?P<feature>[A-Za-z0-9]+)$"
)


def radiomic_label(name: str) -> str | None:
    """Readable name of a pyradiomics or BraTS (TCIA glioma) feature, or ``None`` for other names.

    Examples
    --------
    >>> radiomic_label("original_glcm_Contrast")
    'GLCM Contrast'
    >>> radiomic_label("wavelet-LLH_firstorder_Mean")
    'First-order Mean (wavelet-LLH)'
    >>> radiomic_label("CT_tumour_original_shape_Elongation")
    'Shape Elongation (CT tumour)'
    >>> radiomic_label("TEXTURE_GLSZM_ET_T1Gd_LZE")
    'GLSZM LZE (enhancing tumour, T1-Gd)'
    >>> radiomic_label("VOLUME_ET_over_TC")
    'Volume ratio enhancing tumour / tumour core'
    >>> radiomic_label("age") is None
    True
    """
    brats = _BRATS.match(name)
    if brats:
        kind, first, region, sequence, last = brats.groups()
        where = f"{_REGIONS[region]}, {_SEQUENCES[sequence]}"
        if kind == "TEXTURE" and last:
            family = "Global" if first == "GLOBAL" else first
            return f"{family} {last} ({where})"
        if kind == "INTENSITY" and last is None:
            return f"Intensity {first.lower() if first != 'STD' else 'SD'} ({where})"
    histo = re.match(r"^HISTO_(ET|NET|ED|TC|WT)_(T1Gd|T1|T2|FLAIR)_Bin(\d+)$", name)
    if histo:
        region, sequence, k = histo.groups()
        return f"Histogram bin {k} ({_REGIONS[region]}, {_SEQUENCES[sequence]})"
    regions = {**_REGIONS, "BRAIN": "brain"}
    volume = re.match(r"^VOLUME_(ET|NET|ED|TC|WT|BRAIN)(?:_over_(ET|NET|ED|TC|WT|BRAIN))?$", name, re.IGNORECASE)
    if volume:
        a, b = (g.upper() if g else g for g in volume.groups())
        return f"Volume ratio {regions[a]} / {regions[b]}" if b else f"Volume ({regions[a]})"
    shape = re.match(r"^(ECCENTRICITY|SOLIDITY|DIST_Vent)_(ET|NET|ED|TC|WT)$", name)
    if shape:
        kind, region = shape.groups()
        text = {"ECCENTRICITY": "Eccentricity", "SOLIDITY": "Solidity", "DIST_Vent": "Distance to ventricles"}[kind]
        return f"{text} ({_REGIONS[region]})"
    radiomics = _PYRADIOMICS.match(name)
    if radiomics:
        prefix, image, cls, feature = radiomics.group("prefix", "image", "cls", "feature")
        family = _CLASSES.get(cls, cls.upper())
        parts = [p for p in ((prefix or "").replace("_", " "), "" if image == "original" else image) if p]
        text = f"{family[:1].upper()}{family[1:]} {feature}"
        return f"{text} ({', '.join(parts)})" if parts else text
    return None


def label(name: str, labels: dict[str, str] | None = None) -> str:
    """Human label of a column or key: study ``labels``, defaults, radiomic feature names, then words."""
    labels = labels or {}
    if name in labels:
        return labels[name]
    if name in DEFAULT_LABELS:
        return DEFAULT_LABELS[name]
    if ":" in name:
        return name.split(":", 1)[1]
    readable = radiomic_label(name)
    if readable is not None:
        return readable
    if "_" in name and name.islower():
        return name.replace("_", " ").capitalize()
    return name


@dataclass
class Figure:
    """One figure of the report."""

    id: str
    section: str
    title: str
    caption: str
    png: str = ""
    svg: str = ""


def _relabel(ax: Axes, labels: dict[str, str]) -> None:
    """Replace raw column names in an axes' texts with their labels.

    Exact matches, ``name [level vs reference]`` terms, ``a + b`` combinations, and names with an
    underscore inside a longer text (e.g. ``gene rank in risk_score_cv``).
    """
    pattern = re.compile(r"^([A-Za-z0-9_]+) ?(\[.*\])?$")  # name, or a term "name [level vs reference]"
    known = {**DEFAULT_LABELS, **labels}
    names = sorted((n for n in known if "_" in n), key=len, reverse=True)
    inner = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b") if names else None

    def fix(text: str) -> str:
        if " + " in text:
            return " + ".join(fix(part) for part in text.split(" + "))
        match = pattern.match(text.strip())
        if match and (match.group(1) in known or radiomic_label(match.group(1)) is not None):
            return label(match.group(1), labels) + (match.group(2) or "").replace("[", " (").replace("]", ")")
        return inner.sub(lambda m: label(m.group(1), labels), text) if inner else text

    def capital(text: str) -> str:
        return text[:1].upper() + text[1:] if text[:1].islower() else text

    ax.set_xlabel(capital(fix(ax.get_xlabel())))
    ax.set_ylabel(capital(fix(ax.get_ylabel())))
    ax.set_title(capital(fix(ax.get_title())))
    for axis in (ax.xaxis, ax.yaxis):
        ticks = axis.get_ticklabels()
        if ticks and any(t.get_text() for t in ticks):
            new = [fix(t.get_text()) for t in ticks]
            if new != [t.get_text() for t in ticks]:
                axis.set_ticks(axis.get_ticklocs(), new)
    legend = ax.get_legend()
    if legend is not None:
        for text in legend.get_texts():
            text.set_text(fix(text.get_text()))
        if legend.get_title().get_text():
            legend.set_title(fix(legend.get_title().get_text()))


# figure id (``roc`` for every ``roc_<target>``) -> section, title, caption, size in inches
_TEXT = {
    "pairing": ("cohort", "Patients per modality", "Number of patients with each combination of data types.", (6, 3.6)),
    "icc": (
        "quality",
        "Feature robustness",
        "Distribution of the intraclass correlation of each feature under perturbation of image and mask.",
        (5, 3.5),
    ),
    "harmonization": (
        "quality",
        "Batch effect before and after ComBat",
        "First principal components of the radiomic features, coloured by batch.",
        (5, 4),
    ),
    "assoc_heatmap": (
        "associations",
        "Strongest radiogenomic associations",
        "Correlations of the top pairs (rows and columns clustered).",
        (7, 6),
    ),
    "volcano": (
        "associations",
        "Association volcano plot",
        "Correlation against -log10 p for every tested pair; the dashed line marks FDR 5% (when any pair passes it).",
        (5.5, 4.5),
    ),
    "mofa_variance": (
        "mofa",
        "Variance explained by MOFA+ factors",
        "Fraction of variance of each modality explained by each factor.",
        (6, 3.5),
    ),
    "mofa_scatter": ("mofa", "Patients on the first two factors", "", (5, 4.2)),
    "roc": (
        "prediction",
        "",
        "Out-of-fold ROC curve of the nested cross-validation with the 95% CI of the AUC.",
        (4.5, 4.2),
    ),
    "km": ("survival", "Survival by radiomic risk group", "", (6, 4.6)),
    "time_auc": ("survival", "Time-dependent AUC", "Cumulative/dynamic AUC of the out-of-fold risk score.", (5, 3.8)),
    "calibration": (
        "survival",
        "Calibration",
        "Predicted against observed risk of the event by risk group.",
        (4.5, 4.2),
    ),
    "decision_curve": (
        "survival",
        "Decision curve",
        "Net benefit of treating by predicted risk against treat-all and treat-none.",
        (5, 3.8),
    ),
    "forest": (
        "survival",
        "Multivariable Cox model",
        "Hazard ratios with 95% CI; categorical covariates against their reference level.",
        (6, 3.5),
    ),
    "nomogram": ("survival", "Nomogram", "Points per covariate, total points and predicted survival.", (9, 4.5)),
    "gsea_dot": (
        "enrichment",
        "Pathway enrichment",
        "Normalised enrichment score (colour) of the top gene sets per ranking; size = -log10 FDR.",
        (7, 5),
    ),
    "gsea_running": ("enrichment", "", "", (5.5, 4)),
}


def _specs(mdata: MuData, study: Study) -> list[FigureSpec]:
    """``(id, section, title, caption, draw, size)`` for every figure whose results exist."""
    from functools import partial

    from .. import pl
    from ..pl._enrich import _ranking_name, set_name

    uns, labels = mdata.uns, study.labels
    stored = set(uns) | ({"harmonize"} if any("harmonize" in a.uns for a in mdata.mod.values()) else set())
    threshold = study.steps.filter.min_icc if study.steps.filter else None
    targets = study.steps.predict.targets if study.steps.predict else []
    color = next((t for t in targets if t in mdata.obs), None)
    at_risk = study.report.min_at_risk
    # (stored key, figure id, plot drawn as plot(mdata, ax=ax), what differs from _TEXT)
    plots: list[tuple[str | None, str, Callable, dict]] = [
        (None, "pairing", pl.pairing, {}),
        ("robustness", "icc", lambda m, ax: pl.icc_distribution(m.uns["robustness"], threshold=threshold, ax=ax), {}),
        ("harmonize", "harmonization", pl.harmonization_pca, {}),
        ("associate", "assoc_heatmap", partial(pl.associate_heatmap, top=20), {}),
        ("associate", "volcano", partial(pl.volcano, labels=_feature_labels(uns.get("associate"), labels)), {}),
        ("mofa", "mofa_variance", pl.mofa_variance, {}),
        ("mofa", "mofa_scatter", partial(pl.factor_scatter, x=1, y=2, color=color), {"caption": "Not coloured."}),
    ]
    if color:
        plots[-1][3]["caption"] = f"Coloured by {label(color, labels)}."
    for key in [k for k in uns if k.startswith("predict_")]:
        target = uns[key]["params"].get("target", key.removeprefix("predict_"))
        title = f"ROC: {label(target, labels)}"
        plots.append((key, f"roc_{key.removeprefix('predict_')}", partial(pl.roc, key=key), {"title": title}))
    method: str = study.steps.evaluate.cutpoint if study.steps.evaluate else "median"
    cut = {"maxstat": "maximally selected log-rank cut-point"}.get(method, method)
    caption = (
        f"Patients split at the {cut} of the out-of-fold risk score; Kaplan-Meier curves with 95% CI; "
        f"numbers at risk shown while at least {at_risk} patients remain."
    )
    plots.append(
        ("kaplan_meier", "km", partial(_km, unit=study.report.time_unit, min_at_risk=at_risk), {"caption": caption})
    )
    plots += [("evaluate", fid, getattr(pl, fid), {}) for fid in ("time_auc", "calibration", "decision_curve")]
    plots += [("cox", "forest", pl.forest, {}), ("nomogram", "nomogram", pl.nomogram, {})]
    if "gsea" in uns and len(uns["gsea"]["results"]):
        res = uns["gsea"]["results"]
        best = res.sort_values("p").iloc[0]
        n_sets, n_rankings = min(12, res["term"].nunique()), res["ranking"].nunique()
        size = (min(9, 5 + 0.5 * n_rankings), 1.8 + 0.42 * n_sets)  # grows with the sets and rankings shown
        plots.append(("gsea", "gsea_dot", partial(pl.enrichment_dotplot, key="gsea", top=12), {"size": size}))
        ranking, term = str(best["ranking"]), str(best["term"])
        text = {"title": f"Running score: {set_name(term)}"}
        text["caption"] = (
            f"Running enrichment score of the top gene set along the ranking by {label(_ranking_name(ranking), labels)}"
        )
        stats = [f"{k} {best[c]:.2g}" for k, c in (("NES", "nes"), ("p", "p"), ("FDR", "padj")) if c in best]
        if "padj" in best and not best["padj"] <= 0.25:  # a reader must not take the top set for a finding
            stats.append("no gene set reaches FDR 0.25")
        text["caption"] += f" ({'; '.join(stats)})." if stats else "."
        plots.append(("gsea", "gsea_running", partial(pl.gsea_running_score, ranking=ranking, term=term), text))
    specs: list[FigureSpec] = []
    for key, fid, plot, differs in plots:
        if key is None or key in stored:
            section, title, caption, size = _TEXT[fid.split("_")[0] if fid.startswith("roc_") else fid]
            title, caption = differs.get("title", title), differs.get("caption", caption)
            size = differs.get("size", size)
            draw = partial(lambda ax, plot: plot(mdata, ax=ax), plot=plot)
            specs.append((fid, section, title, caption, draw, size))
    return specs


def _km(mdata: MuData, *, ax: Axes, unit: str, min_at_risk: int) -> Axes:
    from .. import pl

    pl.kaplan_meier(mdata, ax=ax, min_at_risk=min_at_risk)
    ax.set_xlabel(f"Time ({unit})")
    return ax


def _feature_labels(result: dict | None, labels: dict[str, str]) -> dict[str, str]:
    """Readable names of the x and y features of an association map (the study's labels first)."""
    if result is None:
        return {}
    names = (str(f) for side in ("x_features", "y_features") for f in result.get(side, []))
    readable = {n: labels.get(n) or radiomic_label(n) for n in names}
    return {n: text for n, text in readable.items() if text}


def make_figures(mdata: MuData, study: Study, folder: Path) -> list[Figure]:
    """Draw every figure whose results exist; write ``<id>.png`` and ``<id>.svg`` into ``folder``.

    Returns the figures with their file names (``png``/``svg`` relative to ``folder``); a figure
    that fails to draw is left out with a ``UserWarning`` naming it and the error.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure as MplFigure

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    style: dict[RcKeyType, Any] = {
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "svg.fonttype": "none",
        "svg.hashsalt": "radiogenomics",
    }
    for fid, section, title, caption, draw, size in _specs(mdata, study):
        with mpl.rc_context(style):
            fig = MplFigure(figsize=size, layout="constrained")
            ax = fig.add_subplot()
            try:
                draw(ax)
            except Exception as err:  # noqa: BLE001 (a report still renders when one figure cannot)
                warnings.warn(
                    f"report figure '{fid}' not drawn: {type(err).__name__}: {err}", UserWarning, stacklevel=2
                )
                continue
            for each in fig.axes:
                _relabel(each, study.labels)
            fig.savefig(folder / f"{fid}.png", dpi=150)  # always: the report embeds it
            for fmt in [f for f in study.report.figure_formats if f != "png"]:
                fig.savefig(
                    folder / f"{fid}.{fmt}", metadata={"Date": None} if fmt == "svg" else {"CreationDate": None}
                )
        vector = next((f for f in study.report.figure_formats if f != "png"), "png")
        out.append(Figure(fid, section, title, caption, f"{fid}.png", f"{fid}.{vector}"))
    (folder / "figures.json").write_text(json.dumps([asdict(f) for f in out], indent=1))
    return out
