"""Real TCGA/TCIA tables (tests/data/tcga, see its README) read and paired with rg.io.build_mudata."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import data_loaders as dl
import radiogenomics as rg

DATA = Path(__file__).parents[1] / "data" / "tcga"


def test_brca_91_mri_patients_pair_with_pam50_as_84():
    radiomics = pd.read_csv(DATA / "brca_radiomics_uchicago_91cases.csv.gz").set_index("CLID")  # CRLF file
    assert not radiomics.columns.str.contains("\r").any()
    labels = pd.read_csv(DATA / "brca_perou_pam50_metadata.csv.gz").set_index("CLID")
    assert labels["ROR_P"].dtype == float  # last column: no stray carriage return
    with pytest.warns(UserWarning, match="build_mudata dropped 16 input IDs"):
        mdata = rg.io.build_mudata({"radiomics": radiomics}, clinical=labels)
    assert mdata.n_obs == 91
    matched = mdata.obs["Pam50.Call"].notna()
    assert int(matched.sum()) == 84
    assert mdata.obs.loc[matched, "Pam50.Call"].value_counts().to_dict() == {
        "LumA": 55,
        "Basal": 10,
        "LumB": 10,
        "Her2": 5,
        "Normal": 4,
    }
    pairing = mdata.uns["pairing"]
    # every input ID is accounted for: 91 feature rows + 100 label rows
    assert pairing.groupby("modality").size().to_dict() == {"clinical": 100, "radiomics": 91}
    clinical = pairing[pairing["modality"] == "clinical"]
    assert clinical["status"].value_counts().to_dict() == {"kept": 84, "dropped": 16}
    assert clinical.loc[clinical["status"] == "dropped", "reason"].str.startswith("not in cohort").all()
    unlabeled = set(pairing.loc[pairing["modality"] == "radiomics", "patient_id"]) - set(
        clinical.loc[clinical["status"] == "kept", "patient_id"]
    )
    assert len(unlabeled) == 7 and unlabeled == set(mdata.obs_names[~matched])


def test_nsclc_60_pyradiomics_patients_pair_with_labels():
    rad = dl.read_pyradiomics_csv(DATA / "nsclc_pyradiomics_prencipe.csv.gz", id_column="Image", id_pattern=r"R01-\d+")
    assert rad.shape == (60, 1764)
    assert set(rad.var["image_type"].str.split("-").str[0]) == {"original", "wavelet", "log"}
    labels = pd.read_csv(DATA / "nsclc_radiogenomics_labels.csv.gz").set_index("Case ID")
    labels["os_event"] = labels["Survival Status"].map({"Dead": True, "Alive": False}).astype("boolean")
    with pytest.warns(UserWarning, match="build_mudata dropped 151 input IDs"):
        mdata = rg.io.build_mudata({"radiomics": rad}, clinical=labels, id_rule=None)
    assert mdata.n_obs == 60
    obs = mdata.obs
    assert obs["EGFR mutation status"].value_counts().to_dict() == {"Wildtype": 44, "Mutant": 16}
    assert obs["KRAS mutation status"].value_counts().to_dict() == {"Wildtype": 45, "Mutant": 15}
    assert int(obs["os_event"].sum()) == 21 and obs["os_event"].notna().all()
    kept = mdata.uns["pairing"].query("modality == 'clinical' and status == 'kept'")
    assert len(kept) == 60


def test_glioma_idh_status_from_uci_mutations_matches_ceccarelli(glioma):
    rg.omics.mutation_status(glioma, {"IDH": ["IDH1", "IDH2"]})
    both = glioma.obs["IDH_status"].notna() & glioma.obs["idh_status"].notna()
    table = pd.crosstab(glioma.obs.loc[both, "IDH_status"], glioma.obs.loc[both, "idh_status"])
    assert table.loc["mutant", "Mutant"] == 56 and table.loc["wildtype", "WT"] == 56
    assert table.loc["mutant", "WT"] == 0 and table.loc["wildtype", "Mutant"] == 1
    discordant = glioma.obs_names[
        both & (glioma.obs["IDH_status"] == "wildtype") & (glioma.obs["idh_status"] == "Mutant")
    ]
    assert discordant.tolist() == ["TCGA-HT-A61A"]  # IDH-mutant in Ceccarelli, no IDH1/2 call in the UCI table
    assert glioma.obs["IDH_status"].isna().sum() == glioma.n_obs - glioma.mod["mut"].n_obs
