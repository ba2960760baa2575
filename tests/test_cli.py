"""The command line: radiogenomics demo | info | export."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import radiogenomics as rg
from radiogenomics.cli import main


def test_demo_writes_cohort_tables_and_summary(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo"), "--cohort-only"]) == 0  # the study: tests/test_study.py
    out = capsys.readouterr().out
    assert "Cohort: 167 patients, 3 modalities" in out
    assert "Endpoint os: 166 patients with follow-up, 90 events" in out
    mdata = rg.io.read_h5mu(tmp_path / "demo" / "cohort.h5mu")
    assert mdata.n_obs == 167 and len(mdata.uns["pairing"]) == 2324
    manifest = json.loads((tmp_path / "demo" / "r_tables" / "manifest.json").read_text())
    assert manifest["tables"]["radiomics"]["rows"] == 167
    summary = (tmp_path / "demo" / "summary.txt").read_text()
    assert "dropped 1825 input IDs" in summary


def test_info_and_export(tmp_path, mdata, capsys):
    path = rg.io.write_h5mu(mdata, tmp_path / "c.h5mu")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"Cohort: {mdata.n_obs} patients" in out and "radiomics" in out and "truth" in out
    assert main(["export", str(path), str(tmp_path / "tables"), "--no-rds"]) == 0
    assert (tmp_path / "tables" / "load.R").exists() and not list((tmp_path / "tables").glob("*.rds"))


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["info", str(tmp_path / "none.h5mu")]) == 2
    assert "No cohort file at" in capsys.readouterr().err


def test_console_script_runs():
    res = subprocess.run(
        [sys.executable, "-m", "radiogenomics.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0 and "demo" in res.stdout


_LAZY_PROBE = """
import sys
import pytest

import radiogenomics as rg
from radiogenomics.cli import main
heavy = sorted(m for m in ("anndata", "mudata", "pandas", "scipy", "sklearn", "matplotlib") if m in sys.modules)
assert not heavy, f"import radiogenomics loaded {heavy}"
try:
    main(["--help"])
except SystemExit as exit:
    assert exit.code == 0
heavy = sorted(m for m in ("anndata", "mudata", "pandas", "scipy", "sklearn", "matplotlib") if m in sys.modules)
assert not heavy, f"radiogenomics --help loaded {heavy}"
assert "survival" in dir(rg) and "radiogenomics.survival" not in sys.modules
assert rg.survival.cox.__module__ == "radiogenomics.survival._cox"  # loaded on first use
print(rg.__version__)
"""


def test_import_and_help_load_no_heavy_dependency():
    res = subprocess.run([sys.executable, "-c", _LAZY_PROBE], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines()[-1] == rg.__version__


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        rg.nonexistent  # noqa: B018


def test_errors_print_one_line_with_exit_2(tmp_path, mdata, capsys):
    cohort = rg.io.write_h5mu(mdata, tmp_path / "c.h5mu")
    truncated = tmp_path / "t.h5mu"
    truncated.write_bytes(cohort.read_bytes()[:4096])
    assert main(["info", str(truncated)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("radiogenomics info: read_h5mu: ")
    assert "t.h5mu' (4,096 bytes) is truncated or damaged" in err and "copy it again" in err
    assert main(["export", str(tmp_path), str(tmp_path / "out")]) == 2
    assert "is a folder; pass a cohort written by rg.io.write_h5mu" in capsys.readouterr().err


def test_multi_line_messages_and_bare_os_errors_become_one_line():
    from radiogenomics.cli import _one_line
    from radiogenomics.errors import DataFormatError

    problems = DataFormatError(
        "Cannot write this cohort to h5mu:\n  mdata.uns['a/b']: no '/'\n  mdata.obs column 'x': mixed"
    )
    assert (
        _one_line(problems) == "Cannot write this cohort to h5mu: mdata.uns['a/b']: no '/'; mdata.obs column 'x': mixed"
    )
    denied = PermissionError(13, "Permission denied", "/data/cohort.h5mu")
    assert _one_line(denied) == "Permission denied: '/data/cohort.h5mu'; check the path and its permissions."
