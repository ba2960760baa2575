"""Bad input across the public functions and the CLI: a typed error naming the object and the fix.

Each case (in tests/bad_input_cases.py and tests/bad_input_cases_analysis.py) is one kind of bad input a new user produces. The test
asserts the error type (the package's typed errors subclass the matching built-in) and that the
message names the object (file, line, column, key, parameter) and says what to do.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pytest

import radiogenomics as rg

if TYPE_CHECKING:
    from collections.abc import Callable

    from mudata import MuData


@dataclass
class Ctx:
    mdata: MuData
    tmp: Path

    def write(self, name: str, text: str) -> Path:
        path = self.tmp / name
        path.write_text(text)
        return path


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[Ctx], object]
    error: type[BaseException]
    names: str  # regex: the object named
    fix: str  # regex: what to do


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_IO, _ANALYSIS = _load("bad_input_cases"), _load("bad_input_cases_analysis")
CASES = [Case(*row) for row in [*_IO.CASES, *_ANALYSIS.CASES]]
CLI_CASES = _IO.CLI_CASES


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_typed_error_naming_object_and_fix(case, mdata, tmp_path):
    with pytest.raises(case.error) as err:
        case.call(Ctx(mdata, tmp_path))
    text = str(err.value)
    assert re.search(case.names, text, re.DOTALL), f"object not named: {text}"
    assert re.search(case.fix, text, re.DOTALL | re.IGNORECASE), f"no fix given: {text}"


def test_writers_touch_no_file_on_bad_input(mdata, tmp_path):
    target = rg.io.write_h5mu(mdata, tmp_path / "c.h5mu")
    before = target.read_bytes()
    for case in [c for c in CASES if c.id.startswith("write_h5mu-") and c.id != "write_h5mu-folder"]:
        with pytest.raises(case.error):
            case.call(Ctx(mdata.copy(), tmp_path))
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.h5mu"]


@pytest.mark.parametrize(("name", "argv", "names", "fix"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input_is_one_line_and_exit_2(name, argv, names, fix, mdata, tmp_path):
    cohort = rg.io.write_h5mu(mdata, tmp_path / "cohort.h5mu")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("x")
    truncated = tmp_path / "truncated.h5mu"
    truncated.write_bytes(cohort.read_bytes()[:2000])
    (tmp_path / "study.yaml").write_text("cohort:\n  example: glioma\n")
    args = [a.format(tmp=tmp_path, cohort=cohort, truncated=truncated) for a in argv]
    res = subprocess.run(
        [sys.executable, "-m", "radiogenomics.cli", *args], capture_output=True, text=True, check=False, timeout=300
    )
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert re.search(names, res.stderr) and re.search(fix, res.stderr), res.stderr


MODULES = ["datasets", "enrich", "get", "imaging", "integrate", "io", "omics", "pl", "survival"]


def _cohort_functions():
    """Every public function whose first parameter is ``mdata: MuData`` (not ``MuData | AnnData``)."""
    for module in MODULES:
        for attr in getattr(rg, module).__all__:
            func = getattr(getattr(rg, module), attr)
            params = list(inspect.signature(func).parameters.values()) if inspect.isfunction(func) else []
            if params and params[0].name == "mdata" and str(params[0].annotation) == "MuData":
                yield f"{module}.{attr}", func


COHORT_FUNCTIONS = list(_cohort_functions())


def test_every_cohort_function_is_checked():
    assert len(COHORT_FUNCTIONS) >= 55, [q for q, _ in COHORT_FUNCTIONS]


@pytest.mark.parametrize(("qualname", "func"), COHORT_FUNCTIONS, ids=[q for q, _ in COHORT_FUNCTIONS])
def test_anndata_where_mudata_expected_names_function_and_fix(qualname, func):
    adata = ad.AnnData(np.zeros((4, 2)))
    params = list(inspect.signature(func).parameters.values())[1:]
    args = [None for p in params if p.kind == p.POSITIONAL_OR_KEYWORD and p.default is p.empty]
    kwargs = {p.name: None for p in params if p.kind == p.KEYWORD_ONLY and p.default is p.empty}
    with pytest.raises(TypeError) as err:
        func(adata, *args, **kwargs)
    assert type(err.value).__name__ == "InputTypeError"
    text = str(err.value)
    assert f"rg.{qualname} expects a MuData cohort" in text and "AnnData (4 x 2)" in text, text
    assert 'mudata.MuData({"rna": adata})' in text and "rg.io.build_mudata" in text, text
