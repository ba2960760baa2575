"""Numbers stored as text and implausible survival units are converted or flagged, never used silently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import data_loaders as dl
import radiogenomics as rg
from radiogenomics.errors import DataFormatError
from radiogenomics.io._checks import refuse_numeric_text


def _without_type_lines(tmp_path, kps=True):
    lines = dl.example_file("cbioportal_clinical_patient").read_text().splitlines()
    body = [line for line in lines if not line.startswith("#")]
    if kps:
        body = [body[0] + "\tKPS\tCODE"] + [row + f"\t{80 + 10 * (i % 2)}\t0{i}" for i, row in enumerate(body[1:])]
    path = tmp_path / "data_clinical_patient.txt"
    path.write_text("\n".join(body) + "\n")
    return path, len(body) - 1


def test_cbioportal_without_type_lines_converts_age_and_kps(tmp_path):
    path, n = _without_type_lines(tmp_path)
    typed = dl.read_cbioportal_clinical(dl.example_file("cbioportal_clinical_patient"))
    with pytest.warns(
        UserWarning, match=r"no '#' type lines.*2 text column\(s\).*'AGE' \(\d+ values\), 'KPS' \(\d+ values\)"
    ):
        clin = dl.read_cbioportal_clinical(path)
    assert clin["AGE"].dtype == float and clin["KPS"].dtype == float
    np.testing.assert_array_equal(clin["AGE"].to_numpy(), typed["AGE"].to_numpy())
    assert clin.attrs["converted_numeric"] == {"AGE": int(typed["AGE"].notna().sum()), "KPS": n}
    assert clin["CODE"].tolist()[:2] == ["00", "01"]  # codes with a leading zero stay text
    assert clin["OS_STATUS"].dtype == object and clin["os_event"].dtype == "boolean"


def test_text_numbers_give_one_cox_slope_after_build(mdata):
    clinical = mdata.obs[["os_months", "os_event"]].copy()
    clinical["kps"] = [str(v) for v in np.resize([60, 70, 80, 90, 100], len(clinical))]
    with pytest.warns(UserWarning, match=r"build_mudata clinical table: 1 text column\(s\).*'kps' \(120 values\)"):
        built = rg.io.build_mudata({"rna": mdata["rna"].to_df()}, clinical, id_rule=None)
    assert built.obs["kps"].dtype == float
    assert built.uns["radiogenomics"]["build_mudata"]["converted_numeric"] == {"kps": 120}
    with pytest.raises(
        DataFormatError, match=r"column 'kps' is text.*4 dummy terms instead of one slope.*pd\.to_numeric"
    ):
        refuse_numeric_text(clinical, ["kps"], where="cox")


def test_follow_up_in_days_labelled_months_warns(mdata):
    clinical = mdata.obs[["os_months", "os_event"]].copy()
    clinical["os_months"] = clinical["os_months"] * 30.4375  # days
    top = clinical["os_months"].max()
    with pytest.warns(UserWarning, match=rf"'os_months' reaches {top:.6g} months.*look like days"):
        rg.io.build_mudata({"rna": mdata["rna"].to_df()}, clinical, id_rule=None)
    plausible = mdata.obs[["os_months", "os_event"]].copy()
    rg.io.build_mudata({"rna": mdata["rna"].to_df()}, plausible, id_rule=None)  # no warning (filterwarnings=error)
    assert plausible["os_months"].max() < 360


def test_cbioportal_months_in_days_warn(tmp_path):
    table = pd.DataFrame(
        {"PATIENT_ID": ["A", "B"], "OS_STATUS": ["1:DECEASED", "0:LIVING"], "OS_MONTHS": ["400", "12000"]}
    )
    path = tmp_path / "clin.txt"
    table.to_csv(path, sep="\t", index=False)
    with pytest.warns(UserWarning, match=r"'OS_MONTHS' reaches 12000 months \(1000 years\) in 2 of 2"):
        dl.read_cbioportal_clinical(path)
