"""What a study run shows its reader: report tables, notes from the run and progress lines."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from html import unescape
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics import study
from radiogenomics.study._runner import recorded_warnings
from radiogenomics.study._tables import format_table


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A small synthetic study with a signature, its evaluation, a prediction and the added value."""
    folder = tmp_path_factory.mktemp("small")
    file = folder / "small.yaml"
    file.write_text(
        "inputs:\n  dataset: synthetic\n  dataset_options: {n_patients: 60, n_genes: 100, seed: 0}\n"
        "report:\n  figure_formats: [png]\n"
        "steps:\n  filter: {}\n  associate: {}\n  predict: {targets: [idh_mutant], cv: 3}\n  signature: {cv: 3, n_alphas: 10}\n"
        "  evaluate: {n_boot: 5, times: [6.62, 12]}\n  compare: {clinical: [age], n_boot: 5, cv: 3}\n"
    )
    return study.run(file, progress=False)


def _cells(html: str, heading: str) -> tuple[list[str], list[list[str]]]:
    """Header and body cells of the table under ``<h3>heading</h3>``."""
    block = html.split(f"<h3>{heading}</h3>", 1)[1].split("</table>", 1)[0]
    head = re.findall(r"<th(?: [^>]*)?>(.*?)</th>", block)
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", block.split("</thead>")[1])]
    return head, rows


def test_numbers_formatted_by_meaning_and_headers_in_words():
    frame = pd.DataFrame(
        {"mean": [0.62125, 0.6073], "sd": [0.11477, 0.143], "n_folds": [5.0, 5.0], "p": [3.2e-7, 0.2], "q": np.nan},
        index=pd.Index(["harrell_c", "auc_6.62"], name="metric"),
    )
    table = format_table(frame)
    assert table["columns"] == ["Metric", "Mean", "SD", "Folds", "p"]  # all-empty column dropped
    assert table["rows"] == [
        ["Harrell's C", "0.621", "0.115", "5", "3.20e-07"],
        ["AUC at 6.6 months", "0.607", "0.143", "5", "0.20"],
    ]
    assert table["numeric"] == [False, True, True, True, True]
    ci = format_table(pd.DataFrame({"metric": ["auc"], "value": [0.8761], "ci_lower": [0.8162], "ci_upper": [0.934]}))
    assert ci["columns"] == ["Metric", "Estimate (95% CI)"] and ci["rows"] == [["AUC", "0.876 (0.816 to 0.934)"]]


def test_report_tables_have_no_raw_names_or_stray_index(small_run):
    html = small_run.report.read_text()
    head, rows = _cells(html, "Signature: cross-validated performance")
    assert head == ["Metric", "Mean", "SD", "Folds"]
    assert rows[0][0] == "Harrell&#39;s C" and all(re.fullmatch(r"AUC at \d+\.\d months", r[0]) for r in rows[3:])
    assert {r[3] for r in rows} == {"3"}  # n_folds as an integer
    head, rows = _cells(html, "Idh mutant: metrics (nested CV)".replace("Idh", "IDH"))
    assert head[:2] == ["Metric", "Estimate (95% CI)"] and "Permutation p" not in head  # no permutations: no p
    assert rows[0][0] == "AUC" and re.fullmatch(r"0\.\d{3} \(0\.\d{3} to [01]\.\d{3}\)", rows[0][1])
    head, rows = _cells(html, "Likelihood-ratio test")
    assert head == ["Test", "Chi-square", "df", "p"] and re.fullmatch(r"\d\.\d\de-\d\d|0\.\d+", rows[0][3])
    assert rows[0][2] == "1"
    for raw in ("auc_", "n_folds", "ci_lower", "harrell_c", "<th></th>", "5.000", "3.000"):
        assert raw not in html, raw


def test_report_text_in_words(small_run):
    from radiogenomics.study._report import _reason

    html = unescape(small_run.report.read_text())
    res = small_run.mdata.uns["associate"]
    passed = int((res["padj"] <= 0.05).sum())
    assert passed > 0  # planted radiomics-expression blocks
    assert f"{passed:,} of {res['padj'].size:,} tested pairs (" in html and "Benjamini-Hochberg" in html
    _, rows = _cells(small_run.report.read_text(), "Top 15 pairs by p")
    assert len(rows) == 15 and all(re.fullmatch(r"\d\.\d\de-\d\d", r[3]) for r in rows)
    _, rows = _cells(small_run.report.read_text(), "Feature filter")
    assert rows[0][0] == "Features before filtering" and ["Correlation used for redundancy", "Spearman"] in rows
    assert "AUC with 95% CI for IDH mutant" in html and "clinical model: Age (years);" in html
    assert "<td>computed</td>" in html or "<td>from the cache</td>" in html
    text = "not in cohort: patient has no 'radiomics' data (how='radiomics')"
    assert _reason(text, study.load(small_run.out.parent / "small.yaml")) == "not in the cohort: no Radiomics data"


def test_recorded_warnings_separate_the_package_notes_from_dependencies():
    mdata = rg.datasets.synthetic_cohort(n_patients=30, n_genes=100, seed=0)
    mdata.obs.loc[mdata.obs_names[0], "os_months"] = np.nan
    with recorded_warnings() as (own, other):
        rg.survival.cox(mdata, ["age"])  # the package: one patient excluded
        ad.AnnData(np.zeros((2, 2)), var=pd.DataFrame(index=["g", "g"]))  # anndata's own UserWarning
        warnings.warn("a library changes its default", FutureWarning, stacklevel=1)
    assert len(own) == 1 and own[0].startswith("cox: 1 of 30 patients have a missing 'os_months'")
    assert any(t.startswith("UserWarning (anndata") and "not unique" in t for t in other)
    assert any(t.startswith("FutureWarning (") and "changes its default" in t for t in other)
    assert not any("os_months" in t for t in other)


def test_report_notes_hold_package_notes_and_run_json_the_rest(small_run):
    info = json.loads((small_run.out / "run.json").read_text())
    steps = {s["name"]: s for s in info["steps"]}
    assert all("dependency_warnings" in s for s in steps.values())
    html = small_run.report.read_text()
    notes = unescape(html.split("<h3>Notes from the run</h3>", 1)[1])
    for step in steps.values():
        for text in step["dependency_warnings"]:
            assert text.split(": ", 1)[1][:60] not in html
    assert "Warning" not in notes.split("</ul>")[0].split("<ul", 1)[1]
    own = [t for s in steps.values() for t in s["warnings"]]
    assert own and all(re.sub(r"^[a-z_]+: ", "", t)[:40] in notes for t in own)


def test_progress_without_a_terminal_is_one_line_per_step(small_run, capsys):
    file = small_run.out.parent / "small.yaml"
    study.run(file, out=small_run.out, force=["evaluate"], progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    steps = [s["name"] for s in small_run.steps]
    assert [line.split()[0] for line in lines] == [*steps, "figures"]
    status = {line.split()[0]: line.split()[1] for line in lines}
    assert status["signature"] == "cached" and status["evaluate"] == status["compare"] == "ran"
    assert all(re.search(r"\d+\.\d s", line) for line in lines[:-1])


def test_cli_run_into_a_log_file_has_no_carriage_returns(small_run, tmp_path):
    file = small_run.out.parent / "small.yaml"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]), "MPLBACKEND": "agg"}
    with (tmp_path / "log.txt").open("w") as log:
        cmd = [sys.executable, "-m", "radiogenomics.cli", "run", str(file), "--out", str(small_run.out)]
        subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, check=True, timeout=600)
    text = (tmp_path / "log.txt").read_text()
    assert "\r" not in text
    names = [line.split()[0] for line in text.splitlines() if line.startswith("  ")]
    assert names == [*(s["name"] for s in small_run.steps), "figures"]  # once each, not twice


def test_gene_set_table_uses_the_dot_plot_names_and_journal_p_values(small_run):
    from radiogenomics.study._tables import report_tables

    mdata = small_run.mdata
    res = pd.DataFrame(
        {"ranking": ["mofa:2"], "term": ["HALLMARK_TNFA_SIGNALING_VIA_NFKB"], "nes": [1.4], "p": [0.2], "padj": [0.31]}
    )
    mdata.uns["gsea"] = {"results": res}
    try:
        tables = report_tables(mdata, study.load(small_run.out.parent / "small.yaml", check_files=False))
    finally:
        del mdata.uns["gsea"]
    (title, table), *_ = tables["enrichment"]
    assert title == "Top gene sets"
    assert table["rows"] == [["MOFA factor 2", "Hallmark: TNFA signaling via NFKB", "1.400", "0.20", "0.31"]]


def test_checklist_judges_events_per_term_and_states_the_calibration_slope(small_run):
    from radiogenomics.study._checklist import EVENTS_PER_TERM, _calibration_evidence, checklist
    from radiogenomics.study._steps import State

    file = next(small_run.out.parent.glob("small.yaml"))
    items = {i["item"]: i for i in checklist(study.load(file), State(mdata=small_run.mdata))}
    size = items["Sample size: events per candidate term"]
    params = small_run.mdata.uns["signature"]["params"]
    per_term = params["n_events"] / len(small_run.mdata.uns["signature"]["selection"])
    assert f"{per_term:.2g} events per candidate term" in size["evidence"]
    assert size["status"] == ("met" if per_term >= EVENTS_PER_TERM else "not met")
    slope = small_run.mdata.uns["evaluate"]["calibration_slope"].iloc[0]
    assert f"calibration slope {slope['slope']:.2f}" in items["Calibration reported"]["evidence"]
    table = pd.DataFrame({"slope": [2.96], "ci_lower": [1.4], "ci_upper": [4.5]})
    assert _calibration_evidence({"evaluate": {"calibration_slope": table}}).endswith("too modest (underfitting)")
    table = pd.DataFrame({"slope": [0.5], "ci_lower": [0.3], "ci_upper": [0.8]})
    assert _calibration_evidence({"evaluate": {"calibration_slope": table}}).endswith("too extreme (overfitting)")


@pytest.mark.parametrize(
    ("name", "readable"),
    [
        ("CT_tumour_original_shape_Elongation", "Shape Elongation (CT tumour)"),
        ("original_glcm_Contrast", "GLCM Contrast"),
        ("MR_gtv_wavelet-LLH_firstorder_Mean", "First-order Mean (MR gtv, wavelet-LLH)"),
        ("TEXTURE_GLCM_ET_T1Gd_Contrast", "GLCM Contrast (enhancing tumour, T1-Gd)"),
        ("HISTO_ED_FLAIR_Bin3", "Histogram bin 3 (oedema, FLAIR)"),
        ("INTENSITY_STD_NET_T2", "Intensity SD (necrotic/non-enhancing core, T2)"),
        ("VOLUME_ET_OVER_BRAIN", "Volume ratio enhancing tumour / brain"),
        ("TGM_Cog_X_1", None),  # no documented meaning: stays raw
        ("risk_score_cv", None),
    ],
)
def test_radiomic_feature_names_read_as_words(name, readable):
    from radiogenomics.study._figures import label, radiomic_label

    assert radiomic_label(name) == readable
    assert label(name, {name: "own label"}) == "own label"  # the study's labels map wins


def test_top_pairs_table_shows_readable_feature_names(small_run):
    head, rows = _cells(small_run.report.read_text(), "Top 15 pairs by p")
    assert head[0] == "Radiomics feature" and rows
    assert not any("_original_" in r[0] for r in rows)
    assert all(re.search(r"\((CT|MR|PET)[^)]*\)$", r[0]) for r in rows), [r[0] for r in rows]
