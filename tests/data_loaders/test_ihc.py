from __future__ import annotations

import numpy as np
import pytest

import data_loaders as dl
from radiogenomics.errors import DataFormatError, MissingColumnError


def test_example_groups_and_values():
    ihc = dl.read_ihc_scores(dl.example_file("ihc_scores"))
    assert ihc.index.tolist()[0] == "TCGA-02-0001"
    np.testing.assert_array_equal(ihc["pdl1_tps"].to_numpy()[[0, 2, 3, 4]], [0, 5, 50, 80])
    assert np.isnan(ihc.loc["TCGA-02-0003", "pdl1_tps"])  # "<1%" is censored: group known, value not
    assert ihc["pdl1_tps_group"].cat.categories.tolist() == ["<1%", "1-49%", ">=50%"]
    assert ihc["pdl1_cps_group"].tolist()[:4] == ["<1", "1-9", ">=10", ">=10"]
    assert ihc["pdl1_cps_group"].isna().tolist() == [False, False, False, False, True]


def test_boundaries_belong_to_upper_group(tmp_path):
    path = tmp_path / "s.tsv"
    path.write_text(
        "patient_id\tTPS\n"
        + "\n".join(f"P{i}\t{v}" for i, v in enumerate(["0.99", "1", "49.9", "50", "≥50%", ">=1%"]))
        + "\n"
    )
    with pytest.raises(DataFormatError, match=r"line 7, column 'TPS': '>=1%' spans several groups"):
        dl.read_ihc_scores(path, tps_column="TPS", cps_column=None)
    path.write_text(path.read_text().replace(">=1%", "<1%"))
    ihc = dl.read_ihc_scores(path, tps_column="TPS", cps_column=None)
    assert ihc["pdl1_tps_group"].tolist() == ["<1%", "1-49%", "1-49%", ">=50%", ">=50%", "<1%"]
    custom = dl.read_ihc_scores(path, tps_column="TPS", cps_column=None, tps_cutoffs=(50,), marker="pd_l1")
    assert custom["pd_l1_tps_group"].cat.categories.tolist() == ["<50%", ">=50%"]


def test_bad_scores(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("patient_id,PD-L1 TPS,PD-L1 CPS\nP1,120,3\n")
    with pytest.raises(DataFormatError, match=r"line 2, column 'PD-L1 TPS': '120' is outside 0-100"):
        dl.read_ihc_scores(path)
    path.write_text("patient_id,PD-L1 TPS,PD-L1 CPS\nP1,5,positive\n")
    with pytest.raises(DataFormatError, match=r"line 2, column 'PD-L1 CPS': 'positive' is not a score"):
        dl.read_ihc_scores(path)
    path.write_text("patient_id,TPS\nP1,5\n")
    with pytest.raises(MissingColumnError, match=r"\['PD-L1 TPS', 'PD-L1 CPS'\]"):
        dl.read_ihc_scores(path)
    path.write_text("patient_id;PD-L1 TPS;PD-L1 CPS\nP1;5;3\n")
    with pytest.raises(DataFormatError, match="expected comma-separated columns"):
        dl.read_ihc_scores(path)
    path.write_text("patient_id,PD-L1 TPS,PD-L1 CPS\nP1,5,3\nP1,6,3\n")
    with pytest.raises(DataFormatError, match="duplicated patient 'P1'"):
        dl.read_ihc_scores(path)
