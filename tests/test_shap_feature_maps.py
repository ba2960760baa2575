"""SHAP linked to voxel-wise feature maps: the patient's top-|SHAP| radiomic features mapped on its image."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

import radiogenomics as rg
from radiogenomics.errors import DataFormatError, MissingResultError
from radiogenomics.study import init

CLASSES = {"firstorder": ["Mean", "Energy", "Entropy"], "shape": ["VoxelVolume"]}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """16 synthetic MR volumes with a spherical lesion; target: lesion radius > 6 voxels."""
    folder = tmp_path_factory.mktemp("images")
    init(folder / "study.yaml", example="images", seed=2)
    manifest = folder / "study_data" / "manifest.csv"
    radiomics = rg.imaging.extract(manifest, params={"featureClass": CLASSES}, progress=False)
    clinical = pd.read_csv(folder / "study_data" / "clinical.csv", index_col="patient_id")
    mdata = rg.io.build_mudata({"radiomics": radiomics}, clinical, id_rule=None)
    rg.integrate.predict(mdata, "large", model="logistic_l2", cv=3, repeats=1, explain=True)
    return mdata, manifest


def test_maps_are_the_patients_top_shap_features_with_a_voxel_map(cohort):
    mdata, manifest = cohort
    shap = mdata.uns["predict"]["shap"]
    # the planted signal (lesion size) drives the model: volume or energy (a sum over voxels) on top
    assert shap.abs().mean().idxmax().split("_")[-1] in {"VoxelVolume", "Energy"}
    for patient in ("P000", "P005"):
        res = rg.imaging.shap_feature_maps(mdata, manifest, patient, n_features=2)
        ranked = shap.loc[patient].abs().sort_values(ascending=False, kind="stable").index
        mappable = [f for f in ranked if "_shape_" not in f]
        table = res["table"]
        assert list(table.index) == mappable[:2]
        assert list(table["rank"]) == [list(ranked).index(f) + 1 for f in mappable[:2]]
        assert list(res["skipped"].index) == [f for f in ranked[: table["rank"].max()] if "_shape_" in f]
        assert res["skipped"]["reason"].str.contains("shape features").all()
        np.testing.assert_allclose(table["shap"], shap.loc[patient, table.index])
        np.testing.assert_allclose(table["value"], mdata["radiomics"][patient, list(table.index)].X.ravel())
        cases = pd.read_csv(manifest)
        for feature, row in table.iterrows():
            assert cases.loc[row["manifest_row"], "patient_id"] == patient
            image, mask = rg.imaging.read_case(manifest, row["manifest_row"])
            # the extraction's settings (pyradiomics' default bin width 25) are used for the map
            expected = rg.imaging.feature_map(image, mask, row["map_feature"], params={"binWidth": 25})
            got = sitk.GetArrayFromImage(res["maps"][feature])
            np.testing.assert_array_equal(got, sitk.GetArrayFromImage(expected))
            assert np.array_equal(np.isfinite(got), sitk.GetArrayFromImage(mask) > 0)


def test_mean_map_averages_to_the_extracted_mean(cohort):
    mdata, manifest = cohort
    res = rg.imaging.shap_feature_maps(mdata, manifest, "P003", n_features=3)
    feature = "MR_tumour_original_firstorder_Mean"
    assert feature in res["maps"]  # 3 of the 3 first-order features
    kernel_means = sitk.GetArrayFromImage(res["maps"][feature])
    # the mean of 3x3x3 kernel means weights edge voxels less: close to, not equal to, the ROI mean
    assert np.nanmean(kernel_means) == pytest.approx(res["table"].loc[feature, "value"], rel=0.02)


def test_plot_has_one_panel_per_feature_and_names_the_skipped_ones(cohort):
    mdata, manifest = cohort
    ax = rg.pl.shap_feature_maps(mdata, manifest, "P000", n_features=2)
    titles = [a.get_title().splitlines()[0] for a in ax.figure.axes if a.get_title()]
    assert titles == ["#2 firstorder_Energy", "#3 firstorder_Mean"]
    assert "#1 MR_tumour_original_shape_VoxelVolume" in ax.figure.get_supxlabel()
    plt.close(ax.figure)
    _, one = plt.subplots()
    with pytest.raises(ValueError, match="2 features to draw but 1 axes"):
        rg.pl.shap_feature_maps(mdata, manifest, "P000", n_features=2, ax=one)
    plt.close(one.figure)


def test_errors_name_the_fix(cohort):
    mdata, manifest = cohort
    with pytest.raises(MissingResultError, match="'P999' has no SHAP values"):
        rg.imaging.shap_feature_maps(mdata, manifest, "P999")
    with pytest.raises(MissingResultError, match="explain=True"):
        rg.imaging.shap_feature_maps(mdata, manifest, "P000", key="signature")
    shape_only = mdata.copy()
    shape_only.uns["predict"]["shap"] = mdata.uns["predict"]["shap"][["MR_tumour_original_shape_VoxelVolume"]]
    with pytest.raises(DataFormatError, match=r"none of patient 'P000'.*no voxel map"):
        rg.imaging.shap_feature_maps(shape_only, manifest, "P000")
    other = pd.read_csv(manifest).query("patient_id != 'P000'")
    with pytest.raises(DataFormatError, match="no manifest row for patient 'P000'"):
        rg.imaging.shap_feature_maps(mdata, other, "P000")
