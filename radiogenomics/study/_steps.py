"""The steps of a study: thin wrappers that call the package's public functions with the file's parameters."""

from __future__ import annotations

import contextlib
import inspect
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from .. import enrich, imaging, integrate, omics, survival
from ..errors import MissingColumnError, MissingResultError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pandas as pd
    from mudata import MuData

    from . import _schema as s

__all__ = ["STEPS", "Context", "State", "enrichment_rankings", "predict_key", "risk_column"]


@dataclass
class State:
    """What flows from step to step: the study cohort and the optional validation cohort."""

    mdata: MuData | None = None
    validation: MuData | None = None

    @property
    def cohort(self) -> MuData:
        """The study cohort, typed as present: the ``load`` step sets it before any other step runs."""
        if self.mdata is None:
            msg = "The study cohort is not loaded yet; the load step runs before every other step."
            raise MissingResultError(msg)
        return self.mdata


@dataclass
class Context:
    """Run-wide settings handed to every step."""

    study: s.Study
    seed: int = 0
    jobs: int = 1
    client: Any = None
    notes: list[str] = field(default_factory=list)


def _call(func: Callable, ctx: Context, *args: Any, **kwargs: Any) -> Any:
    """Call ``func``, passing the Dask client where it accepts one, or running its joblib work on Dask."""
    params = inspect.signature(func).parameters
    if "n_jobs" in params:
        kwargs.setdefault("n_jobs", -1 if ctx.client is not None else ctx.jobs)
    if ctx.client is not None and "client" in params:
        return func(*args, client=ctx.client, **kwargs)
    with _dask_backend(ctx, uses_joblib="n_jobs" in params):
        return func(*args, **kwargs)


def _forward(
    func: Callable, ctx: Context, p: Any, *args: Any, rename: dict[str, str] | None = None, **extra: Any
) -> Any:
    """Call ``func`` with the step's parameters that it takes, the run's seed, and ``extra``.

    A study-file key is passed as the parameter of the same name (``rename`` maps the few that
    differ, e.g. ``permutations`` -> ``n_permutations``); keys ``func`` does not take are left
    out, ``seed`` is the run's seed where ``func`` takes one, and ``extra`` wins over both.
    """
    accepted = inspect.signature(func).parameters
    rename = rename or {}
    kwargs = {rename.get(k, k): v for k, v in p if rename.get(k, k) in accepted}
    if "seed" in accepted:
        kwargs["seed"] = ctx.seed
    return _call(func, ctx, *args, **{**kwargs, **extra})


@contextlib.contextmanager
def _dask_backend(ctx: Context, *, uses_joblib: bool) -> Iterator[None]:
    if ctx.client is None or not uses_joblib:
        yield
        return
    import joblib

    with ctx.client.as_current(), joblib.parallel_config(backend="dask"):
        yield


def _endpoint(mdata: MuData, endpoint: str) -> tuple[str, str]:
    time, event = f"{endpoint}_months", f"{endpoint}_event"
    for col in (time, event):
        if col not in mdata.obs:
            msg = f"endpoint '{endpoint}' needs obs['{col}']; map it in inputs.clinical.columns (time, event, endpoint)"
            raise MissingColumnError(msg)
    return time, event


def _signature_endpoint(study: s.Study) -> str:
    """Endpoint of the signature step, which evaluate, compare and nomogram need (the schema checks it is there)."""
    return cast("s.SignatureStep", study.step_params("signature")).endpoint


def predict_key(target: str) -> str:
    """Key of the stored prediction of one target (``mut:IDH1`` -> ``predict_mut_IDH1``)."""
    return "predict_" + re.sub(r"\W", "_", target)


def risk_column(study: s.Study) -> str:
    """Name of the out-of-fold risk score column written by the signature step."""
    return "risk_score_cv"


def _manifest(study: s.Study) -> pd.DataFrame:
    from ._inputs import read_manifest

    return read_manifest(study)


def _params(study: s.Study, p: s.ExtractStep | None) -> Any:
    images = study.inputs.images
    params = (p.params if p is not None else None) or (images.params if images is not None else None)
    return str(study.resolve(params)) if isinstance(params, str) else params


# ------------------------------------------------------------------------------------------------ steps
def extract(state: State, p: s.ExtractStep, ctx: Context) -> None:
    """Extract radiomic features from the image manifest."""
    from mudata import MuData

    adata = _forward(imaging.extract, ctx, p, _manifest(ctx.study), params=_params(ctx.study, p), progress=False)
    state.mdata = MuData({"radiomics": adata})


def robustness(state: State, p: s.RobustnessStep, ctx: Context) -> None:
    """ICC of every feature under perturbations of mask and image."""
    params = _params(ctx.study, ctx.study.steps.extract)
    table = _forward(imaging.robustness, ctx, p, _manifest(ctx.study), params=params, progress=False)
    state.cohort.uns["robustness"] = table


def pair(state: State, p: s.PairStep, ctx: Context) -> None:
    """Build the cohort (and the validation cohort): one MuData, every input ID accounted for."""
    from ._inputs import build_cohort

    extracted = state.mdata
    radiomics = extracted["radiomics"] if extracted is not None else None
    mdata = build_cohort(ctx.study, ctx.study.inputs, how=p.how, radiomics=radiomics)
    if extracted is not None:
        for key in ("robustness",):
            if key in extracted.uns:
                mdata.uns[key] = extracted.uns[key]
    state.mdata = mdata
    if ctx.study.inputs.validation is not None:
        state.validation = build_cohort(ctx.study, ctx.study.inputs.validation, how=p.how)


def filter(state: State, p: s.FilterStep, ctx: Context) -> None:
    """Remove unstable (ICC), redundant, constant and incomplete features."""
    icc = state.cohort.uns.get("robustness") if p.min_icc is not None else None
    _forward(imaging.filter_features, ctx, p, state.cohort, icc=icc)


def harmonize(state: State, p: s.HarmonizeStep, ctx: Context) -> None:
    """ComBat across batches; the validation cohort gets the training fit."""
    _forward(imaging.harmonize, ctx, p, state.cohort)
    if state.validation is not None:
        imaging.apply_harmonization(state.validation, fit=state.cohort, mod=p.mod)


def normalize(state: State, p: s.NormalizeStep, ctx: Context) -> None:
    """Filter genes, normalise counts, mark highly variable genes."""
    for mdata in (state.mdata, state.validation):
        if mdata is None or p.mod not in mdata.mod:
            continue
        if p.min_count is not None:
            _forward(omics.filter_genes, ctx, p, mdata)
        _forward(omics.normalize, ctx, p, mdata)
    if p.n_top_genes is not None:
        _forward(omics.highly_variable, ctx, p, state.cohort)


def mutation_status(state: State, p: s.MutationStatusStep, ctx: Context) -> None:
    """Per-patient mutation status of genes or gene groups."""
    for mdata in (state.mdata, state.validation):
        if mdata is not None:
            _forward(omics.mutation_status, ctx, p, mdata)


def markers(state: State, p: s.MarkersStep, ctx: Context) -> None:
    """High/low marker expression (cut-points fitted on the study cohort)."""
    _forward(omics.markers, ctx, p, state.cohort)


def associate(state: State, p: s.AssociateStep, ctx: Context) -> None:
    """Feature-by-feature associations with FDR."""
    _forward(integrate.associate, ctx, p, state.cohort)


def mofa(state: State, p: s.MofaStep, ctx: Context) -> None:
    """MOFA+ factors, then their association with clinical variables, mutations and survival."""
    mdata = state.cohort
    _forward(integrate.mofa, ctx, p, mdata)
    obs = p.obs if p.obs is not None else [c for c in ctx.study.labels if c in mdata.obs and not c.endswith("_months")]
    time = "os_months" if "os_months" in mdata.obs else None
    mods = tuple(m for m in ("mut",) if m in mdata.mod)
    integrate.factor_associations(mdata, obs=obs or None, mods=mods, time=time, event="os_event" if time else None)


def predict(state: State, p: s.PredictStep, ctx: Context) -> None:
    """Nested cross-validated prediction of each target from the features."""
    for target in p.targets:
        _forward(integrate.predict, ctx, p, state.cohort, target, key_added=predict_key(target))


def signature(state: State, p: s.SignatureStep, ctx: Context) -> None:
    """Radiomic survival signature; applied unchanged to the validation cohort."""
    time, event = _endpoint(state.cohort, p.endpoint)
    _forward(survival.signature, ctx, p, state.cohort, time=time, event=event)
    if state.validation is not None:
        survival.apply_signature(state.validation, state.cohort.uns["signature"])


def evaluate(state: State, p: s.EvaluateStep, ctx: Context) -> None:
    """Discrimination, calibration and decision curves of the risk score; Kaplan-Meier of risk groups."""
    endpoint = _signature_endpoint(ctx.study)
    time, event = _endpoint(state.cohort, endpoint)
    risk = risk_column(ctx.study)
    _forward(survival.evaluate, ctx, p, state.cohort, risk, time=time, event=event)
    survival.dichotomize(state.cohort, risk, method=p.cutpoint, time=time, event=event, seed=ctx.seed)
    survival.kaplan_meier(state.cohort, time=time, event=event, groupby=f"{risk}_group")
    survival.logrank(state.cohort, f"{risk}_group", time=time, event=event)
    if state.validation is not None:
        vdata = state.validation
        _forward(survival.evaluate, ctx, p, vdata, "risk_score", time=time, event=event)
        survival.apply_cutpoint(
            vdata, state.cohort.uns[f"{risk}_group"], score="risk_score", key_added="risk_score_group"
        )
        survival.kaplan_meier(vdata, time=time, event=event, groupby="risk_score_group")


def compare(state: State, p: s.CompareStep, ctx: Context) -> None:
    """Added value of the risk score over the clinical model (bootstrap and cross-validated)."""
    time, event = _endpoint(state.cohort, _signature_endpoint(ctx.study))
    added = [risk_column(ctx.study)]
    _forward(survival.compare, ctx, p, state.cohort, rename={"clinical": "base"}, added=added, time=time, event=event)


def nomogram(state: State, p: s.NomogramStep, ctx: Context) -> None:
    """Cox model of the clinical covariates plus the risk score, drawn as a nomogram."""
    time, event = _endpoint(state.cohort, _signature_endpoint(ctx.study))
    covariates = p.covariates
    if covariates is None:
        clinical = ctx.study.steps.compare.clinical if ctx.study.steps.compare else []
        covariates = [*clinical, risk_column(ctx.study)]
    _forward(survival.cox, ctx, p, state.cohort, covariates=covariates, time=time, event=event)
    _forward(survival.nomogram, ctx, p, state.cohort)


def enrichment_rankings(mdata: MuData, names: list[str], study: s.Study) -> list[str]:
    """Resolve ranking names: ``risk_score``, ``factors`` (every MOFA factor) or any value key."""
    keys: list[str] = []
    for name in names:
        if name == "risk_score":
            keys.append(risk_column(study))
        elif name == "factors":
            if "X_mofa" not in mdata.obsm:
                msg = "enrichment ranking 'factors' needs the mofa step; add 'mofa: {}' to steps"
                raise MissingColumnError(msg)
            keys.extend(f"mofa:{i + 1}" for i in range(mdata.obsm["X_mofa"].shape[1]))
        else:
            keys.append(name)
    return keys


def enrichment(state: State, p: s.EnrichmentStep, ctx: Context) -> None:
    """Pre-ranked GSEA of each ranking (patient-permutation null where the cohort allows it)."""
    keys = enrichment_rankings(state.cohort, p.rankings, ctx.study)
    sets = ctx.study.resolve(p.gene_sets)
    gene_sets = str(sets) if sets.is_file() else p.gene_sets
    _forward(enrich.gsea, ctx, p, state.cohort, keys, rename={"permutations": "n_permutations"}, gene_sets=gene_sets)


STEPS: dict[str, Callable[[State, Any, Context], None]] = {
    "extract": extract,
    "robustness": robustness,
    "pair": pair,
    "filter": filter,
    "harmonize": harmonize,
    "normalize": normalize,
    "mutation_status": mutation_status,
    "markers": markers,
    "associate": associate,
    "mofa": mofa,
    "predict": predict,
    "signature": signature,
    "evaluate": evaluate,
    "compare": compare,
    "nomogram": nomogram,
    "enrichment": enrichment,
}
