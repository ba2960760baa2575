"""The HTML report: context from the stored results, rendered with Jinja2 from package templates."""

from __future__ import annotations

import base64
import html
import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._checklist import checklist
from ._figures import label
from ._methods import methods_text
from ._tables import report_tables, validation_table

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
    ("prediction", "Prediction from radiomic features"),
    ("survival", "Survival signature"),
    ("enrichment", "Pathway enrichment"),
]


WIDE = {"assoc_heatmap", "nomogram"}


def _reason(text: str, study: Study) -> str:
    """A pairing reason in words (``not in cohort: patient has no 'radiomics' data (how=...)`` -> ``no Radiomics data``)."""
    text = re.sub(r" \(how='[^']*'\)", "", text)
    text = re.sub(
        r"^not in cohort: patient has no '([^']+)' data",
        lambda m: f"not in the cohort: no {label(m.group(1), study.labels)} data",
        text,
    )
    return text


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
                    "dropped": [(_reason(str(r), study), int(n)) for r, n in reasons.items()],
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


def _notes(steps: list[dict]) -> list[tuple[str, str]]:
    """The package's notes about the data, each text once with the steps that gave it.

    A leading ``function: `` is dropped, so that the same exclusion reported by several
    functions (``cox: 1 of 167 patients ...``, ``kaplan_meier: 1 of 167 ...``) is one line.
    """
    by_text: dict[str, list[str]] = {}
    for record in steps:
        for text in record.get("warnings", []):
            text = re.sub(r"^(?:UserWarning: )?[a-z_]+: ", "", text)
            names = by_text.setdefault(text, [])
            if record["name"] not in names:
                names.append(record["name"])
    return [(", ".join(names), text) for text, names in by_text.items()]


def _figure_html(fig: Figure, folder: Path) -> dict[str, Any]:
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

    mdata = state.cohort
    env = Environment(
        loader=PackageLoader("radiogenomics.study", "templates"), autoescape=select_autoescape(["html", "j2"])
    )
    by_section: dict[str, list] = {s: [] for s, _ in SECTIONS}
    for fig in figures:
        by_section.setdefault(fig.section, []).append(_figure_html(fig, out / "figures"))
    tables = report_tables(mdata, study)
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
        "validation": validation_table(state, study),
        "notes": _notes(run_info["steps"])[:40],
        "n_patients": mdata.n_obs,
        "modalities": [(label(m, study.labels), a.n_obs, a.n_vars) for m, a in mdata.mod.items()],
    }
    text = env.get_template("report.html.j2").render(**context)
    path = out / "report.html"
    path.write_text(text, encoding="utf-8")
    return path
