"""SHAP of a multi-class predict target: one set of values per class, stored with a class column."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import radiogenomics as rg
from radiogenomics._explain import predict_shap
from radiogenomics.errors import ParameterError
from radiogenomics.integrate._predict_model import linear_predictor, make_pipeline

CLASSES = ["alpha", "beta", "gamma"]
PLANTED = [0, 12, 24]  # radiomic features (weakly correlated, |r| <= 0.3) that make each class


@pytest.fixture(scope="module")
def cohort():
    """Class = argmax of three standardised radiomic features plus noise."""
    mdata = rg.datasets.synthetic_cohort(n_patients=150, n_features=40, n_genes=100, seed=3)
    x = mdata["radiomics"].X[:, PLANTED].astype(float)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    noisy = z + 0.4 * np.random.default_rng(1).standard_normal(z.shape)
    mdata.obs["subtype"] = np.array(CLASSES)[noisy.argmax(axis=1)]
    return mdata


def _per_class(shap, cls):
    return shap[shap["class"] == cls].drop(columns="class")


def test_linear_multiclass_shap_adds_up_to_each_class_logit(cohort, tmp_path):
    mdata = cohort
    rg.integrate.predict(mdata, "subtype", model="logistic_l2", cv=3, repeats=1, grid={"C": [0.5]}, explain=True)
    res = mdata.uns["predict"]
    shap, params = res["shap"], res["params"]
    assert list(shap["class"].unique()) == CLASSES and len(shap) == 3 * mdata.n_obs
    assert params["shap_scale"] == "class logit" and len(params["shap_base_value"]) == 3
    names = list(mdata["radiomics"].var_names[PLANTED])
    logits = np.column_stack(
        [
            base + _per_class(shap, c).sum(axis=1).to_numpy()
            for c, base in zip(CLASSES, params["shap_base_value"], strict=True)
        ]
    )
    # softmax of (base value + SHAP sum) per class = the final model's class probabilities
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    raw = mdata["radiomics"].X.astype(float)  # all features, in the stored model table's order
    np.testing.assert_allclose(softmax, linear_predictor(raw, res, "multiclass"), atol=1e-8)
    for k, cls in enumerate(CLASSES):  # the feature that makes the class is its largest mean |SHAP|
        assert _per_class(shap, cls).abs().mean().idxmax() == names[k]
    back = rg.io.read_h5mu(rg.io.write_h5mu(mdata, tmp_path / "multi.h5mu"))
    stored = back.uns["predict"]["shap"]
    assert list(stored.columns[:1]) == ["class"] and stored.shape == shap.shape
    ax = rg.pl.shap_summary(back, target_class="beta", max_features=3)
    assert ax.get_yticklabels()[-1].get_text() == names[1]
    assert ax.get_xlabel() == "SHAP value (class logit, beta)"
    plt.close(ax.figure)
    ax = rg.pl.shap_dependence(back, names[2], target_class="gamma")
    assert np.corrcoef(*ax.collections[0].get_offsets().T)[0, 1] > 0.99  # linear: SHAP rises with the value
    plt.close(ax.figure)
    with pytest.raises(ParameterError, match=r"pass target_class= one of \['alpha', 'beta', 'gamma'\]"):
        rg.pl.shap_summary(back)
    rg.integrate.predict(back, "idh_mutant", model="logistic_l2", cv=3, repeats=1, grid={"C": [0.5]}, explain=True)
    with pytest.raises(ParameterError, match="not a multi-class result"):
        rg.pl.shap_summary(back, target_class="alpha")


def test_forest_multiclass_shap_adds_up_to_each_class_probability(cohort):
    # the pipeline predict fits, with 25 trees instead of 200 and no tuning (fast)
    mdata = cohort
    x = mdata["radiomics"].X.astype(float)
    y = mdata.obs["subtype"].map({c: k for k, c in enumerate(CLASSES)}).to_numpy()
    pipe, _ = make_pipeline("random_forest", "multiclass", 0, batch=False, n_select=None)
    pipe.set_params(model__n_estimators=25, model__min_samples_leaf=5).fit(x, y)
    names = list(mdata["radiomics"].var_names)
    table, base = predict_shap(pipe, x, names, "multiclass")
    assert len(base) == 3 and list(table["class_index"].unique()) == [0, 1, 2]
    probability = np.column_stack(
        [base[k] + table[table["class_index"] == k].drop(columns="class_index").sum(axis=1) for k in range(3)]
    )
    np.testing.assert_allclose(probability, pipe.predict_proba(x), atol=1e-8)
    for k, feature in enumerate(PLANTED):
        per_class = table[table["class_index"] == k].drop(columns="class_index")
        assert per_class.abs().mean().idxmax() == names[feature]
