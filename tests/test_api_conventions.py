"""Structure test: every public function follows the package conventions (as scanpy enforces)."""

from __future__ import annotations

import ast
import doctest
import inspect
import warnings

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import radiogenomics as rg
from radiogenomics.integrate._predict_model import BatchScaler
from radiogenomics.survival._coxnet import NearConstantFilter

MODULES = ["datasets", "enrich", "get", "imaging", "integrate", "io", "omics", "pl", "survival"]
# Allowed first parameters: a container, a file, or the object the function is about.
FIRST_PARAMS = {
    "data",
    "adata",
    "mdata",
    "path",
    "paths",
    "manifest",
    "table",
    "image",
    "genes",
    "ranking",
    "X",
    "time",
    "risk",
}
# Deliberate exceptions to the first-parameter rule, each with its reason.
FIRST_PARAM_EXCEPTIONS = {
    "datasets.synthetic_cohort": "a generator: its first parameter is the cohort size",
    "datasets.tcga_glioma": "a loader of bundled data: no input",
    "enrich.gene_sets": "a loader of a named collection ('hallmark'), a GMT path or a dict; the issue names it gene_sets(name)",
    "io.build_mudata": "builds the container from a mapping of modalities",
    "io.normalize_ids": "pure helper on identifiers",
    "io.parse_tcga_barcode": "pure helper on one barcode",
    "io.sample_priority": "pure helper on parsed barcode parts",
}


# Plots return the Axes they drew on (lifelines style); exceptions with the reason.
PLOT_RETURN_EXCEPTIONS: dict[str, str] = {}


def _public_functions():
    for name in MODULES:
        module = getattr(rg, name)
        for attr in module.__all__:
            obj = getattr(module, attr)
            if inspect.isfunction(obj):
                yield f"{name}.{attr}", obj


FUNCTIONS = list(_public_functions())


def test_every_all_entry_exists():
    for name in MODULES:
        module = getattr(rg, name)
        for attr in module.__all__:
            assert hasattr(module, attr), f"rg.{name}.__all__ lists {attr!r} but it is missing"


@pytest.mark.parametrize(("qualname", "func"), FUNCTIONS, ids=[q for q, _ in FUNCTIONS])
def test_conventions(qualname, func):
    sig = inspect.signature(func)
    params = list(sig.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert len(positional) <= 3, f"{qualname}: at most 3 positional parameters, got {[p.name for p in positional]}"
    if params and qualname not in FIRST_PARAM_EXCEPTIONS:
        assert params[0].name in FIRST_PARAMS, f"{qualname}: first parameter {params[0].name!r} is not a container/path"
    for p in params:
        if isinstance(p.default, bool):
            assert p.kind == p.KEYWORD_ONLY, f"{qualname}: boolean {p.name!r} must be keyword-only"
    if "copy" in sig.parameters:
        assert sig.parameters["copy"].default is False
        assert "inplace" not in sig.parameters, f"{qualname}: never both copy and inplace"
    doc = inspect.getdoc(func) or ""
    for section in ("Parameters", "Returns", "Examples"):
        if section == "Parameters" and not params:
            continue
        assert f"\n{section}\n" in doc, f"{qualname}: docstring lacks a {section} section"
    if qualname.startswith("pl."):
        assert "ax" in sig.parameters, f"{qualname}: plots take ax="


@pytest.mark.parametrize(("qualname", "func"), FUNCTIONS, ids=[q for q, _ in FUNCTIONS])
def test_return_annotation(qualname, func):
    sig = inspect.signature(func)
    returns = sig.return_annotation
    assert returns is not inspect.Signature.empty, f"{qualname}: annotate the return type"
    text = str(returns).replace(" ", "")
    if "copy" in sig.parameters:
        assert text.endswith("|None"), f"{qualname}: with copy=, the return annotation is '<container> | None'"
    if qualname.startswith("pl.") and qualname not in PLOT_RETURN_EXCEPTIONS:
        assert text == "Axes", f"{qualname}: plots return the matplotlib Axes they drew on, annotated '-> Axes'"


APPLY = [(q, f) for q, f in FUNCTIONS if q.split(".")[-1].startswith("apply_")]


def test_apply_functions_are_found():
    assert len(APPLY) >= 5, [q for q, _ in APPLY]


@pytest.mark.parametrize(("qualname", "func"), APPLY, ids=[q for q, _ in APPLY])
def test_apply_functions_share_one_shape(qualname, func):
    """``apply_x(mdata, fit, *, key=..., <own options>, key_added=..., copy=False)`` (docs/glossary.md)."""
    params = list(inspect.signature(func).parameters.values())
    positional = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == ["mdata", "fit"], f"{qualname}: positional parameters {positional}"
    assert params[1].default is inspect.Parameter.empty, f"{qualname}: the stored fit is required"
    keyword = [p for p in params[2:] if p.kind is p.KEYWORD_ONLY]
    assert len(keyword) == len(params) - 2, f"{qualname}: everything after fit is keyword-only"
    assert keyword[0].name == "key", f"{qualname}: key= (where the fit is stored) comes first"
    assert [p.name for p in keyword[-2:]] == ["key_added", "copy"] and keyword[-1].default is False, qualname


def test_exception_lists_give_reasons_and_are_needed():
    names = dict(FUNCTIONS)
    for table in (FIRST_PARAM_EXCEPTIONS, PLOT_RETURN_EXCEPTIONS):
        for qualname, reason in table.items():
            assert qualname in names, f"{qualname} is no longer public: drop its exception"
            assert len(reason.split()) >= 4, f"{qualname}: explain the exception"
    for qualname in FIRST_PARAM_EXCEPTIONS:
        params = list(inspect.signature(names[qualname]).parameters)
        assert params and params[0] not in FIRST_PARAMS, f"{qualname} follows the rule now: drop its exception"


PLOTS = [(q, f) for q, f in FUNCTIONS if q.startswith("pl.")]


def _call_in_example(qualname: str, func) -> object:
    """Run the docstring example of a plot and return what its call of the plot returned."""
    examples = doctest.DocTestParser().get_examples(inspect.getdoc(func) or "")
    namespace: dict = {}
    for example in examples:
        tree = ast.parse(example.source)
        calls = [
            node for node in ast.walk(tree) if isinstance(node, ast.Call) and ast.unparse(node.func) == f"rg.{qualname}"
        ]
        if calls:
            return eval(compile(ast.Expression(calls[0]), "<example>", "eval"), namespace)
        exec(compile(tree, "<example>", "exec"), namespace)
    pytest.fail(f"{qualname}: the docstring example does not call rg.{qualname}")
    return None


@pytest.mark.parametrize(("qualname", "func"), PLOTS, ids=[q for q, _ in PLOTS])
def test_plots_return_axes(qualname, func):
    from matplotlib.axes import Axes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the examples' own notices are checked by their doctests
        out = _call_in_example(qualname, func)
    assert isinstance(out, Axes), f"{qualname} returned {type(out).__name__}, not the Axes it drew on"


@parametrize_with_checks([BatchScaler(), NearConstantFilter()])
def test_transformers_follow_scikit_learn(estimator, check):
    check(estimator)


def test_docs_api_lists_every_public_name():
    from pathlib import Path

    api = (Path(__file__).parents[1] / "docs" / "api.md").read_text()
    missing = [q for q, _ in FUNCTIONS if f"   {q.split('.')[-1]}\n" not in api]
    assert not missing, f"docs/api.md lacks {missing}"
