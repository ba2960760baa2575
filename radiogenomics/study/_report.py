"""The HTML report: context from the stored results, rendered with Jinja2 from package templates."""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._checklist import checklist
from ._figures import label
from ._methods import methods_text

if TYPE_CHECKING:
    from pathlib import Path

    from mudata import MuData

    from ._figures import Figure
    from ._schema import Study
    from ._steps import State

__all__ = ["render_report"]

SECTIONS = [
    ("cohort", "Cohort and pairing"),
    ("quality", "Feature quality"),
    ("associations", "Radiogenomic associations"),
    ("mofa", "Multi-omics factors (MOFA+)"),
    ("prediction", "Prediction of molecular status"),
    ("survival", "Survival signature"),
    ("enrichment", "Pathway enrichment"),
]


WIDE = {"assoc_heatmap", "nomogram"}


def _table(frame: pd.DataFrame, digits: int = 3, *, index: bool = True) -> str:
    shown = frame.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(
                lambda v: "" if pd.isna(v) else (f"{v:.2e}" if 0 < abs(v) < 10**-digits else f"{v:.{digits}f}")
            )
    return shown.to_html(index=index, classes="data", border=0, na_rep="", escape=True)


def _flow(mdata: MuData, study: Study) -> dict[str, Any]:
    """CONSORT-style flow: input IDs per source, the paired cohort, then patients per analysis."""
    from .. import get

    sources = []
    if "pairing" in mdata.uns:
        pairing = get.pairing(mdata)
        for mod, sub in pairing.groupby("modality", sort=False):
            reasons = sub.loc[sub["status"] != "kept", "reason"].value_counts()
            sources.append(
                {
                    "name": label(str(mod), study.labels),
                    "n_input": len(sub),
                    "n_kept": int((sub["status"] == "kept").sum()),
                    "dropped": [(str(r), int(n)) for r, n in reasons.items()],
                }
            )
    analyses = []
    uns = mdata.uns
    for key in [k for k in uns if k.startswith("predict_")]:
        params, excluded = uns[key]["params"], uns[key].get("excluded")
        reasons = (
            excluded["reason"].value_counts()
            if isinstance(excluded, pd.DataFrame) and len(excluded)
            else pd.Series(dtype=int)
        )
        analyses.append(
            {
                "name": f"Prediction of {label(str(uns[key]['params'].get('target', key)), study.labels)}",
                "n": int(params.get("n_patients", 0)),
                "dropped": [(str(r), int(n)) for r, n in reasons.items()],
            }
        )
    if "signature" in uns:
        p = uns["signature"]["params"]
        n_all = mdata.n_obs
        n = int(p.get("n_patients", 0))
        analyses.append(
            {
                "name": "Survival signature",
                "n": n,
                "dropped": [("no follow-up or no feature values", n_all - n)] if n_all > n else [],
                "extra": f"{int(p.get('n_events', 0))} events",
            }
        )
    if "associate" in uns:
        res = uns["associate"]["results"]
        analyses.append(
            {
                "name": "Associations",
                "n": int(res["n"].max()) if len(res) else 0,
                "dropped": [],
                "extra": "patients with both modalities (most per pair)",
            }
        )
    if "mofa" in uns:
        analyses.append(
            {
                "name": "MOFA+",
                "n": int(mdata.obsm["X_mofa"].shape[0]),
                "dropped": [],
                "extra": "all patients (missing views allowed)",
            }
        )
    return {"sources": sources, "n_cohort": mdata.n_obs, "analyses": analyses}


def _confusion(res: dict, threshold: float) -> str | None:
    pred = res.get("predictions")
    if not isinstance(pred, pd.DataFrame) or "score" not in pred:
        return None
    classes = [str(c) for c in res["params"].get("classes", ["False", "True"])]
    if len(classes) != 2:
        return None
    truth = pred["y_true"].astype(str) == classes[1]
    call = pred["score"] >= threshold
    names = {True: classes[1], False: classes[0]}
    table = pd.crosstab(truth.map(names), call.map(names))
    table.index.name, table.columns.name = "observed", f"predicted (score >= {threshold:g})"
    tp, tn = int((truth & call).sum()), int((~truth & ~call).sum())
    sens = tp / max(int(truth.sum()), 1)
    spec = tn / max(int((~truth).sum()), 1)
    return _table(table) + f"<p class='note'>Sensitivity {sens:.2f}, specificity {spec:.2f}.</p>"


def _tables(mdata: MuData, study: Study) -> dict[str, list[tuple[str, str]]]:
    from .. import get

    uns, out = mdata.uns, {s: [] for s, _ in SECTIONS}
    mod = study.steps.filter.mod if study.steps.filter else "radiomics"
    if mod in mdata.mod and "filter_features" in mdata[mod].uns:
        params = mdata[mod].uns["filter_features"]["params"]
        kept = {k: v for k, v in params.items() if isinstance(v, int | float | str) and not isinstance(v, bool)}
        out["quality"].append(("Feature filter", _table(pd.Series(kept, name="value").to_frame())))
    if "associate" in uns:
        top = get.associations(mdata, top=15)
        cols = [c for c in ("x_feature", "y_feature", "r", "p", "padj", "n") if c in top]
        out["associations"].append(("Top 15 pairs", _table(top[cols], index=False)))
    if "factor_associations" in uns:
        res = uns["factor_associations"]["results"].head(12)
        out["mofa"].append(("Factors and clinical variables", _table(res, index=False)))
    threshold = study.steps.predict.threshold if study.steps.predict else 0.5
    for key in [k for k in uns if k.startswith("predict_")]:
        name = label(str(uns[key]["params"].get("target", key)), study.labels)
        out["prediction"].append((f"{name}: metrics (nested CV)", _table(uns[key]["metrics"])))
        confusion = _confusion(uns[key], threshold)
        if confusion:
            out["prediction"].append((f"{name}: confusion at threshold {threshold:g}", confusion))
    if "signature" in uns:
        out["survival"].append(("Signature: cross-validated performance", _table(uns["signature"]["performance"])))
        coef = uns["signature"]["coefficients"]
        out["survival"].append(
            ("Signature: selected terms", _table(coef[[c for c in ("coef", "hazard_ratio_per_sd") if c in coef]]))
        )
    if "compare" in uns:
        out["survival"].append(
            (
                "Added value over the clinical model",
                _table(uns["compare"]["models"])
                + _table(uns["compare"]["delta_c"], index=False)
                + _table(uns["compare"]["test"], index=False),
            )
        )
    if "evaluate" in uns and "concordance" in uns["evaluate"]:
        out["survival"].append(("Discrimination", _table(uns["evaluate"]["concordance"])))
    if "gsea" in uns:
        res = uns["gsea"]["results"].sort_values("p").head(12)
        cols = [c for c in ("ranking", "term", "nes", "p", "padj", "overlap") if c in res]
        out["enrichment"].append(("Top gene sets", _table(res[cols], index=False)))
    return out


def _validation(state: State, study: Study) -> str | None:
    vdata = state.validation
    if vdata is None or "evaluate" not in vdata.uns:
        return None
    return _table(vdata.uns["evaluate"]["concordance"])


def _figure_html(fig: Figure, folder: Path) -> dict[str, str]:
    data = base64.b64encode((folder / fig.png).read_bytes()).decode()
    return {
        "id": fig.id,
        "title": html.escape(fig.title),
        "caption": html.escape(fig.caption),
        "src": f"data:image/png;base64,{data}",
        "svg": fig.svg,
        "wide": fig.id in WIDE,
    }


def render_report(study: Study, state: State, figures: list[Figure], run_info: dict, out: Path) -> Path:
    """Render ``report.html`` (self-contained: inline CSS, figures as base64 PNG, no external resource)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    mdata = state.mdata
    env = Environment(
        loader=PackageLoader("radiogenomics.study", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    by_section = {s: [] for s, _ in SECTIONS}
    for fig in figures:
        by_section.setdefault(fig.section, []).append(_figure_html(fig, out / "figures"))
    tables = _tables(mdata, study)
    sections = [
        {"id": sid, "title": title, "figures": by_section.get(sid, []), "tables": tables.get(sid, [])}
        for sid, title in SECTIONS
    ]
    sections = [s for s in sections if s["figures"] or s["tables"] or s["id"] == "cohort"]
    context = {
        "title": study.report.title or study.name,
        "authors": study.report.authors,
        "run": run_info,
        "flow": _flow(mdata, study),
        "sections": sections,
        "methods": methods_text(study, mdata),
        "checklist": checklist(study, state),
        "validation": _validation(state, study),
        "notes": [n for r in run_info["steps"] for n in (f"{r['name']}: {w}" for w in r.get("warnings", []))][:40],
        "n_patients": mdata.n_obs,
        "modalities": [(label(m, study.labels), a.n_obs, a.n_vars) for m, a in mdata.mod.items()],
        "np": np,
    }
    text = env.get_template("report.html.j2").render(**context)
    path = out / "report.html"
    path.write_text(text, encoding="utf-8")
    return path
