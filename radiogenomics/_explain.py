"""SHAP values of fitted prediction and signature models (Lundberg & Lee 2017, arXiv:1705.07874).

Linear models (logistic, Lasso, ridge, elastic net, LASSO-Cox) use :class:`shap.LinearExplainer`
with the training patients as an independent (interventional) background: for a linear
predictor this is ``coef_j * (z_j - mean(z_j))`` on the standardised scale, the model's own
output scale (log-odds, value or log relative hazard). Random forests use
:class:`shap.TreeExplainer` (probability of the positive class, or the predicted value).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from .errors import MissingDependencyError

__all__ = ["linear_shap", "predict_shap", "shap_table", "tree_shap"]


def _shap():
    try:
        import shap
    except ImportError as err:  # pragma: no cover - depends on the installation
        msg = "explain=True needs the shap package: pip install 'radiogenomics[explain]'."
        raise MissingDependencyError(msg) from err
    return shap


def linear_shap(coef: np.ndarray, intercept: float, z: np.ndarray) -> tuple[np.ndarray, float]:
    """SHAP values (patients x features) and base value of ``z @ coef + intercept`` with background ``z``.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[1.0, 0.0], [-1.0, 2.0], [0.0, -2.0]])
    >>> values, base = linear_shap(np.array([2.0, 0.5]), 1.0, z)
    >>> values[:, 0].tolist(), base
    ([2.0, -2.0, 0.0], 1.0)
    """
    shap = _shap()
    explainer = shap.LinearExplainer((np.asarray(coef, dtype=float), float(intercept)), shap.maskers.Independent(z))
    return np.asarray(explainer.shap_values(z), dtype=float), float(np.ravel(explainer.expected_value)[0])


def tree_shap(model: Any, z: np.ndarray, *, classifier: bool) -> tuple[np.ndarray, float]:
    """SHAP values of a fitted scikit-learn forest (positive class for a classifier) and the base value."""
    shap = _shap()
    with warnings.catch_warnings():
        # shap's tree conversion inspects deprecated scikit-learn attributes of some versions
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        explainer = shap.TreeExplainer(model)
        values = np.asarray(explainer.shap_values(z, check_additivity=False), dtype=float)
    base = np.ravel(explainer.expected_value)
    if values.ndim == 3:  # patients x features x classes
        values = values[:, :, 1] if classifier else values[:, :, 0]
        base = base[1:] if classifier else base
    return values, float(base[0])


def shap_table(values: np.ndarray, patients, features) -> pd.DataFrame:
    """Patients x features table of SHAP values with named axes."""
    return pd.DataFrame(
        values,
        index=pd.Index([str(p) for p in patients], name="patient_id"),
        columns=[str(f) for f in features],
    )


def predict_shap(pipe: Any, x: np.ndarray, columns: list[str], task: str) -> tuple[pd.DataFrame, float]:
    """SHAP values of the final :func:`radiogenomics.integrate.predict` pipeline on its training patients.

    Returns a patients x features table restricted to the features the model uses (non-zero
    coefficient or importance), rows by position (the caller names the patients), and the base value.
    """
    z = pipe[:-1].transform(x)
    names = np.asarray(columns)
    if "select" in pipe.named_steps:
        names = names[pipe["select"].get_support()]
    model = pipe[-1]
    if hasattr(model, "coef_"):
        coef = np.ravel(model.coef_)
        values, base = linear_shap(coef, float(np.ravel(model.intercept_)[0]), z)
        used = coef != 0
    else:
        values, base = tree_shap(model, z, classifier=task == "binary")
        used = model.feature_importances_ > 0
    return pd.DataFrame(values[:, used], columns=names[used]), base
