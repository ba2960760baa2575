"""Metrics of :func:`radiogenomics.integrate.predict`: AUC, R-squared and Spearman over many rows at once, and the bootstrap."""

from __future__ import annotations

import numpy as np
from scipy import stats

from .._utils import bootstrap_indices


def auc_rows(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """AUC (Mann-Whitney) of binary ``y`` against each row of ``scores`` (last axis = patients).

    ``y`` may have the same leading shape as ``scores`` (e.g. bootstrap resamples).

    Examples
    --------
    >>> import numpy as np
    >>> auc_rows(np.array([0, 0, 1, 1]), np.array([[0.1, 0.4, 0.35, 0.8]]))
    array([0.75])
    """
    y = np.broadcast_to(y, scores.shape).astype(bool)
    ranks = stats.rankdata(scores, axis=-1)
    n1 = y.sum(axis=-1)
    n0 = y.shape[-1] - n1
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ranks * y).sum(axis=-1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def _r2_rows(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    y = np.broadcast_to(y, pred.shape)
    sst = ((y - y.mean(axis=-1, keepdims=True)) ** 2).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return 1 - ((y - pred) ** 2).sum(axis=-1) / sst


def _spearman_rows(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    ry = stats.rankdata(np.broadcast_to(y, pred.shape), axis=-1)
    rp = stats.rankdata(pred, axis=-1)
    ry, rp = ry - ry.mean(axis=-1, keepdims=True), rp - rp.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ry * rp).sum(axis=-1) / np.sqrt((ry**2).sum(axis=-1) * (rp**2).sum(axis=-1))


def metric_rows(task: str, y: np.ndarray, oof: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics of out-of-fold predictions ``oof`` (... x patients [x classes]) against codes ``y``."""
    if task == "binary":
        return {"auc": auc_rows(y, oof)}
    if task == "multiclass":
        per_class = [auc_rows(y == k, oof[..., k]) for k in range(oof.shape[-1])]
        return {"auc_macro": np.mean(per_class, axis=0)}
    return {"r2": _r2_rows(y, oof), "spearman": _spearman_rows(y, oof)}


def bootstrap_metrics(task: str, y: np.ndarray, oof: np.ndarray, *, n_boot: int, seed: int) -> dict[str, np.ndarray]:
    """Bootstrap over patients: each resample scores every repeat, then averages over repeats.

    Returns one value per resample and metric (``n_boot``); NaN where the metric is undefined in every
    repeat (e.g. an AUC of a resample that drew one class only).
    """
    idx = bootstrap_indices(len(y), n_boot, seed)
    yb = y[idx][:, None]  # n_boot x 1 x n
    ob = oof[:, idx].swapaxes(0, 1)  # n_boot x repeats x n [x classes]
    out = {}
    for name, values in metric_rows(task, yb, ob).items():
        finite = np.isfinite(values)
        n = finite.sum(axis=1)
        total = np.where(finite, values, 0.0).sum(axis=1)
        # a resample holding one class only has no AUC: NaN, left out of the interval by the caller
        out[name] = np.divide(total, n, out=np.full(len(n), np.nan), where=n > 0)
    return out
