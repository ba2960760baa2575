"""NRI, IDI and median risk improvement against R (survIDINRI 1.1-2, nricens 1.6) on survival::pbc."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics.survival._reclass import idi_nri

DATA = Path(__file__).parent / "data" / "reclass"
REF = pd.read_csv(DATA / "r_reference.csv").set_index(["dataset", "source", "measure"])["value"]
PBC = pd.read_csv(DATA / "pbc.csv")
RISKS = pd.read_csv(DATA / "risks.csv")
OLD = ["age", "albumin", "edema", "protime"]
CASES = {"pbc": (416, 2000.0), "pbc100": (100, 1825.0)}
# survIDINRI integrates on a 2,000-point grid over [-1, 1] (step 1.0005e-3): medians are mid-points
# of grid cells (within half a step), IDI a trapezoid area; its Fortran ECDF is single precision.
# M2 = P(up | event) - P(up | non-event) is half the IPW NRI when no predicted risk is unchanged.
SURVIDINRI = [
    ("m1", lambda r: r["idi"], 3e-4),
    ("m1_events", lambda r: r["idi_events"], 3e-4),
    ("m1_nonevents", lambda r: r["idi_nonevents"], 3e-4),
    ("m2", lambda r: r["nri_ipw"] / 2, 1e-6),
    ("m2_events", lambda r: (1 + r["nri_ipw_events"]) / 2, 1e-6),
    ("m2_nonevents", lambda r: (1 - r["nri_ipw_nonevents"]) / 2, 1e-6),
    ("m3", lambda r: r["median_improvement"], 5.1e-4),
    ("m3_events", lambda r: r["median_events"], 5.1e-4),
    ("m3_nonevents", lambda r: r["median_nonevents"], 5.1e-4),
]
NRI = ["nri", "nri_events", "nri_nonevents"]


def _cohort(dataset: str) -> md.MuData:
    n, _ = CASES[dataset]
    frame = PBC.iloc[:n]
    mdata = md.MuData({"clin": ad.AnnData(np.zeros((n, 1)), obs=pd.DataFrame(index=[f"p{i}" for i in range(n)]))})
    for col in frame.columns:
        mdata.obs[col] = frame[col].to_numpy()
    mdata.obs["event"] = frame["event"].to_numpy() == 1
    return mdata


def _ours(dataset: str, risk: str) -> dict:
    n, t0 = CASES[dataset]
    r = RISKS[RISKS.dataset == dataset]
    return idi_nri(PBC.time[:n], PBC.event[:n] == 1, r[f"risk_old_{risk}"], r[f"risk_new_{risk}"], t0)


@pytest.mark.parametrize("dataset", CASES)
@pytest.mark.parametrize("risk", ["interp", "step"])
def test_same_risks_give_nricens_and_survidinri_values(dataset, risk):
    res = _ours(dataset, risk)
    for name in NRI:  # Pencina 2011 Kaplan-Meier estimator
        assert res[name] == pytest.approx(REF[(dataset, f"nricens_km_{risk}", name)], abs=1e-12)
    for measure, ours, tol in SURVIDINRI:  # survIDINRI's code given the package's censoring weights
        assert ours(res) == pytest.approx(REF[(dataset, f"survIDINRI_kmweights_{risk}", measure)], abs=tol), measure


def test_ipw_nri_equals_nricens_unless_an_event_time_is_also_a_censoring_time():
    # pbc100 has no such tie before t0: nricens's G(T_i) equals G(T_i-)
    res = _ours("pbc100", "interp")
    for name in NRI:
        assert res[name.replace("nri", "nri_ipw")] == pytest.approx(
            REF[("pbc100", "nricens_ipw_interp", name)], abs=1e-12
        )
    # pbc has events at times where others are censored: 1/G(T_i-) (events precede censorings)
    # against nricens's 1/G(T_i) moves P(up | event) by 3.5e-5
    res = _ours("pbc", "interp")
    gap = res["nri_ipw_events"] - REF[("pbc", "nricens_ipw_interp", "nri_events")]
    assert 1e-5 < gap < 1e-4
    assert res["nri_ipw_nonevents"] == pytest.approx(REF[("pbc", "nricens_ipw_interp", "nri_nonevents")], abs=1e-12)


def test_survidinri_defaults_differ_only_by_censoring_estimator_and_risk_interpolation():
    # IDI.INF itself: Fleming-Harrington censoring weights and linearly interpolated risks
    res = _ours("pbc", "interp")
    for measure, ours, tol in SURVIDINRI:
        assert ours(res) == pytest.approx(REF[("pbc", "survIDINRI", measure)], abs=tol + 2e-5), measure


@pytest.mark.parametrize(("dataset", "n_boot"), [("pbc", 0), ("pbc100", 100)])
def test_reclassification_fits_the_r_models(dataset, n_boot):
    _, t0 = CASES[dataset]
    mdata = _cohort(dataset)
    rg.survival.reclassification(mdata, OLD, ["bili"], t0=t0, time="time", event="event", n_boot=n_boot, seed=1)
    table = mdata.uns["reclassification"]["table"]
    for name in NRI:
        assert table.loc[name, "estimate"] == pytest.approx(REF[(dataset, "nricens_km_step", name)], abs=1e-8)
    for measure, ours, tol in SURVIDINRI:
        got = ours(table["estimate"])
        assert got == pytest.approx(REF[(dataset, "survIDINRI_kmweights_step", measure)], abs=tol + 1e-8), measure
    if not n_boot:
        return
    # 100 bootstraps with refitted models vs survIDINRI's 300 perturbations of the fitted models:
    # interval ends agree within a quarter of survIDINRI's interval width (seen: 0.03-0.13)
    for measure, row, scale in (("m1", "idi", 1), ("m2", "nri_ipw", 2), ("m3", "median_improvement", 1)):
        lower, upper = (scale * REF[(dataset, "survIDINRI", f"{measure}_{end}")] for end in ("lower", "upper"))
        width = upper - lower
        assert abs(table.loc[row, "ci_lower"] - lower) < 0.25 * width, measure
        assert abs(table.loc[row, "ci_upper"] - upper) < 0.25 * width, measure
