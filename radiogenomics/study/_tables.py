"""The report's tables: stored results shown with human column names and numbers formatted by meaning."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..pl._enrich import _ranking_name, set_name
from ._figures import label

if TYPE_CHECKING:
    from mudata import MuData

    from ._schema import Study
    from ._steps import State

__all__ = ["format_table", "report_tables", "validation_table"]

#: column -> header (the package's stored names, see docs/glossary.md)
HEADERS = {
    "metric": "Metric",
    "value": "Estimate",
    "estimate": "Estimate",
    "mean": "Mean",
    "sd": "SD",
    "n_folds": "Folds",
    "repeat_sd": "SD over repeats",
    "fold_mean": "Mean over folds",
    "fold_sd": "SD over folds",
    "averaged_scores": "Averaged scores",
    "p": "p",
    "padj": "Adjusted p",
    "n": "Patients",
    "term": "Term",
    "coef": "Coefficient",
    "hazard_ratio_per_sd": "Hazard ratio per SD",
    "model": "Model",
    "n_terms": "Terms",
    "loglik": "Log-likelihood",
    "aic": "AIC",
    "harrell_c": "Harrell's C",
    "cv_harrell_c": "Cross-validated C",
    "cv_mean": "Cross-validated mean",
    "cv_sd": "Cross-validated SD",
    "test": "Test",
    "statistic": "Statistic",
    "df": "df",
    "factor": "Factor",
    "variable": "Variable",
    "source": "Data",
    "effect": "Effect",
    "note": "Note",
    "ranking": "Ranking",
    "nes": "NES",
    "overlap": "Genes found",
    "setting": "Setting",
}

#: values of ``metric`` / ``test`` / ``model`` columns -> words
VALUES = {
    "harrell_c": "Harrell's C",
    "uno_c": "Uno's C",
    "ibs": "Integrated Brier score",
    "auc": "AUC",
    "balanced_accuracy": "Balanced accuracy",
    "brier": "Brier score",
    "r2": "R²",
    "mann_whitney": "Mann-Whitney",
    "mannwhitneyu": "Mann-Whitney",
    "kruskal": "Kruskal-Wallis",
    "spearman": "Spearman",
    "pearson": "Pearson",
    "cox_per_sd": "Cox (per SD)",
    "likelihood_ratio": "Likelihood-ratio test",
    "base": "Clinical model",
    "full": "Clinical model + radiomic risk score",
}

SOURCES = {"obs": "Clinical", "survival": "Survival", "mut": "Mutations"}
P_COLUMNS = {"p", "padj", "p_fwer", "pvalue", "p_value", "fdr", "qvalue"}
INT_COLUMNS = {"n", "df", "overlap", "n_terms", "n_folds", "n_leading", "set_size"}
_AUC_AT = re.compile(r"^(?:auc|brier)_(\d+(?:\.\d+)?)$")

#: feature-filter parameters shown in the report, in this order
FILTER_ROWS = {
    "n_features_before": "Features before filtering",
    "n_features_after": "Features kept",
    "min_icc": "Minimum ICC (robustness)",
    "max_corr": "Maximum |r| between kept features",
    "correlation": "Correlation used for redundancy",
    "max_missing": "Maximum fraction of missing values",
    "min_variance": "Minimum variance",
    "max_volume_corr": "Maximum |r| with volume",
}


def _value_name(value: object, unit: str) -> str:
    text = str(value)
    match = _AUC_AT.match(text)
    if match:
        kind = "AUC" if text.startswith("auc") else "Brier score"
        return f"{kind} at {float(match.group(1)):.1f} {unit}"
    return VALUES.get(text, text)


def _number(value: object, column: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return str(value)
    if column in P_COLUMNS:  # as in journals: 0.20, 0.032, 0.0012; scientific only below 0.001
        p = float(value)
        return f"{p:.2e}" if p < 1e-3 else f"{p:#.2g}"
    if column in INT_COLUMNS or column.startswith("n_") or isinstance(value, int | np.integer):
        return f"{round(float(value)):d}"
    number = float(value)
    if abs(number) >= 1e4 or (number != 0 and abs(number) < 1e-3):
        return f"{float(value):.3g}"
    return f"{float(value):.3f}"


def _with_ci(frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """``estimate``, ``ci_lower``, ``ci_upper`` -> one column ``0.876 (0.816 to 0.934)``."""
    if not {"ci_lower", "ci_upper"} <= set(frame.columns):
        return frame
    main = next((c for c in ("value", "estimate", "harrell_c", "hazard_ratio") if c in frame.columns), None)
    if main is None:
        return frame
    out = frame.copy()
    out[main] = [
        f"{_number(v, main)} ({_number(lo, main)} to {_number(hi, main)})" if not pd.isna(lo) else _number(v, main)
        for v, lo, hi in zip(frame[main], frame["ci_lower"], frame["ci_upper"], strict=True)
    ]
    out = out.drop(columns=["ci_lower", "ci_upper"])
    return out.rename(columns={main: f"{names.get(main, main)} (95% CI)"})


def format_table(
    frame: pd.DataFrame,
    *,
    index: str | None = None,
    headers: dict[str, str] | None = None,
    unit: str = "months",
    note: str = "",
) -> dict[str, Any]:
    """A stored result as the report shows it: ``{"columns", "rows", "numeric", "note"}``.

    The index becomes a first column named ``index`` (dropped when ``index`` is None and the index
    is a plain range); empty columns are dropped; ``ci_lower``/``ci_upper`` join their estimate;
    p-values are shown in scientific notation, counts as integers, other numbers with 3 decimals;
    headers and metric names are written in words (``auc_6.62`` -> "AUC at 6.6 months").
    """
    shown = frame.copy()
    if index is not None or not isinstance(shown.index, pd.RangeIndex):
        name = index or shown.index.name or "metric"
        shown = shown.rename_axis(name).reset_index()
    shown = shown.loc[:, [c for c in shown.columns if any(_number(v, str(c)) for v in shown[c])]]
    names = {**HEADERS, **(headers or {})}
    shown = _with_ci(shown, names)
    columns, rows = [], []
    for col in shown.columns:
        col_name = str(col)
        values = shown[col]
        if col_name in ("metric", "test", "model"):
            cells = [_value_name(v, unit) for v in values]
        else:
            cells = [_number(v, col_name) for v in values]
        columns.append(names.get(col_name, label(col_name)))
        rows.append(cells)
    numeric = [pd.api.types.is_numeric_dtype(shown[c]) or str(c).endswith("(95% CI)") for c in shown.columns]
    return {"columns": columns, "rows": [list(r) for r in zip(*rows, strict=True)], "numeric": numeric, "note": note}


def _confusion(res: dict, threshold: float, name: str) -> dict[str, Any] | None:
    pred = res.get("predictions")
    if not isinstance(pred, pd.DataFrame) or "score" not in pred:
        return None
    classes = [str(c) for c in res["params"].get("classes", ["False", "True"])]
    if len(classes) != 2:
        return None
    words = {"False": "no", "True": "yes"} if classes == ["False", "True"] else {c: c for c in classes}
    truth = pred["y_true"].astype(str) == classes[1]
    call = pred["score"] >= threshold
    rows = []
    for observed in (False, True):
        sub = truth == observed
        rows.append(
            [f"{name}: {words[classes[observed]]}", str(int((sub & ~call).sum())), str(int((sub & call).sum()))]
        )
    tp, tn = int((truth & call).sum()), int((~truth & ~call).sum())
    sens = tp / max(int(truth.sum()), 1)
    spec = tn / max(int((~truth).sum()), 1)
    columns = [
        "Observed",
        *(f"Predicted {words[c]} (score {op} {threshold:g})" for c, op in zip(classes, "<≥", strict=True)),
    ]
    note = f"Sensitivity {sens:.2f}, specificity {spec:.2f}."
    return {"columns": columns, "rows": rows, "numeric": [False, True, True], "note": note}


def _filter_table(params: dict) -> dict[str, Any]:
    rows = [
        [text, VALUES.get(str(params[key]), _number(params[key], "n" if key.startswith("n_") else key))]
        for key, text in FILTER_ROWS.items()
        if params.get(key) is not None
    ]
    return {"columns": ["Setting", "Value"], "rows": rows, "numeric": [False, True], "note": ""}


def _variable(name: str, study: Study) -> str:
    """``mut:IDH1`` -> ``IDH1 mutation``; ``os_months|os_event`` -> the endpoint's label; else the label."""
    if name.startswith("mut:"):
        return f"{name[4:]} mutation"
    if "|" in name:
        return label(name.split("|")[0], study.labels).split(" (")[0]
    return label(name, study.labels)


def _association_note(res: dict) -> str:
    """How many pairs were tested and how many pass the FDR threshold (BH over all tested pairs)."""
    padj = np.asarray(res["padj"], dtype=float)
    alpha = float(res.get("params", {}).get("alpha", 0.05))
    tested, passed = int(np.isfinite(padj).sum()), int((padj <= alpha).sum())
    x, y = padj.shape
    return (
        f"{passed:,} of {tested:,} tested pairs ({x:,} x {y:,} features) have an adjusted p (Benjamini-Hochberg "
        f"over all tested pairs) of at most {alpha:g}."
    )


def _association_headers(mdata: MuData, study: Study) -> dict[str, str]:
    params = mdata.uns["associate"].get("params", {})
    x, y = (params.get(k, k) for k in ("x", "y"))
    method = str(params.get("method", "")).capitalize()
    return {
        "x_feature": f"{label(str(x), study.labels)} feature",
        "y_feature": f"{label(str(y), study.labels)} feature",
        "r": f"{method} r".strip(),
    }


def report_tables(mdata: MuData, study: Study) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """The tables of each report section: ``section -> [(title, table)]``."""
    from .. import get
    from ._report import SECTIONS

    uns = mdata.uns
    out: dict[str, list] = {s: [] for s, _ in SECTIONS}
    unit = study.report.time_unit
    mod = study.steps.filter.mod if study.steps.filter else "radiomics"
    if mod in mdata.mod and "filter_features" in mdata[mod].uns:
        out["quality"].append(("Feature filter", _filter_table(mdata[mod].uns["filter_features"]["params"])))
    if "associate" in uns:
        top = get.associations(mdata, top=15)
        cols = [c for c in ("x_feature", "y_feature", "r", "p", "padj", "n") if c in top]
        for col in ("x_feature", "y_feature"):  # readable radiomic names; the cohort and R bundle keep the raw ones
            if col in top:
                top[col] = [label(str(v), study.labels) for v in top[col]]
        headers = _association_headers(mdata, study)
        table = format_table(
            top[cols].reset_index(drop=True), headers=headers, note=_association_note(uns["associate"])
        )
        out["associations"].append(("Top 15 pairs by p", table))
    if "factor_associations" in uns:
        res = uns["factor_associations"]["results"].head(12).reset_index(drop=True)
        res["variable"] = [_variable(str(v), study) for v in res["variable"]]
        res["source"] = [SOURCES.get(str(s), label(str(s), study.labels)) for s in res["source"]]
        out["mofa"].append(("Factors and clinical variables", format_table(res)))
    threshold = study.steps.predict.threshold if study.steps.predict else 0.5
    for key in [k for k in uns if k.startswith("predict_")]:
        name = label(str(uns[key]["params"].get("target", key)), study.labels)
        metrics = uns[key]["metrics"].reset_index(drop=True)
        headers = {"averaged_scores": "From scores averaged over repeats", "p": "Permutation p"}
        out["prediction"].append((f"{name}: metrics (nested CV)", format_table(metrics, headers=headers, unit=unit)))
        confusion = _confusion(uns[key], threshold, name)
        if confusion:
            out["prediction"].append((f"{name}: confusion at threshold {threshold:g}", confusion))
    if "signature" in uns:
        perf = format_table(uns["signature"]["performance"], index="metric", unit=unit)
        out["survival"].append(("Signature: cross-validated performance", perf))
        coef = uns["signature"]["coefficients"]
        coef = coef[[c for c in ("coef", "hazard_ratio_per_sd") if c in coef]]
        out["survival"].append(("Signature: selected terms", format_table(coef, index="term")))
    if "compare" in uns:
        res = uns["compare"]
        out["survival"].append(("Added value over the clinical model", format_table(res["models"], index="model")))
        delta = format_table(res["delta_c"].reset_index(drop=True), headers={"estimate": "Change in C"})
        out["survival"].append(("Change in C with the radiomic risk score", delta))
        test = format_table(res["test"], index="test", headers={"statistic": "Chi-square"})
        out["survival"].append(("Likelihood-ratio test", test))
    if "evaluate" in uns and "concordance" in uns["evaluate"]:
        table = format_table(uns["evaluate"]["concordance"], index="metric", unit=unit)
        out["survival"].append(("Discrimination of the out-of-fold risk score", table))
    if "gsea" in uns:
        out["enrichment"].append(("Top gene sets", _gene_set_table(uns["gsea"]["results"], study)))
    return out


def validation_table(state: State, study: Study) -> dict[str, Any] | None:
    """Discrimination of the signature in the external validation cohort, if there is one."""
    vdata = state.validation
    if vdata is None or "evaluate" not in vdata.uns:
        return None
    return format_table(vdata.uns["evaluate"]["concordance"], index="metric", unit=study.report.time_unit)


def _gene_set_table(results: pd.DataFrame, study: Study) -> dict[str, Any]:
    """The 12 gene sets of smallest p, named as in the dot plot; a permutation p of 0 as ``< 1/permutations``."""
    res = results.sort_values("p").head(12).reset_index(drop=True)
    res = res[[c for c in ("ranking", "term", "nes", "p", "padj", "overlap") if c in res]]
    if "ranking" in res:
        res["ranking"] = [label(_ranking_name(str(r)), study.labels) for r in res["ranking"]]  # mofa:1 -> MOFA factor 1
    if "term" in res:  # the names the dot plot shows
        res["term"] = [set_name(str(t)) for t in res["term"]]
    n_perm = study.steps.enrichment.permutations if study.steps.enrichment else None
    if n_perm and "p" in res:  # no permutation as extreme: the p-value is below 1/permutations, not 0
        res["p"] = [f"< {1 / n_perm:.2g}" if p == 0 else p for p in res["p"].astype(float)]
    return format_table(res, headers={"term": "Gene set"})
