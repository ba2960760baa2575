"""The study file schema: inputs, steps and their parameters (pydantic v2 models)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from data_loaders.xena import XenaUnits  # noqa: TC001 (pydantic reads the annotation at run time)

from ..errors import ParameterError

__all__ = ["STEP_MODELS", "STEP_ORDER", "Study"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------------------------- inputs
class FileInput(_Model):
    """One table or matrix file read with a ``data_loaders`` reader."""

    path: str
    format: Literal["table", "pyradiomics", "xena", "gdc_star", "cbioportal_expression", "maf", "h5ad"] = "table"
    id_column: str | None = None
    sep: str | None = None
    transpose: bool = False
    layer: str | None = None
    sample_sheet: str | None = None
    units: XenaUnits | None = None  # of a 'xena' matrix; read_xena_matrix's values
    genes: list[str] | None = None


# Event column values read as "event happened" when event_values is not given.
_EVENT_VALUES: list[str | int | float | bool] = [1, True, "1", "dead", "deceased"]


class ClinicalColumns(_Model):
    """Map the columns of a clinical table onto the package's names."""

    id: str
    time: str | None = None
    time_unit: Literal["days", "weeks", "months", "years"] = "months"
    event: str | None = None
    event_values: list[str | int | float | bool] = Field(default_factory=lambda: list(_EVENT_VALUES))
    endpoint: str = "os"
    covariates: dict[str, str] = Field(default_factory=dict)


class ClinicalInput(_Model):
    """A clinical table (CSV/TSV, or cBioPortal ``data_clinical_patient.txt``)."""

    path: str
    format: Literal["table", "cbioportal"] = "table"
    sep: str | None = None
    columns: ClinicalColumns


class ImagesInput(_Model):
    """An image manifest for the ``extract`` step (columns patient_id, image, mask)."""

    manifest: str
    params: str | dict[str, Any] | None = None


class CohortInputs(_Model):
    """The files of one cohort, or a bundled dataset."""

    dataset: Literal["tcga_glioma", "synthetic"] | None = None
    dataset_options: dict[str, Any] = Field(default_factory=dict)
    images: ImagesInput | None = None
    radiomics: FileInput | None = None
    omics: dict[str, FileInput] = Field(default_factory=dict)
    clinical: ClinicalInput | None = None
    id_rule: Literal["tcga_patient"] | None = "tcga_patient"

    @model_validator(mode="after")
    def _something(self) -> CohortInputs:
        if self.dataset is None and not (self.images or self.radiomics or self.omics):
            msg = "give a bundled 'dataset' or at least one of 'images', 'radiomics', 'omics'"
            raise ParameterError(msg)
        return self


class Inputs(CohortInputs):
    """The study cohort plus an optional external validation cohort (same keys)."""

    validation: CohortInputs | None = None


# ----------------------------------------------------------------------------------------------- steps
class ExtractStep(_Model):
    """``rg.imaging.extract`` on ``inputs.images``."""

    params: str | dict[str, Any] | None = None
    preprocess: dict[str, Any] | None = None
    resample_mask: bool = False


class RobustnessStep(_Model):
    """``rg.imaging.robustness``: ICC of each feature under mask/image perturbations."""

    perturbations: list[Literal["dilate", "erode", "translate", "noise"]] = ["dilate", "erode", "translate", "noise"]
    n_perturbations: int = Field(2, ge=1)
    n_shuffles: int = Field(2, ge=0)
    form: str = "ICC(1,1)"


class FilterStep(_Model):
    """``rg.imaging.filter_features``: drop unstable, redundant, constant or incomplete features."""

    mod: str = "radiomics"
    min_icc: float | None = Field(None, ge=0, le=1)
    max_corr: float | None = Field(0.95, gt=0, le=1)
    min_variance: float = 1e-8
    max_missing: float = Field(0.2, ge=0, le=1)
    max_volume_corr: float | None = None
    volume_feature: str | None = None


class HarmonizeStep(_Model):
    """``rg.imaging.harmonize``: ComBat across scanners or sites."""

    mod: str = "radiomics"
    batch_key: str
    covariates: list[str] | None = None
    parametric: bool = True
    mean_only: bool = False


class PairStep(_Model):
    """``rg.io.build_mudata``: which patients make the cohort."""

    how: str = "outer"


class NormalizeStep(_Model):
    """``rg.omics.normalize`` (+ optional gene filter and highly variable genes)."""

    mod: str = "rna"
    method: Literal["log_cpm", "log_tpm", "vst"] = "log_cpm"
    layer: str = "counts"
    min_count: float | None = None
    n_top_genes: int | None = Field(None, ge=10)


class MutationStatusStep(_Model):
    """``rg.omics.mutation_status``: per-patient status of genes or gene groups."""

    mod: str = "mut"
    groups: dict[str, list[str]] | None = None


class MarkersStep(_Model):
    """``rg.omics.markers``: high/low expression of marker genes (PD-L1/CD274, CXCL8)."""

    genes: list[str] = ["CD274", "CXCL8"]
    mod: str = "rna"
    method: Literal["median", "quantile", "fixed"] = "median"
    quantile: float = Field(0.5, gt=0, lt=1)
    threshold: float | None = None


class AssociateStep(_Model):
    """``rg.integrate.associate``: feature-by-feature correlation with FDR."""

    x: str | list[str] = "radiomics"
    y: str | list[str] = "rna"
    method: Literal["spearman", "pearson"] = "spearman"
    covariates: list[str] | None = None
    fdr: Literal["bh", "by"] = "bh"
    min_patients: int = Field(10, ge=3)
    n_permutations: int = Field(0, ge=0)


class MofaStep(_Model):
    """``rg.integrate.mofa`` and ``factor_associations``."""

    mods: list[str] | None = None
    n_factors: int = Field(8, ge=1)
    scale_features: bool = True
    max_iter: int = Field(500, ge=10)
    convergence_mode: Literal["fast", "medium", "slow"] = "fast"
    obs: list[str] | None = None


class PredictStep(_Model):
    """``rg.integrate.predict`` for one or more targets (nested cross-validation)."""

    targets: list[str] = Field(min_length=1)
    features: str | list[str] = "radiomics"
    model: Literal["logistic_l1", "logistic_l2", "elasticnet", "random_forest"] = "logistic_l2"
    cv: int = Field(5, ge=2)
    repeats: int = Field(1, ge=1)
    inner_cv: int = Field(3, ge=2)
    n_permutations: int = Field(0, ge=0)
    threshold: float = Field(0.5, gt=0, lt=1)


class SignatureStep(_Model):
    """``rg.survival.signature``: LASSO-Cox signature with out-of-fold risk scores."""

    endpoint: str = "os"
    features: str | list[str] = "radiomics"
    method: Literal["lasso_cox", "rsf"] = "lasso_cox"
    clinical: list[str] | None = None
    cv: int = Field(5, ge=2)
    repeats: int = Field(1, ge=1)
    l1_ratio: float = Field(1.0, gt=0, le=1)
    rule: Literal["1se", "min"] = "1se"
    n_alphas: int = Field(50, ge=5)


class EvaluateStep(_Model):
    """``rg.survival.evaluate`` + a Kaplan-Meier split of the risk score."""

    times: list[float] | None = None
    calibration_time: float | None = Field(None, gt=0)
    n_boot: int = Field(200, ge=0)
    n_groups: int = Field(3, ge=2)
    cutpoint: Literal["median", "maxstat"] = "median"


class CompareStep(_Model):
    """``rg.survival.compare``: added value of the risk score over a clinical model."""

    clinical: list[str] = Field(min_length=1)
    n_boot: int = Field(200, ge=0)
    cv: int | None = 5
    repeats: int = Field(1, ge=1)


class NomogramStep(_Model):
    """``rg.survival.cox`` of clinical covariates + risk score, then ``rg.survival.nomogram``."""

    covariates: list[str] | None = None
    times: list[float] | None = None


class EnrichmentStep(_Model):
    """``rg.enrich.gsea`` of rankings: the risk score, MOFA factors or features."""

    rankings: list[str] = ["risk_score"]
    gene_sets: str = "hallmark"
    mod: str = "rna"
    permutations: int = Field(1000, ge=10)
    min_size: int = Field(15, ge=2)
    null: Literal["auto", "patients", "genes"] = "auto"


class ExportStep(_Model):
    """``rg.io.export_tables``: the R bundle (CSV, RDS, ``load.R``)."""

    rds: bool = True


class Steps(_Model):
    """Which analyses to run; a step runs when its key is present (``{}`` for the defaults)."""

    extract: ExtractStep | None = None
    robustness: RobustnessStep | None = None
    pair: PairStep | None = None
    filter: FilterStep | None = None
    harmonize: HarmonizeStep | None = None
    normalize: NormalizeStep | None = None
    mutation_status: MutationStatusStep | None = None
    markers: MarkersStep | None = None
    associate: AssociateStep | None = None
    mofa: MofaStep | None = None
    predict: PredictStep | None = None
    signature: SignatureStep | None = None
    evaluate: EvaluateStep | None = None
    compare: CompareStep | None = None
    nomogram: NomogramStep | None = None
    enrichment: EnrichmentStep | None = None
    export: ExportStep | None = None


STEP_ORDER = tuple(Steps.model_fields)
STEP_MODELS: dict[str, type[BaseModel]] = {
    name: next(a for a in get_args(field.annotation) if a is not type(None))
    for name, field in Steps.model_fields.items()
}


class ReportOptions(_Model):
    """Report settings."""

    title: str | None = None
    authors: str | None = None
    min_at_risk: int = Field(default=5, ge=0)
    time_unit: str = "months"
    figure_formats: list[Literal["png", "svg", "pdf"]] = ["png", "svg"]


class Study(_Model):
    """A whole study: inputs, steps, seed, labels and report options."""

    name: str = "Radiogenomic study"
    seed: int = Field(0, ge=0, lt=2**32)
    jobs: int = Field(1, ge=1)
    scheduler: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    report: ReportOptions = Field(default_factory=lambda: ReportOptions())
    inputs: Inputs
    steps: Steps = Field(default_factory=Steps)
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _source: str | None = PrivateAttr(default=None)
    _marks: dict[tuple, tuple[int, int]] = PrivateAttr(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        """Folder against which relative input paths are resolved (the study file's folder)."""
        return self._base_dir

    def resolve(self, file: str) -> Path:
        """Absolute path of an input file named in the study file."""
        return (self._base_dir / file).resolve()

    def key_line(self, key: tuple) -> str:
        """``"inputs.clinical.path (study.yaml, line 27)"``: a key and where the study file sets it."""
        dotted = ".".join(str(k) for k in key)
        if key not in self._marks or self._source is None:
            return dotted
        return f"{dotted} ({Path(self._source).name}, line {self._marks[key][0]})"

    def enabled_steps(self) -> list[str]:
        """Names of the steps present in the file, in run order."""
        return [name for name in STEP_ORDER if name == "pair" or getattr(self.steps, name) is not None]

    def step_params(self, name: str) -> BaseModel:
        """Parameters of one step (defaults when the step is implicit, e.g. ``pair``)."""
        value = getattr(self.steps, name)
        return value if value is not None else STEP_MODELS[name]()

    @model_validator(mode="after")
    def _dependencies(self) -> Study:
        steps = self.enabled_steps()
        needs = {
            "evaluate": "signature",
            "compare": "signature",
            "nomogram": "signature",
            "robustness": "extract",
        }
        for step, required in needs.items():
            if step in steps and required not in steps:
                msg = f"steps.{step} needs steps.{required} (it uses its result); add '{required}: {{}}'"
                raise ParameterError(msg)
        rankings = self.steps.enrichment.rankings if self.steps.enrichment else []
        for ranking, required in (("risk_score", "signature"), ("factors", "mofa")):
            if ranking in rankings and required not in steps:
                msg = f"steps.enrichment ranking '{ranking}' needs steps.{required}; add '{required}: {{}}'"
                raise ParameterError(msg)
        if "extract" in steps and self.inputs.images is None:
            msg = "steps.extract needs inputs.images (an image manifest)"
            raise ParameterError(msg)
        return self
