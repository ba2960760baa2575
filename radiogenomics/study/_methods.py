"""A methods paragraph written from the study's parameters, with the references of the methods used."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._figures import label

if TYPE_CHECKING:
    from collections.abc import Callable

    from mudata import MuData

    from ._schema import Study

__all__ = ["REFERENCES", "methods_text"]

REFERENCES = {
    "pyradiomics": "van Griethuysen JJM, et al. Computational radiomics system to decode the radiographic phenotype. Cancer Res 77(21):e104-e107 (2017).",
    "ibsi": "Zwanenburg A, et al. The Image Biomarker Standardization Initiative. Radiology 295(2):328-338 (2020).",
    "icc": "Shrout PE, Fleiss JL. Intraclass correlations: uses in assessing rater reliability. Psychol Bull 86(2):420-428 (1979).",
    "perturb": "Zwanenburg A, et al. Assessing robustness of radiomic features by image perturbation. Sci Rep 9:614 (2019).",
    "combat": "Johnson WE, Li C, Rabinovic A. Adjusting batch effects in microarray expression data using empirical Bayes methods. Biostatistics 8(1):118-127 (2007).",
    "vst": "Love MI, Huber W, Anders S. Moderated estimation of fold change and dispersion for RNA-seq data with DESeq2. Genome Biol 15:550 (2014).",
    "bh": "Benjamini Y, Hochberg Y. Controlling the false discovery rate. J R Stat Soc B 57(1):289-300 (1995).",
    "mofa": "Argelaguet R, et al. MOFA+: a statistical framework for comprehensive integration of multi-modal single-cell data. Genome Biol 21:111 (2020).",
    "sklearn": "Pedregosa F, et al. Scikit-learn: machine learning in Python. J Mach Learn Res 12:2825-2830 (2011).",
    "nested": "Varma S, Simon R. Bias in error estimation when using cross-validation for model selection. BMC Bioinformatics 7:91 (2006).",
    "lasso_cox": "Tibshirani R. The lasso method for variable selection in the Cox model. Stat Med 16(4):385-395 (1997).",
    "coxnet": "Simon N, Friedman J, Hastie T, Tibshirani R. Regularization paths for Cox's proportional hazards model via coordinate descent. J Stat Softw 39(5):1-13 (2011).",
    "sksurv": "Pölsterl S. scikit-survival: a library for time-to-event analysis built on top of scikit-learn. J Mach Learn Res 21(212):1-6 (2020).",
    "harrell": "Harrell FE, Lee KL, Mark DB. Multivariable prognostic models. Stat Med 15(4):361-387 (1996).",
    "uno": "Uno H, et al. Evaluating prediction rules for t-year survivors with censored regression models. J Am Stat Assoc 102(478):527-537 (2007).",
    "dca": "Vickers AJ, Elkin EB. Decision curve analysis: a novel method for evaluating prediction models. Med Decis Making 26(6):565-574 (2006).",
    "km": "Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. J Am Stat Assoc 53(282):457-481 (1958).",
    "cox": "Cox DR. Regression models and life-tables. J R Stat Soc B 34(2):187-220 (1972).",
    "nomogram": "Iasonos A, et al. How to build and interpret a nomogram for cancer prognosis. J Clin Oncol 26(8):1364-1370 (2008).",
    "gsea": "Subramanian A, et al. Gene set enrichment analysis. Proc Natl Acad Sci USA 102(43):15545-15550 (2005).",
    "gseapy": "Fang Z, Liu X, Peltz G. GSEApy: a comprehensive package for performing gene set enrichment analysis in Python. Bioinformatics 39(1):btac757 (2023).",
    "hallmark": "Liberzon A, et al. The Molecular Signatures Database hallmark gene set collection. Cell Syst 1(6):417-425 (2015).",
    "mudata": "Bredikhin D, Kats I, Stegle O. MUON: multimodal omics analysis framework. Genome Biol 23:42 (2022).",
    "tripod": "Collins GS, et al. TRIPOD+AI statement. BMJ 385:e078378 (2024).",
    "clear": "Kocak B, et al. CheckList for EvaluAtion of Radiomics research (CLEAR). Insights Imaging 14:75 (2023).",
    "rqs": "Lambin P, et al. Radiomics: the bridge between medical imaging and personalized medicine. Nat Rev Clin Oncol 14:749-762 (2017).",
}


def _cite(used: list[str], *keys: str) -> str:
    nums = []
    for key in keys:
        if key not in used:
            used.append(key)
        nums.append(used.index(key) + 1)
    return "[" + ",".join(map(str, nums)) + "]"


def _survival(study: Study, used: list[str], mdata: MuData) -> list[str]:
    st, out = study.steps, []
    if st.signature is not None:
        p = st.signature
        endpoint = label(f"{p.endpoint}_months", study.labels).split(" (")[0]
        clinical = f", with {_names(p.clinical, study)} entered unpenalised" if p.clinical else ""
        n = mdata.uns.get("signature", {}).get("params", {})
        out.append(
            f"A radiomic signature for {endpoint.lower()} was fitted with {'LASSO' if p.l1_ratio == 1 else 'elastic-net'}-penalised "
            f"Cox regression {_cite(used, 'lasso_cox', 'coxnet', 'sksurv')}{clinical} ({n.get('n_patients', '?')} patients, "
            f"{n.get('n_events', '?')} events); the penalty was chosen by inner cross-validation ({'one-standard-error' if p.rule == '1se' else 'minimum-error'} rule) inside each of "
            f"{p.cv} outer folds ({p.repeats} repeat{'s' if p.repeats > 1 else ''}), so every patient's risk score comes "
            f"from a model that never saw that patient {_cite(used, 'nested')}."
        )
    if st.evaluate is not None:
        out.append(
            f"The out-of-fold risk score was evaluated by Harrell's C {_cite(used, 'harrell')}, time-dependent AUC "
            f"{_cite(used, 'uno')}, calibration and decision curves {_cite(used, 'dca')} ({st.evaluate.n_boot} bootstrap "
            f"resamples for confidence intervals), and patients were split at the {st.evaluate.cutpoint} risk score for "
            f"Kaplan-Meier curves with a log-rank test {_cite(used, 'km')}."
        )
    if st.compare is not None:
        base = _names(st.compare.clinical, study)
        out.append(
            f"Its added value over a clinical Cox model ({base}) {_cite(used, 'cox')} was tested by a likelihood-ratio "
            f"test and the change in C (bootstrap and {st.compare.cv}-fold cross-validated)."
        )
    if st.nomogram is not None:
        out.append(f"A nomogram was drawn from the multivariable Cox model {_cite(used, 'nomogram')}.")
    return out


MODELS = {
    "logistic_l1": "L1-penalised (lasso) logistic regression",
    "logistic_l2": "L2-penalised (ridge) logistic regression",
    "elasticnet": "elastic-net logistic regression",
    "random_forest": "a random forest",
}


def _names(keys: list[str] | str | None, study: Study) -> str:
    """Labels of columns or modalities for running text, without units: ``Age, WHO grade``."""
    keys = [keys] if isinstance(keys, str) else list(keys or [])
    return ", ".join(
        f"{k[4:]} mutation" if k.startswith("mut:") else label(k, study.labels).split(" (")[0] for k in keys
    )


def _step_sentences(study: Study, mdata: MuData, cite: Callable[..., str]) -> dict[str, Callable[[Any], str]]:
    """One sentence per step, from its parameters (in run order, so citations are numbered in order)."""

    def filtered(f: Any) -> str:
        parts = [
            f"ICC < {f.min_icc}" if f.min_icc is not None else None,
            f"|r| > {f.max_corr} with another feature" if f.max_corr else None,
            f"more than {f.max_missing:.0%} missing values",
        ]
        return f"Features were removed for {', '.join(p for p in parts if p)} or near-zero variance."

    def normalised(n: Any) -> str:
        method = {"log_cpm": "log CPM", "log_tpm": "log TPM", "vst": "variance-stabilising transformation"}[n.method]
        return f"RNA-seq counts were normalised ({method}){' ' + cite('vst') if n.method == 'vst' else ''}."

    def predicted(p: Any) -> str:
        repeats = f"{p.repeats} repeat{'s' if p.repeats > 1 else ''}"
        return (
            f"{_names(p.targets, study)} {'was' if len(p.targets) == 1 else 'were'} predicted from "
            f"{_names(p.features, study).lower()} features by {MODELS.get(p.model, p.model)} {cite('sklearn')} in "
            f"nested cross-validation ({p.cv} outer folds, {p.inner_cv} inner folds for tuning, {repeats}) "
            f"{cite('nested')}; feature scaling and selection were fitted inside training folds only."
        )

    def enriched(e: Any) -> str:
        gsea = cite("gsea", "gseapy")
        sets = (
            f"hallmark gene sets {cite('hallmark')}"
            if e.gene_sets == "hallmark"
            else f"gene sets of {Path(e.gene_sets).name}"
        )
        words = {"risk_score": "the radiomic risk score", "factors": "each MOFA+ factor"}
        rankings = " and ".join(words.get(r) or _names(r, study) for r in e.rankings)
        return (
            f"Pathways were tested by pre-ranked GSEA {gsea} of the {sets} "
            f"({e.permutations} permutations) for {rankings}."
        )

    return {
        "extract": lambda _: (
            f"Radiomic features were extracted with PyRadiomics {cite('pyradiomics')} following IBSI definitions {cite('ibsi')}."
        ),
        "robustness": lambda r: (
            f"Feature robustness was measured by the {r.form} intraclass correlation {cite('icc')} over {r.n_perturbations} perturbations ({', '.join(r.perturbations)}) of image and mask {cite('perturb')}."
        ),
        "filter": filtered,
        "harmonize": lambda h: f"Batch effects across '{h.batch_key}' were removed with ComBat {cite('combat')}.",
        "normalize": normalised,
        "associate": lambda a: (
            f"Associations between {_names(a.x, study).lower()} and {_names(a.y, study).lower()} features were tested by {a.method.capitalize()} correlation with Benjamini-Hochberg FDR {cite('bh')} (pairs with at least {a.min_patients} patients)."
        ),
        "mofa": lambda m: (
            f"Multi-omics factors were learnt with MOFA+ {cite('mofa')} ({m.n_factors} factors over {_names(m.mods or list(mdata.mod), study).lower()})."
        ),
        "predict": predicted,
        "enrichment": enriched,
    }


def methods_text(study: Study, mdata: MuData) -> dict:
    """Methods paragraph (list of sentences) and the numbered references it cites."""
    used: list[str] = []
    cite = partial(_cite, used)
    text = [
        f"Data were held in one MuData container per cohort {cite('mudata')} with every input identifier accounted for in the pairing table."
    ]
    for name, sentence in _step_sentences(study, mdata, cite).items():
        if name == "enrichment":
            text.extend(_survival(study, used, mdata))
        params = getattr(study.steps, name)
        if params is not None:
            text.append(sentence(params))
    text.append(
        f"All random steps used seed {study.seed}; software versions and input file checksums are in run.json. Reporting follows TRIPOD+AI {cite('tripod')}, CLEAR {cite('clear')} and the radiomics quality score {cite('rqs')}."
    )
    return {"sentences": text, "references": [REFERENCES[k] for k in used]}
