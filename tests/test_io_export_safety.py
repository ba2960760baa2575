"""Export safety: hostile names never run as R code, file names never collide, a crash never mixes exports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics._compat import md
from radiogenomics.errors import DataFormatError
from radiogenomics.io._export import file_stem, table_path

HOSTILE = [
    'x <- file.create("HIT_A"); y',
    "`; file.create('HIT_B'); `",
    'a"b\\"); file.create("HIT_C"); ("',
    "line1\nfile.create('HIT_D')\n#",
    "tab\there ünï 😀",
]


def _hostile_cohort() -> md.MuData:
    rng = np.random.default_rng(0)
    ids = [f"P{i}" for i in range(6)]
    mods = {}
    for name in ["18F-FDG", "clinical", "a.b", "a_b", "tables", HOSTILE[0]]:
        var = [*HOSTILE, "plain"]
        adata = ad.AnnData(rng.normal(size=(6, len(var))), obs=pd.DataFrame(index=ids), var=pd.DataFrame(index=var))
        adata.var["note"] = ["x"] * len(var)
        mods[name] = adata
    mdata = md.MuData(mods)
    for i, col in enumerate(HOSTILE):
        mdata.obs[col] = np.arange(6.0) + i
    stem = 'x <- file.create("HIT_E"); y'
    mdata.obs[f"{stem}_months"] = [1.0, 2, 3, 4, 5, 6]
    mdata.obs[f"{stem}_event"] = [True, False, True, True, False, True]
    mdata.uns['k"); file.create("HIT_F"); ("'] = pd.DataFrame({HOSTILE[2]: [1.5, 2.5]})
    return mdata


def test_file_names_are_unique_and_reversible():
    paths = [("mod", "a.b", "X"), ("mod", "a_b", "X"), ("mod", "clinical", "X"), ("mdata", "obs"), ("mod", "%2E", "X")]
    stems = [file_stem(p) for p in paths]
    assert len(set(stems)) == len(paths)
    assert [table_path(s) for s in stems] == paths
    assert all(set(s) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.%") for s in stems)


def test_colliding_modality_names_get_separate_files_and_a_warning(tmp_path):
    mdata = _hostile_cohort()
    with pytest.warns(UserWarning, match=r"table name\(s\) collided"):
        out = rg.io.export_tables(mdata, tmp_path / "t", rds=False)
    manifest = json.loads((out / "manifest.json").read_text())
    csvs = [e["csv"] for e in manifest["tables"].values()]
    assert len(csvs) == len(set(csvs)) == len(list(out.glob("*.csv")))
    # 1 clinical + 6 modalities x (matrix + var) + 1 uns table
    assert len(manifest["tables"]) == 1 + 6 * 2 + 1
    assert manifest["tables"]["clinical"]["path"] == ["mdata", "obs"]
    assert manifest["tables"]["mod.clinical.X"]["path"] == ["mod", "clinical", "X"]
    back = pd.read_csv(out / manifest["tables"]["mod.a_b.X"]["csv"], index_col=0)
    np.testing.assert_allclose(back.to_numpy(), mdata["a_b"].X)
    back = pd.read_csv(out / manifest["tables"]["a_b"]["csv"], index_col=0)
    np.testing.assert_allclose(back.to_numpy(), mdata["a.b"].X)


_R_HOSTILE = r"""
source("{load}")
cat("parsed", length(rg$tables), length(rg$surv), "\n")
m <- rg[["18F_FDG"]]
cat("fdg", dim(m), sprintf("%.12g", m["P2", 1]), "\n")
cat("colnames_ok", identical(colnames(m), {cols}), "\n")
cat("surv", class(rg$surv[[1]]), nrow(rg$surv[[1]]), sum(rg$surv[[1]][, 2]), "\n")
cat("uns", rg$tables[[4]][[2]], "\n")
"""


def _r_vector(values):
    from radiogenomics.io._rscript import _r_string

    return "c(" + ", ".join(_r_string(v) for v in values) + ")"


@pytest.mark.needs_r
@pytest.mark.parametrize("rds", [False, True])
def test_hostile_names_never_run_as_r_code(tmp_path, require_r, rds):
    mdata = _hostile_cohort()
    with pytest.warns(UserWarning, match="collided"):
        out = rg.io.export_tables(mdata, tmp_path / "t", rds=rds)
    manifest = json.loads((out / "manifest.json").read_text())
    uns_name = next(n for n, e in manifest["tables"].items() if e["path"][1] == "uns")
    script = tmp_path / "check.R"
    code = _R_HOSTILE.replace("{load}", str(out / "load.R")).replace("{cols}", _r_vector(mdata["18F-FDG"].var_names))
    code = code.replace("rg$tables[[4]]", f"rg$tables[[{_r_vector([uns_name])[2:-1]}]]")
    script.write_text(code, encoding="utf-8")
    parse = subprocess.run(
        [require_r, "-e", f'invisible(parse("{out / "load.R"}")); cat("ok")'], capture_output=True, text=True
    )
    assert parse.stdout.strip() == "ok", parse.stderr
    res = subprocess.run([require_r, str(script)], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert res.returncode == 0, res.stderr
    assert not list(tmp_path.rglob("HIT*")), "a name from the data ran as R code"
    got = {line.split()[0]: line.split()[1:] for line in res.stdout.strip().splitlines()}
    assert got["parsed"] == [str(sum(e["kind"] == "table" for e in manifest["tables"].values())), "1"]
    assert got["fdg"][:2] == ["6", str(len(HOSTILE) + 1)]
    np.testing.assert_allclose(float(got["fdg"][2]), mdata["18F-FDG"].X[2, 0], rtol=1e-11)
    assert got["colnames_ok"] == ["TRUE"]
    assert got["surv"] == ["Surv", "6", "4"]
    assert got["uns"] == ["1.5", "2.5"]


@pytest.mark.needs_r
def test_load_r_refuses_a_file_from_another_export(tmp_path, mdata, require_r):
    out = rg.io.export_tables(mdata, tmp_path / "t", rds=False)
    other = rg.io.export_tables(mdata[:50].copy(), tmp_path / "u", rds=False)
    (out / "mod.rna.X.csv").write_bytes((other / "mod.rna.X.csv").read_bytes())
    res = subprocess.run([require_r, "-e", f'source("{out / "load.R"}")'], capture_output=True, text=True)
    assert res.returncode != 0
    assert "mod.rna.X.csv" in res.stderr and "differ from the ones this export wrote" in res.stderr
    assert "rg.io.export_tables" in res.stderr


def test_export_refuses_to_replace_a_folder_of_other_files(tmp_path, mdata):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(DataFormatError, match=r"not empty and holds no export manifest.*new or empty folder"):
        rg.io.export_tables(mdata, tmp_path / "mine", rds=False)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    out = rg.io.export_tables(mdata, tmp_path / "exp", rds=False)
    (out / "analysis.R").write_text("x <- 1")
    with pytest.raises(DataFormatError, match=r"analysis\.R.*move them elsewhere"):
        rg.io.export_tables(mdata, out, rds=False)
    (out / "analysis.R").unlink()
    again = rg.io.export_tables(mdata[:30].copy(), out, rds=False)  # an earlier export is replaced whole
    assert json.loads((again / "manifest.json").read_text())["tables"]["rna"]["rows"] == mdata[:30]["rna"].n_obs
    assert not list(tmp_path.glob(".exp.tmp-*"))


# ---- crash safety: kill a writer at several points; the target is the old or the new version -------------

# One helper process imports the package once, then for each kill point forks a writer that
# rewrites the target in a loop, SIGKILLs it after a delay spread over one write, and waits for
# the test to check the target (a line on stdin) before the next kill.
_KILLER = r"""
import os, signal, sys, time
import radiogenomics as rg
from radiogenomics._compat import md
kind, source, target, n_kills = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
mdata = md.read_h5mu(source)
def write():
    if kind == "h5mu":
        rg.io.write_h5mu(mdata, target)
    else:
        rg.io.export_tables(mdata, target, rds=True)
start = time.perf_counter(); write(); duration = time.perf_counter() - start
for k in range(n_kills):
    sys.stdin.readline()  # the test has reset the target to the old version
    pid = os.fork()
    if pid == 0:
        try:
            while True:
                write()
        finally:
            os._exit(0)
    time.sleep(duration * (0.1 + 1.4 * k / n_kills))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    print("killed", k, flush=True)
"""


def _versions(tmp_path):
    new = rg.datasets.synthetic_cohort(n_patients=40, n_genes=300, seed=0)
    old = rg.datasets.synthetic_cohort(n_patients=20, n_genes=300, seed=1)
    new.uns["version"], old.uns["version"] = "new", "old"
    md.MuData.write_h5mu(new, tmp_path / "new_source.h5mu")
    return old, new


def _kill_points(tmp_path, kind, target, reset, n_kills=6):
    """Yield after each SIGKILL of a writer that was replacing ``target``; ``reset()`` writes the old version."""
    cmd = [
        sys.executable,
        "-W",
        "ignore::DeprecationWarning",
        "-c",
        _KILLER,
        kind,
        str(tmp_path / "new_source.h5mu"),
        str(target),
        str(n_kills),
    ]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as proc:
        for k in range(n_kills):
            reset()
            proc.stdin.write("go\n")
            proc.stdin.flush()
            assert proc.stdout.readline().split() == ["killed", str(k)]
            yield k
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_killed_write_h5mu_leaves_old_or_new_file(tmp_path):
    old, new = _versions(tmp_path)
    target = tmp_path / "cohort.h5mu"
    seen = []
    for _ in _kill_points(tmp_path, "h5mu", target, lambda: rg.io.write_h5mu(old, target)):
        back = rg.io.read_h5mu(target)
        version = back.uns["version"]
        seen.append(version)
        expected = new if version == "new" else old
        assert back.n_obs == expected.n_obs
        np.testing.assert_array_equal(back["rna"].X, expected["rna"].X)
    assert set(seen) <= {"old", "new"}
    assert len(list(tmp_path.glob(".cohort.h5mu.tmp-*"))) <= 1  # at most the leftover of the last kill
    rg.io.write_h5mu(old, target)
    assert not list(tmp_path.glob(".cohort.h5mu.tmp-*"))  # the next write clears leftovers


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_killed_export_leaves_old_or_new_folder(tmp_path):
    from radiogenomics.io._atomic import sha256_file

    old, new = _versions(tmp_path)
    target = tmp_path / "tables"
    for _ in _kill_points(tmp_path, "export", target, lambda: rg.io.export_tables(old, target)):
        manifest = json.loads((target / "manifest.json").read_text())
        expected = new if manifest["params"]["version"] == "new" else old
        assert manifest["tables"]["rna"]["rows"] == expected["rna"].n_obs
        listed = {f for e in manifest["tables"].values() for f in e["sha256"]}
        assert {p.name for p in target.iterdir()} == listed | {"manifest.json", "load.R"}
        for entry in manifest["tables"].values():
            for name, digest in entry["sha256"].items():
                assert sha256_file(target / name) == digest, name
        rna = pd.read_csv(target / "mod.rna.X.csv", index_col=0)
        np.testing.assert_allclose(rna.to_numpy(), expected["rna"].X)
