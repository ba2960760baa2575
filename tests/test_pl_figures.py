"""Publication figures: labels, units, threshold lines and readable names that the plots must show."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

import radiogenomics as rg
from radiogenomics.pl._enrich import set_name
from radiogenomics.pl._utils import at_time, event_name, survival_at, time_label


def _axes(size=(6, 4)):
    return Figure(figsize=size, layout="constrained").add_subplot()


@pytest.fixture(scope="module")
def evaluated():
    mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=100, seed=0)
    mdata.obs["score"] = mdata.uns["truth"]["factors"]["F1"]
    rg.survival.evaluate(mdata, "score", n_boot=5, calibration_time=12)
    return mdata


def test_time_units_and_events_in_words():
    assert time_label("os_months") == "time (months)"
    assert time_label("week") == "time (weeks)"
    assert time_label("followup") == "followup"  # no unit in the name: the name itself
    assert at_time(13.1349, "os_months") == "13.13 months"
    assert at_time(12.0, "pfs_days") == "12 days"
    assert survival_at(12, "os_months") == "12-month survival probability"
    assert survival_at(12, "t") == "survival probability at 12"
    assert event_name("os_event") == "death"
    assert event_name("pfs_event") == "progression or death"
    assert event_name("status") == "the event"


def test_volcano_draws_the_fdr_line_and_labels_without_overlap():
    mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=200, seed=0)
    rg.integrate.associate(mdata, y="rna", y_features=mdata.mod["rna"].var_names[:80])
    ax = rg.pl.volcano(mdata, ax=_axes((5.5, 4.5)), label_top=10)
    table = rg.get.associations(mdata)
    cutoff = -np.log10(table.loc[table["padj"] <= 0.05, "p"].astype(np.float32).max())
    lines = [line for line in ax.get_lines() if line.get_label() == "FDR 5%"]
    assert len(lines) == 1 and isinstance(lines[0], Line2D)
    assert np.allclose(lines[0].get_ydata(), cutoff, rtol=1e-6)
    assert "FDR 5%" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(ax.texts) == 10
    ax.figure.draw_without_rendering()
    boxes = [Text.get_window_extent(t) for t in ax.texts]  # the label text alone
    frame = ax.get_window_extent()
    assert all(frame.y0 - 1 <= b.y0 and b.y1 <= frame.y1 + 1 for b in boxes)
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_volcano_labels_use_readable_names():
    from radiogenomics.study._figures import radiomic_label

    mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=200, seed=0)
    rg.integrate.associate(mdata, y="rna", y_features=mdata.mod["rna"].var_names[:20])
    names = {f: radiomic_label(f) for f in mdata.mod["radiomics"].var_names}
    plain = [t.get_text() for t in rg.pl.volcano(mdata, ax=_axes(), label_top=5).texts]
    readable = [t.get_text() for t in rg.pl.volcano(mdata, ax=_axes(), label_top=5, labels=names).texts]
    assert [t.split(" | ")[1] for t in readable] == [t.split(" | ")[1] for t in plain]  # genes unlisted: unchanged
    assert [t.split(" | ")[0] for t in readable] == [names[t.split(" | ")[0]] for t in plain]


def test_volcano_without_significant_pairs_has_no_fdr_line():
    mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=200, seed=0)
    rg.integrate.associate(mdata, y="rna", y_features=mdata.mod["rna"].var_names[:20])
    ax = rg.pl.volcano(mdata, ax=_axes(), alpha=1e-300)
    assert not [line for line in ax.get_lines() if line.get_label().startswith("FDR")]
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == [
        f"adj. p > 1e-300 ({len(ax.collections[0].get_offsets()):,})",
        "adj. p \u2264 1e-300 (0)",
    ]
    title = rg.pl.associate_heatmap(mdata, ax=_axes()).get_title()
    assert title == "Association map (adjusted p: * \u2264 0.05, ** \u2264 0.01, *** \u2264 0.001)"  # no raw 'padj'


def test_calibration_and_decision_curve_name_the_time_point_with_its_unit(evaluated):
    ax = rg.pl.calibration(evaluated, ax=_axes())
    assert ax.get_xlabel() == "predicted risk of death by 12 months"
    assert ax.get_ylabel() == "observed risk of death by 12 months (Kaplan-Meier)"
    assert re.fullmatch(
        r"calibration at 12 months: slope -?\d\.\d\d \(95% CI -?\d\.\d\d to -?\d\.\d\d\)", ax.get_title()
    )
    table = evaluated.uns["evaluate"]["calibration"]
    x, y = ax.lines[0].get_data()  # the points: risk = 1 - survival
    assert np.allclose(x, 1 - table["predicted"]) and np.allclose(y, 1 - table["observed"])
    ax = rg.pl.decision_curve(evaluated, ax=_axes())
    assert ax.get_xlabel() == "threshold probability (risk of death by 12 months)"
    assert ax.get_ylabel() == "net benefit"
    assert rg.pl.time_auc(evaluated, ax=_axes()).get_xlabel() == "time (months)"


def test_nomogram_names_survival_axes_and_boolean_levels():
    mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=100, seed=0)
    rg.survival.cox(mdata, ["age", "idh_mutant"])
    rg.survival.nomogram(mdata, times=[12, 24])
    ax = rg.pl.nomogram(mdata, ax=_axes((8, 4)))
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows[-2:] == ["12-month survival probability", "24-month survival probability"]
    texts = [t.get_text() for t in ax.texts]
    assert {"yes", "no"} <= set(texts)
    assert ax.get_title() == "Nomogram"
    assert not {"True", "False"} & set(texts + rows)
    assert not any(row.startswith("S(") for row in rows)


def test_forest_writes_boolean_reference_levels_in_words():
    mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=100, seed=0)
    rg.survival.cox(mdata, ["age", "idh_mutant"])
    ax = rg.pl.forest(mdata, ax=_axes())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["age", "idh_mutant [yes vs no]"]


def test_gene_set_names_are_readable():
    assert set_name("HALLMARK_TNFA_SIGNALING_VIA_NFKB") == "Hallmark: TNFA signaling via NFKB"
    assert set_name("HALLMARK_KRAS_SIGNALING_DN") == "Hallmark: KRAS signaling down"
    assert set_name("HALLMARK_E2F_TARGETS") == "Hallmark: E2F targets"
    assert set_name("HALLMARK_EPITHELIAL_MESENCHYMAL_TRANSITION", width=34) == (
        "Hallmark: Epithelial mesenchymal\ntransition"
    )
    assert set_name("PLANTED_F1") == "PLANTED_F1"  # no known collection: as it is


def test_enrichment_dotplot_font_names_and_height_grow_with_sets():
    mdata = rg.datasets.synthetic_cohort(n_patients=60, seed=0)
    x = mdata["rna"].X
    mdata["rna"].layers["log"] = np.log1p(x / x.sum(axis=1, keepdims=True) * 1e6)
    genes = mdata.uns["truth"]["gene_sets"].groupby("term")["gene"]
    sets = {f"HALLMARK_{t}_SIGNALING": g.tolist() for t, g in genes}
    sets |= {f"HALLMARK_RANDOM_{i}": list(mdata["rna"].var_names[i * 20 : i * 20 + 15]) for i in range(5)}
    ranking = "radiomics:CT_tumour_original_shape_Elongation"
    rg.enrich.gsea(mdata, [ranking], layer="log", gene_sets=sets, n_permutations=20, seed=0)
    small, large = rg.pl.enrichment_dotplot(mdata, top=3), rg.pl.enrichment_dotplot(mdata, top=8)
    ticks = list(large.get_yticklabels())
    assert all(t.get_text().startswith("Hallmark: ") for t in ticks)
    assert min(t.get_fontsize() for t in ticks) >= 8
    assert large.figure.get_figheight() > small.figure.get_figheight() + 1
    plt.close(small.figure)
    plt.close(large.figure)


def test_competing_risk_and_validation_plots_carry_the_time_unit():
    mdata = rg.datasets.synthetic_cohort(n_patients=120, n_genes=100, seed=0)
    died = mdata.obs["os_event"].to_numpy(dtype=bool)
    mdata.obs["outcome"] = np.where(died, np.where(mdata.obs["idh_mutant"], 2, 1), 0)
    mdata.obs["os_days"] = mdata.obs["os_months"] * 30.44
    rg.survival.cumulative_incidence(mdata, cause="outcome", time="os_days", groupby="site")
    assert rg.pl.cumulative_incidence(mdata, cause="1", ax=_axes()).get_xlabel() == "Time (OS, days)"
    rg.survival.validate(mdata, ["age", "idh_mutant"], n_boot=5, t0=12)
    assert rg.pl.calibration_curve(mdata, ax=_axes()).get_xlabel() == "Predicted risk of death by 12 months"


def test_report_labels_replace_raw_names_in_terms_combinations_and_texts():
    from radiogenomics.study._figures import _relabel

    ax = _axes()
    ax.set_yticks([0, 1, 2], ["idh_mutant [yes vs no]", "radiomics + mut", "age"])
    ax.set_xlabel("gene rank in risk_score_cv (n = 10)")
    ax.set_title("calibration at 12 months")
    _relabel(ax, {"age": "Age at diagnosis"})
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["IDH mutant (yes vs no)", "Radiomics + Mutations", "Age at diagnosis"]
    assert ax.get_xlabel() == "Gene rank in Radiomic risk score (n = 10)"
    assert ax.get_title() == "Calibration at 12 months"  # titles start with a capital as the axis labels do


def test_volcano_draws_into_a_subfigure():
    mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=200, seed=0)
    rg.integrate.associate(mdata, y="rna", y_features=mdata.mod["rna"].var_names[:20])
    left, _ = Figure(layout="constrained").subfigures(1, 2)
    ax = rg.pl.volcano(mdata, ax=left.add_subplot(), label_top=3)
    assert len(ax.texts) == 3


def test_mofa_variance_values_read_on_dark_cells_and_title_has_no_default_group():
    mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=100, seed=0)
    rg.integrate.mofa(mdata, mods=["radiomics", "rna"], n_factors=3, scale_features=True, max_iter=100)
    ax = rg.pl.mofa_variance(mdata, ax=_axes())
    assert ax.get_title() == "Variance explained (%)"  # not the internal group name 'group1'
    cells = {float(t.get_text()): t.get_color() for t in ax.texts}
    top = max(cells)
    assert cells[top] == "white" and all(c == "black" for v, c in cells.items() if v <= 0.6 * top)
