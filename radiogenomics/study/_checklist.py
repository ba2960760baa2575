"""Reporting checklist (TRIPOD+AI, CLEAR, RQS items) filled in from what the run did."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._figures import label

if TYPE_CHECKING:
    from ._schema import Study
    from ._steps import State

__all__ = ["checklist"]

MET, NOT_MET, NA = "met", "not met", "not applicable"
EVENTS_PER_TERM = 10  # the classic minimum of events per candidate predictor (Peduzzi 1996; Riley et al. BMJ 2020)


def _item(framework: str, item: str, status: str, evidence: str) -> dict[str, str]:
    return {"framework": framework, "item": item, "status": status, "evidence": evidence}


def _models(study: Study, state: State) -> list[dict[str, str]]:
    uns, st, out = state.cohort.uns, study.steps, []
    has_model = st.signature is not None or st.predict is not None
    if st.signature is not None and "signature" in uns:
        p = uns["signature"]["params"]
        n_features = len(uns["signature"].get("selection", []))
        n_events = int(p.get("n_events") or 0)
        per_term = n_events / max(n_features, 1)
        out.append(
            _item(
                "TRIPOD+AI 8",
                "Sample size: events per candidate term",
                MET if per_term >= EVENTS_PER_TERM else NOT_MET,
                f"{p.get('n_patients')} patients, {n_events} events, {n_features} candidate terms: "
                f"{per_term:.2g} events per candidate term"
                + (
                    ""
                    if per_term >= EVENTS_PER_TERM
                    else f" (below {EVENTS_PER_TERM}; penalised selection and resampling reduce but do not remove "
                    "overfitting; justify the size, e.g. Riley et al. 2020, or use fewer candidates)"
                ),
            )
        )
    folds = []
    if st.signature is not None:
        folds.append(f"signature: {st.signature.cv}-fold x {st.signature.repeats} outer CV, penalty tuned inside")
    if st.predict is not None:
        folds.append(
            f"prediction: {st.predict.cv}-fold x {st.predict.repeats} outer CV, {st.predict.inner_cv}-fold inner tuning"
        )
    out.append(
        _item(
            "TRIPOD+AI 12",
            "Internal validation by resampling (nested CV)",
            MET if folds else NA,
            "; ".join(folds) or "no model fitted",
        )
    )
    out.append(
        _item(
            "CLEAR 35",
            "Feature selection and scaling inside training folds (no leakage)",
            MET if has_model else NA,
            "selection, scaling and tuning are refitted in every outer training fold"
            if has_model
            else "no model fitted",
        )
    )
    disc = []
    if "evaluate" in uns:
        disc.append("Harrell's C and time-dependent AUC with bootstrap CI")
    disc.extend(
        f"AUC with 95% CI for {label(str(uns[k]['params'].get('target', k)), study.labels)}"
        for k in uns
        if k.startswith("predict_")
    )
    out.append(
        _item(
            "TRIPOD+AI 23",
            "Discrimination reported with confidence intervals",
            MET if disc else (NOT_MET if has_model else NA),
            "; ".join(disc) or "no evaluate step",
        )
    )
    evaluated = "evaluate" in uns
    for framework, item, evidence in (
        ("TRIPOD+AI 23", "Calibration reported", _calibration_evidence(uns)),
        ("TRIPOD+AI 12", "Clinical utility (decision curve)", "decision curve against treat-all/none"),
    ):
        status = MET if evaluated else (NOT_MET if st.signature else NA)
        out.append(_item(framework, item, status, evidence if evaluated else "add the evaluate step"))
    if state.validation is not None and "evaluate" in state.validation.uns:
        out.append(
            _item(
                "TRIPOD+AI 12",
                "External validation",
                MET,
                f"signature applied unchanged to an external cohort of {state.validation.n_obs} patients",
            )
        )
    else:
        out.append(
            _item(
                "TRIPOD+AI 12",
                "External validation",
                NOT_MET if has_model else NA,
                "no external validation cohort (inputs.validation)" if has_model else "no model fitted",
            )
        )
    added = st.compare is not None and "compare" in uns
    out.append(
        _item(
            "RQS 4",
            "Multivariable analysis with non-radiomic features; added value over the clinical model",
            MET if added else (NOT_MET if st.signature else NA),
            f"clinical model: {', '.join(label(c, study.labels) for c in st.compare.clinical)}; likelihood-ratio test and change in C"
            if added and st.compare is not None
            else "add the compare step",
        )
    )
    cut = st.evaluate is not None
    out.append(
        _item(
            "RQS 6",
            "Cut-off analysis",
            MET if cut else NA,
            f"risk groups at the {st.evaluate.cutpoint} of the out-of-fold score"
            if st.evaluate is not None
            else "no risk groups",
        )
    )
    return out


def _calibration_evidence(uns) -> str:
    """The calibration slope with its CI and what it says (1 = ideal; below 1 = too extreme, above 1 = too modest)."""
    table = uns.get("evaluate", {}).get("calibration_slope")
    if table is None or not len(table):
        return "calibration plot by risk group"
    row = table.iloc[0]
    slope, lo, hi = float(row["slope"]), float(row["ci_lower"]), float(row["ci_upper"])
    if lo <= 1 <= hi:
        verdict = "consistent with 1"
    else:
        verdict = "predictions too extreme (overfitting)" if hi < 1 else "predictions too modest (underfitting)"
    return f"calibration plot by risk group; calibration slope {slope:.2f} (95% CI {lo:.2f} to {hi:.2f}): {verdict}"


def checklist(study: Study, state: State) -> list[dict[str, str]]:
    """Items of TRIPOD+AI, CLEAR and RQS that a run can document, each met / not met / not applicable.

    Returns dicts with ``framework`` (and item number), ``item``, ``status`` and ``evidence``.
    """
    mdata, st, out = state.cohort, study.steps, []
    pairing = "pairing" in mdata.uns
    out.append(
        _item(
            "TRIPOD+AI 20",
            "Flow of participants (kept and excluded, with reasons)",
            MET if pairing else NOT_MET,
            f"{mdata.n_obs} patients in the cohort; every input ID and exclusion listed (flow diagram)"
            if pairing
            else "no pairing table",
        )
    )
    endpoint = st.signature.endpoint if st.signature else None
    if endpoint:
        has = f"{endpoint}_months" in mdata.obs and f"{endpoint}_event" in mdata.obs
        out.append(
            _item(
                "TRIPOD+AI 6",
                "Outcome defined (time and event)",
                MET if has else NOT_MET,
                f"{label(f'{endpoint}_months', study.labels)}, {int(mdata.obs[f'{endpoint}_event'].sum()) if has else 0} events",
            )
        )
    extracted = st.extract is not None
    out.append(
        _item(
            "CLEAR 14-20",
            "Image processing and extraction settings reported",
            MET if extracted else NA,
            "PyRadiomics parameters stored in uns['extraction'] and run.json"
            if extracted
            else "features supplied as a table; settings are those of its source",
        )
    )
    step_items = (
        ("RQS 2 / CLEAR 32", "Feature robustness (perturbation / test-retest)", "robustness",
         lambda r: f"ICC over {r.n_perturbations} perturbations"),
        ("CLEAR 21", "Harmonisation of batch or scanner effects", "harmonize",
         lambda h: f"ComBat across {h.batch_key}"),
    )  # fmt: skip
    for framework, item, step, evidence in step_items:
        params = getattr(st, step)
        out.append(_item(framework, item, *((MET, evidence(params)) if params else (NOT_MET, f"no {step} step"))))
    out.append(
        _item(
            "CLEAR 33 / RQS 3",
            "Redundancy and dimensionality reduction",
            MET if (st.filter or st.signature) else NOT_MET,
            "correlation filter" if st.filter else ("penalised selection (LASSO)" if st.signature else "none"),
        )
    )
    out.extend(_models(study, state))
    bio = [s for s in ("associate", "enrichment", "mofa") if getattr(st, s) is not None]
    out.append(
        _item(
            "RQS 7",
            "Biological correlates of the radiomic features",
            MET if bio else NOT_MET,
            ", ".join(bio) or "no association, MOFA or enrichment step",
        )
    )
    out.append(
        _item(
            "TRIPOD+AI 18 / RQS 16",
            "Open science: code, parameters and data shared",
            MET,
            "run.json (versions, seeds, input hashes), R bundle (load.R), .h5mu",
        )
    )
    return out
