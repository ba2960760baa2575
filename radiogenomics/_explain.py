"""SHAP values of fitted prediction and signature models (Lundberg & Lee 2017, arXiv:1705.07874).

Linear models (logistic, Lasso, ridge, elastic net, LASSO-Cox) use :class:`shap.LinearExplainer`
with the training patients as an independent (interventional) background: for a linear
predictor this is ``coef_j * (z_j - mean(z_j))`` on the standardised scale, the model's own
output scale (log-odds, value or log relative hazard). Random forests use
:class:`shap.TreeExplainer` (probability of the positive class, or the predicted value).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import MissingDependencyError, MissingResultError, ParameterError

if TYPE_CHECKING:
    from mudata import MuData

__all__ = ["linear_shap", "predict_shap", "shap_table", "stored_shap", "tree_shap"]


def _shap():
    try:
        import shap
    except ImportError as err:  # pragma: no cover - depends on the installation
        msg = "explain=True needs the shap package: pip install 'radiogenomics[explain]'."
        raise MissingDependencyError(msg) from err
    return shap


def linear_shap(coef: np.ndarray, intercept, z: np.ndarray) -> tuple[np.ndarray, Any]:
    """SHAP values (patients x features) and base value of ``z @ coef + intercept`` with background ``z``.

    A classes x features ``coef`` (multinomial model) gives patients x features x classes values
    and one base value per class, each adding up to that class's linear score.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[1.0, 0.0], [-1.0, 2.0], [0.0, -2.0]])
    >>> values, base = linear_shap(np.array([2.0, 0.5]), 1.0, z)
    >>> values[:, 0].tolist(), base
    ([2.0, -2.0, 0.0], 1.0)
    """
    shap = _shap()
    coef = np.asarray(coef, dtype=float)
    intercept = np.asarray(intercept, dtype=float) if coef.ndim == 2 else float(intercept)
    explainer = shap.LinearExplainer((coef, intercept), shap.maskers.Independent(z))
    base = np.ravel(explainer.expected_value).astype(float)
    return np.asarray(explainer.shap_values(z), dtype=float), (base if coef.ndim == 2 else float(base[0]))


def tree_shap(model: Any, z: np.ndarray, *, classifier: bool, multiclass: bool = False) -> tuple[np.ndarray, Any]:
    """SHAP values of a fitted scikit-learn forest (positive class for a classifier) and the base value.

    With ``multiclass``: patients x features x classes values and one base value per class
    (probability scale).
    """
    shap = _shap()
    with warnings.catch_warnings():
        # shap's tree conversion inspects deprecated scikit-learn attributes of some versions
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        explainer = shap.TreeExplainer(model)
        values = np.asarray(explainer.shap_values(z, check_additivity=False), dtype=float)
    base = np.ravel(explainer.expected_value).astype(float)
    if multiclass:
        return values, base
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


def predict_shap(pipe: Any, x: np.ndarray, columns: list[str], task: str) -> tuple[pd.DataFrame, Any]:
    """SHAP values of the final :func:`radiogenomics.integrate.predict` pipeline on its training patients.

    Returns a patients x features table restricted to the features the model uses (non-zero
    coefficient or importance), rows by position (the caller names the patients), and the base value.
    A multi-class target gives a table of all patients for each class in turn (rows class by
    class, column ``class_index`` the class position) and one base value per class.
    """
    z = pipe[:-1].transform(x)
    names = np.asarray(columns)
    if "select" in pipe.named_steps:
        names = names[pipe["select"].get_support()]
    model = pipe[-1]
    multiclass = task == "multiclass"
    if hasattr(model, "coef_"):
        coef = np.asarray(model.coef_, dtype=float) if multiclass else np.ravel(model.coef_)
        intercept = np.ravel(model.intercept_) if multiclass else float(np.ravel(model.intercept_)[0])
        values, base = linear_shap(coef, intercept, z)
        used = np.atleast_2d(coef).any(axis=0)
    else:
        values, base = tree_shap(model, z, classifier=task != "regression", multiclass=multiclass)
        used = model.feature_importances_ > 0
    if not multiclass:
        return pd.DataFrame(values[:, used], columns=names[used]), base
    frames = [
        pd.DataFrame(values[:, used, k], columns=names[used]).assign(class_index=k) for k in range(values.shape[2])
    ]
    return pd.concat(frames, ignore_index=True), [float(b) for b in base]


def stored_shap(mdata: MuData, key: str, target_class: str | None = None) -> tuple[pd.DataFrame, Any, str]:
    """One result's patients x features SHAP table, raw feature values and scale label.

    A multi-class result stores a ``class`` column (all patients once per class); ``target_class``
    picks one class and is required there, refused otherwise.
    """
    stored = mdata.uns.get(key, {})
    if "shap" not in stored:
        msg = f"No SHAP values in uns[{key!r}]; rerun predict or signature with explain=True."
        raise MissingResultError(msg)
    shap = stored["shap"]
    scale = str(stored.get("params", {}).get("shap_scale", ""))
    if "class" in shap.columns:
        classes = list(dict.fromkeys(shap["class"].astype(str)))
        if target_class is None or str(target_class) not in classes:
            msg = (
                f"uns[{key!r}] holds SHAP values per class of a multi-class target; pass target_class= one of "
                f"{classes} (got {target_class!r})."
            )
            raise ParameterError(msg)
        shap = shap[shap["class"].astype(str) == str(target_class)].drop(columns="class")
        scale = f"{scale}, {target_class}" if scale else str(target_class)
    elif target_class is not None:
        msg = f"uns[{key!r}] is not a multi-class result; drop target_class={target_class!r}."
        raise ParameterError(msg)
    return shap, stored.get("shap_data"), scale
