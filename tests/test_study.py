"""Study files: validation errors with lines, the step cache, resume after a kill, outputs, Dask."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics import study
from radiogenomics.cli import main

ROOT = Path(__file__).parents[1]


TABLES = [
    ("signature", "coefficients"),
    ("signature", "cv_scores"),
    ("predict_mut_IDH1", "metrics"),
    ("associate", "results"),
    ("compare", "delta_c"),
    ("evaluate", "concordance"),
    ("gsea", "results"),
]


def _assert_same(a, b) -> None:
    """Result tables of two runs are equal (those of ``a``'s steps; ``b`` may have more)."""
    compared = 0
    for key, table in TABLES:
        if key in a.uns:
            pd.testing.assert_frame_equal(a.uns[key][table], b.uns[key][table], rtol=1e-10, obj=f"{key}.{table}")
            compared += 1
    pd.testing.assert_series_equal(a.obs["risk_score_cv"], b.obs["risk_score_cv"], rtol=1e-10)
    np.testing.assert_allclose(a.obsm["X_mofa"], b.obsm["X_mofa"], rtol=1e-10)
    assert compared >= 5


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    file = study.init(folder / "study.yaml", example="synthetic")
    result = study.run(file, progress=False)
    return file, result


def test_run_writes_h5mu_report_r_bundle_and_provenance(first_run):
    file, result = first_run
    out = result.out
    assert (out / "study.h5mu").is_file() and (out / "report.html").is_file()
    assert (out / "r_bundle" / "load.R").is_file()
    info = json.loads((out / "run.json").read_text())
    assert info["seed"] == 0 and info["versions"]["radiogenomics"] == rg.__version__
    # the cache keys change with the installed source, not only with the version number
    assert (
        info["cache_version"].startswith(f"{rg.__version__}+src.") and len(info["cache_version"].split(".")[-1]) == 12
    )
    assert set(info["input_hashes"]) == {
        "inputs.radiomics.path",
        "inputs.omics.rna.path",
        "inputs.omics.mut.path",
        "inputs.clinical.path",
        "steps.enrichment.gene_sets",
    }
    assert [s["name"] for s in info["steps"]] == study.load(file).enabled_steps()[:-1]  # export is the output
    assert all(s["source"] == "ran" and s["peak_mb"] > 0 for s in info["steps"])
    for fig in ("km", "forest", "roc_mut_IDH1", "nomogram", "gsea_dot", "volcano", "mofa_variance"):
        assert (out / "figures" / f"{fig}.png").is_file() and (out / "figures" / f"{fig}.svg").is_file()
    mdata = rg.io.read_h5mu(out / "study.h5mu")
    assert mdata.uns["evaluate"]["params"]["calibration_time"] == 12  # evaluate.calibration_time of the example
    # the clinical column map: days -> months, "Dead" -> event, renamed covariates
    clinical = pd.read_csv(file.parent / "study_data" / "clinical.csv").set_index("Patient")
    assert mdata.obs["os_months"].to_numpy() == pytest.approx(clinical.loc[mdata.obs_names, "OS_days"] / 30.4375)
    assert (mdata.obs["os_event"].astype(bool) == (clinical.loc[mdata.obs_names, "Status"] == "Dead").to_numpy()).all()
    assert {"age", "site", "idh"} <= set(mdata.obs.columns)
    # planted signal: the signature and MOFA find it (synthetic_cohort's hazard factor)
    assert mdata.uns["signature"]["performance"].loc["harrell_c", "mean"] > 0.55
    assert (mdata.uns["associate"]["results"]["padj"] < 0.05).sum() > 20
    html = (out / "report.html").read_text()
    for heading in ("Cohort and pairing", "Survival signature", "Reporting checklist", "Methods"):
        assert heading in html


def test_second_run_served_from_cache(first_run):
    file, result = first_run
    again = study.run(file, progress=False)
    assert [s["source"] for s in again.steps] == ["cache"] * len(result.steps)
    assert "figures          cache" in (again.out / "run.log").read_text()
    _assert_same(again.mdata, rg.io.read_h5mu(result.out / "study.h5mu"))


def test_changed_signature_parameter_reruns_only_it_and_downstream(first_run, tmp_path):
    file, result = first_run
    changed = file.with_name("changed.yaml")
    changed.write_text(file.read_text().replace("n_alphas: 20", "n_alphas: 15"))
    rerun = study.run(changed, out=result.out, progress=False)
    sources = {s["name"]: s["source"] for s in rerun.steps}
    order = [s["name"] for s in rerun.steps]
    after = order[order.index("signature") :]
    assert all(sources[s] == "ran" for s in after)
    assert all(sources[s] == "cache" for s in order[: order.index("signature")])
    assert rerun.mdata.uns["signature"]["params"]["n_alphas"] == 15


def test_force_recomputes_the_step(first_run):
    file, _ = first_run
    forced = study.run(file, force=["evaluate"], progress=False)
    sources = {s["name"]: s["source"] for s in forced.steps}
    assert sources["evaluate"] == "ran" and sources["compare"] == "ran"  # later steps read its result
    assert sources["signature"] == "cache"
    with pytest.raises(study.StudyFileError, match="not a step of this study"):
        study.run(file, force=["extract"], progress=False)


def test_killed_run_resumes_and_equals_uninterrupted_run(first_run, tmp_path):
    file, result = first_run
    file = _variant(file, "killed.yaml", drop=("compare", "nomogram"))
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "agg"}
    cmd = [sys.executable, "-m", "radiogenomics.cli", "run", str(file), "--out", str(out), "--quiet"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / ".cache").glob("mofa-*/meta.json")):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {p.name.split("-")[0] for p in (out / ".cache").glob("*-*") if (p / "meta.json").is_file()}
    assert "mofa" in finished and not (out / "report.html").exists()
    resumed = study.run(file, out=out, progress=False)
    sources = {s["name"]: s["source"] for s in resumed.steps}
    assert all(sources[name] == "cache" for name in finished)
    assert any(src == "ran" for src in sources.values())
    _assert_same(resumed.mdata, rg.io.read_h5mu(result.out / "study.h5mu"))


def test_damaged_cache_entry_is_recomputed(first_run):
    file, result = first_run
    key = next(s["key"] for s in result.steps if s["name"] == "enrichment")
    entry = result.out / ".cache" / f"enrichment-{key[:24]}"
    with (entry / "cohort.h5mu").open("r+b") as handle:
        handle.seek(2000)
        handle.write(b"garbage!")
    with pytest.warns(UserWarning, match="damaged"):
        again = study.run(file, progress=False)
    sources = {s["name"]: s["source"] for s in again.steps}
    assert sources["enrichment"] == "ran" and sources["nomogram"] == "cache"  # recomputed from the last intact entry
    assert (entry / "meta.json").is_file()
    _assert_same(again.mdata, rg.io.read_h5mu(result.out / "study.h5mu"))


def _variant(file: Path, name: str, drop: tuple[str, ...] = ()) -> Path:
    """The synthetic study with PNG figures only and without some steps (faster runs of the same data)."""
    lines, skip = [], False
    for line in file.read_text().splitlines():
        if line.startswith("  ") and not line.startswith("   "):
            skip = line.strip().rstrip(":").split(":")[0] in drop
        if not skip:
            lines.append(line)
    text = "\n".join(lines).replace("name: Synthetic", "report:\n  figure_formats: [png]\nname: Synthetic")
    out = file.with_name(name)
    out.write_text(text + "\n")
    return out


def test_dask_local_cluster_gives_identical_tables(first_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    file, _ = first_run
    file = _variant(file, "dask.yaml", drop=("mofa", "evaluate", "compare", "nomogram"))
    file.write_text(file.read_text().replace("rankings: [risk_score, factors]", "rankings: [risk_score]"))
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        dask_run = study.run(file, out=tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False)
    local = study.run(file, out=tmp_path / "local", progress=False)
    assert all(s["source"] == "ran" for s in dask_run.steps)
    for key in ("associate", "predict_mut_IDH1", "signature", "gsea"):
        for name, table in local.mdata.uns[key].items():
            if isinstance(table, pd.DataFrame):
                pd.testing.assert_frame_equal(dask_run.mdata.uns[key][name], table, obj=f"{key}.{name}")


# ------------------------------------------------------------------------------------- study file errors
GOOD = """\
inputs:
  dataset: synthetic
  dataset_options: {n_patients: 40}
steps:
  signature:
    cv: 3
"""


def _error(tmp_path, text: str, exc=study.StudyFileError) -> str:
    file = tmp_path / "s.yaml"
    file.write_text(text)
    with pytest.raises(exc) as info:
        study.load(file)
    return str(info.value)


def test_good_file_loads(tmp_path):
    file = tmp_path / "s.yaml"
    file.write_text(GOOD)
    loaded = study.load(file)
    assert loaded.steps.signature.cv == 3 and loaded.enabled_steps() == ["pair", "signature"]


def test_typo_in_key_names_line_and_suggests(tmp_path):
    msg = _error(tmp_path, GOOD.replace("    cv: 3", "    cvv: 3"))
    assert msg.count("\n") == 0
    assert "line 6" in msg and "'cvv'" in msg and "did you mean 'cv'?" in msg


def test_wrong_type_names_line_and_expected_type(tmp_path):
    msg = _error(tmp_path, GOOD.replace("    cv: 3", "    cv: five"))
    assert "line 6" in msg and "steps.signature.cv" in msg and "integer" in msg and "'five'" in msg


def test_unknown_step_names_line_and_suggests(tmp_path):
    msg = _error(tmp_path, GOOD + "  enrichement:\n    permutations: 10\n")
    assert "line 7" in msg and "unknown step 'enrichement'" in msg and "did you mean 'enrichment'?" in msg


def test_key_suggestion_only_for_real_typos(tmp_path):
    msg = _error(tmp_path, GOOD + "  signatur:\n    cv: 3\n")
    assert "unknown step 'signatur'" in msg and "did you mean 'signature'?" in msg
    msg = _error(tmp_path, GOOD + "  frobnicate: {}\n")
    assert "line 7" in msg and "unknown step 'frobnicate'" in msg and "did you mean" not in msg
    assert "Valid steps: extract, robustness, pair, filter, harmonize" in msg
    assert study._load.closest("harmonise", ["harmonize", "normalize"]) == "harmonize"
    assert study._load.closest("frobnicate", ["harmonize", "normalize"]) is None
    assert study._load.closest("cv", ["cv", "repeats"]) == "cv"


def test_unknown_step_suggests_the_step_it_extends_and_reads_as_a_sentence(tmp_path):
    msg = _error(tmp_path, GOOD + "  pairing:\n    how: inner\n")
    assert "unknown step 'pairing' in steps; did you mean 'pair'? Valid steps:" in msg
    msg = _error(tmp_path, GOOD + "  frobnicate: {}\n")
    assert "unknown step 'frobnicate' in steps. Valid steps:" in msg
    assert study._load.closest("enrich", ["enrichment", "evaluate"]) == "enrichment"
    assert study._load.closest("mut", ["mutation_status", "markers"]) is None  # too short to tell


@pytest.mark.parametrize("seed", ["-1", "4294967296", "1.5"])
def test_seed_must_be_a_non_negative_32_bit_integer(tmp_path, seed):
    msg = _error(tmp_path, f"seed: {seed}\n" + GOOD)
    assert msg.startswith("s.yaml, line 1, column 1: 'seed': expected") and f"(got {seed})" in msg
    file = tmp_path / "ok.yaml"
    file.write_text("seed: 4294967295\n" + GOOD)
    assert study.load(file).seed == 2**32 - 1


def test_examples_state_the_who_cns5_idh_rule():
    from radiogenomics.omics._mutations import WHO_CNS5_IDH

    for name in study.EXAMPLES:
        text = (ROOT / "radiogenomics" / "study" / "examples" / f"{name}.yaml").read_text()
        if "mutation_status" not in text:
            continue
        block = text[text.index("mutation_status") : text.index("groups:")]
        comment = " ".join(line.split("#", 1)[-1].strip() for line in block.splitlines())
        assert "non-silent" not in comment and "WHO CNS5" in comment, name
        for feature in WHO_CNS5_IDH["IDH"]:  # IDH1_R132, IDH2_R172: the default the comment describes
            assert feature in comment and feature.replace("_", " ") in comment, name


def test_missing_input_file_names_line(tmp_path):
    text = "inputs:\n  radiomics:\n    path: nowhere.csv\nsteps:\n  pair: {}\n"
    msg = _error(tmp_path, text, exc=study.MissingInputError)
    assert "line 3" in msg and "nowhere.csv" in msg and "inputs.radiomics.path" in msg


def test_unknown_xena_units_names_line_and_choices(tmp_path):
    # checked when the file is read (the values read_xena_matrix takes), not when the step runs
    text = (
        "inputs:\n  omics:\n    rna:\n      path: rna.tsv\n      format: xena\n      units: tpm\nsteps:\n  pair: {}\n"
    )
    msg = _error(tmp_path, text)
    assert msg.startswith("s.yaml, line 6, column 7: 'inputs.omics.rna.units': expected")
    assert "'log2(tpm+0.001)'" in msg and "'linear' or 'other' (got 'tpm')" in msg
    (tmp_path / "rna.tsv").write_text("sample\tS1\nG1\t1.0\n")
    good = tmp_path / "good.yaml"
    good.write_text(text.replace("units: tpm", "units: log2(tpm+0.001)"))
    assert study.load(good).inputs.omics["rna"].units == "log2(tpm+0.001)"


def test_missing_dependency_and_bad_yaml(tmp_path):
    msg = _error(tmp_path, "inputs:\n  dataset: synthetic\nsteps:\n  compare:\n    clinical: [age]\n")
    assert "line 4" in msg and "needs steps.signature" in msg
    msg = _error(
        tmp_path, "inputs:\n  dataset: synthetic\nsteps:\n  signature: {}\n  enrichment:\n    rankings: [factors]\n"
    )
    assert "line 5" in msg and "'factors' needs steps.mofa" in msg
    msg = _error(tmp_path, "inputs:\n  dataset: [synthetic\n")
    assert "not valid YAML" in msg and "line 3" in msg
    msg = _error(tmp_path, "inputs:\n  dataset: synthetic\ninputs:\n  dataset: tcga_glioma\n")
    assert "appears twice" in msg and "line 3" in msg


def _table_study(tmp_path, clinical: bytes, features: bytes = b"patient_id,f1,f2\nP1,1,2\nP2,3,4\n") -> Path:
    (tmp_path / "features.csv").write_bytes(features)
    (tmp_path / "clinical.csv").write_bytes(clinical)
    file = tmp_path / "tables.yaml"
    file.write_text(
        "inputs:\n  radiomics:\n    path: features.csv\n    id_column: patient_id\n"
        "  clinical:\n    path: clinical.csv\n    columns: {id: Patient}\n  id_rule: null\nsteps:\n  pair: {}\n"
    )
    return file


UNREADABLE = [
    (b"Patient,Age\nP1,50\nP2,60,7\n", "clinical.csv, line 3, column 7: 3 fields where the header has 2", "quotes"),
    (b"Patient;Age\nP1;50\n", "clinical.csv, line 1: one column 'Patient;Age'", 'Set inputs.clinical.sep: ";"'),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "clinical.csv, line 1, column 1 (byte 0x89", "binary content"),
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00", "clinical.csv, line 1, column 1 (byte 0x50", "Excel .xlsx"),
    ("Patient,Age\nJos\xe9,50\n".encode("latin-1"), "clinical.csv, line 2, column 4 (byte 0xe9", "save it as UTF-8"),
    (b"", "clinical.csv is empty", "point the key at the table"),
]


@pytest.mark.parametrize(("content", "where", "fix"), UNREADABLE)
def test_unreadable_input_table_names_file_line_key_and_fix(tmp_path, content, where, fix):
    file = _table_study(tmp_path, content)
    with pytest.raises(rg.errors.DataFormatError) as info:
        study.run(file, progress=False)
    msg = str(info.value)
    assert msg.startswith(where) and fix in msg
    assert "inputs.clinical.path (tables.yaml, line 6)" in msg or "inputs.clinical.sep" in msg


def test_unreadable_feature_table_names_its_key(tmp_path):
    file = _table_study(tmp_path, b"Patient,Age\nP1,50\n", features=b"patient_id\tf1\nP1\t1\nP2\t2\t3\n")
    file.write_text(file.read_text().replace("id_column: patient_id", 'id_column: patient_id\n    sep: "\\t"'))
    with pytest.raises(rg.errors.DataFormatError) as info:
        study.run(file, progress=False)
    msg = str(info.value)
    assert msg.startswith("features.csv, line 3, column 6: 3 fields where the header has 2 (tab-separated)")
    assert "inputs.radiomics.path (tables.yaml, line 3)" in msg and "set inputs.radiomics.sep" in msg


def test_cli_init_run_and_errors(tmp_path, capsys):
    file = tmp_path / "g.yaml"
    assert main(["init", str(file)]) == 0
    assert study.load(file).steps.compare.clinical == ["age", "grade", "idh_mutant"]
    assert main(["init", str(file)]) == 2  # exists
    err = capsys.readouterr().err
    assert "add --force to overwrite it" in err and "overwrite=True" not in err
    assert main(["init", str(file), "--overwrite"]) == 0
    assert main(["init", str(tmp_path)]) == 2
    assert "is a folder; give the study file to write in it" in capsys.readouterr().err
    assert main(["run", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a folder, not a study file (it holds g.yaml)" in err and "g.yaml" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("cv: 3", "cv: [3]"))
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml, line 6" in err and "steps.signature.cv" in err


def test_plots_show_reference_levels_and_cut_at_risk_rows():
    from matplotlib.figure import Figure

    mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=100, seed=0)
    mdata.obs["site"] = mdata.obs["site"].astype("category")
    rg.survival.cox(mdata, ["age", "site"])
    ax = rg.pl.forest(mdata, ax=Figure().add_subplot())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["age", "site [site2 vs site1]", "site [site3 vs site1]"]
    rg.survival.kaplan_meier(mdata, groupby="idh_mutant")
    full = rg.pl.kaplan_meier(mdata, ax=Figure().add_subplot())
    cut = rg.pl.kaplan_meier(mdata, ax=Figure().add_subplot(), min_at_risk=10)
    numbers = [[int(t.get_text()) for t in a.texts if t.get_text().isdigit()] for a in (full, cut)]
    assert min(numbers[0]) < 10 and min(numbers[1]) >= 10 and len(numbers[1]) < len(numbers[0])
    assert full.get_xlabel() == "time (months)"


def test_external_validation_cohort_and_images_example(tmp_path):
    text = """\
inputs:
  dataset: synthetic
  dataset_options: {n_patients: 80, n_genes: 100, seed: 0}
  validation:
    dataset: synthetic
    dataset_options: {n_patients: 60, n_genes: 100, seed: 1, structure_seed: 0}
report:
  figure_formats: [png]
steps:
  signature: {cv: 3, n_alphas: 15}
  evaluate: {n_boot: 10}
"""
    file = tmp_path / "validation.yaml"
    file.write_text(text)
    result = study.run(file, progress=False)
    valid = rg.io.read_h5mu(result.out / "validation.h5mu")
    assert valid.n_obs == 60 and valid.obs["risk_score"].notna().all()
    assert valid.uns["evaluate"]["concordance"].loc["harrell_c", "estimate"] > 0.55  # planted hazard factor
    html = result.report.read_text()
    assert "External validation" in html and "signature applied unchanged to an external cohort of 60 patients" in html

    images = study.init(tmp_path / "images.yaml", example="images")
    run = study.run(images, jobs=1, progress=False)
    sources = [s["name"] for s in run.steps]
    assert sources == ["extract", "robustness", "pair", "filter", "predict"]
    params = run.mdata["radiomics"].uns["filter_features"]["params"]
    assert params["min_icc"] == 0.5 and params["n_features_after"] < params["n_features_before"] == 32
    # lesion size is planted in the images: shape features predict it
    assert run.mdata.uns["predict_large"]["metrics"].loc[0, "value"] > 0.8
    assert (run.out / "figures" / "icc.png").is_file()


def test_clinical_column_map_typo_names_the_key_and_the_closest_column(tmp_path):
    file = study.init(tmp_path / "s.yaml", example="synthetic")
    text = file.read_text()
    assert "      time: OS_days" in text
    file.write_text(text.replace("      time: OS_days", "      time: OS_day"))
    with pytest.raises(rg.errors.MissingColumnError) as err:
        study.run(file, progress=False)
    msg = str(err.value)
    assert "inputs.clinical.columns" in msg and "time: OS_day (did you mean 'OS_days'?)" in msg
    assert "columns are Patient, Age, Site, IDH, OS_days, Status" in msg
