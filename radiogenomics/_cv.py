"""Cross-validation plumbing shared by ``predict``, ``signature`` and ``compare``.

Two jobs: check before any fit that every outer and inner training split can hold every class
(or enough events), and run independent tasks (outer folds, permutations) serially, with
joblib processes or on a Dask cluster, returning the results in task order so that every
backend gives identical tables.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DataFormatError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["check_nested_splits", "run_tasks"]


def _feasible(n: int, cv: int, inner_cv: int) -> bool:
    """Stratified ``cv`` folds of a class of ``n`` patients leave ``n - ceil(n / cv)`` in training."""
    return n >= cv and n - math.ceil(n / cv) >= inner_cv


def _suggestion(n: int, cv: int, inner_cv: int, *, same_cv: bool = False) -> str:
    if same_cv:  # one cv for both loops (signature)
        works = [c for c in range(cv - 1, 1, -1) if _feasible(n, c, c)]
        return f"use cv={works[0]}" if works else "no cv of at least 2 folds works: merge or drop that class"
    fewer_inner = [i for i in range(inner_cv - 1, 1, -1) if _feasible(n, cv, i)]
    fewer_outer = [c for c in range(cv - 1, 1, -1) if _feasible(n, c, inner_cv)]
    both = [(c, i) for c in range(cv - 1, 1, -1) for i in range(inner_cv - 1, 1, -1) if _feasible(n, c, i)]
    options = []
    if fewer_outer:
        options.append(f"cv={fewer_outer[0]}")
    if fewer_inner:
        options.append(f"inner_cv={fewer_inner[0]}")
    if not options and both:
        options.append(f"cv={both[0][0]} with inner_cv={both[0][1]}")
    if not options:
        return "no cv / inner_cv of at least 2 folds works: merge or drop that class"
    return "use " + " or ".join(options)


def check_nested_splits(
    labels: np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]] | None,
    *,
    cv: int,
    inner_cv: int,
    where: str,
    names: Sequence[str] | None = None,
    unit: str = "class",
    same_cv: bool = False,
) -> None:
    """Refuse a nested cross-validation whose splits cannot hold every class, before any fit.

    Every class (every code of ``labels``; for survival the event indicator) must appear in
    each of the ``cv`` outer test folds, and each outer training split must hold at least
    ``inner_cv`` patients of every class so that each inner training and test fold sees it.

    Parameters
    ----------
    labels
        Class codes ``0..k-1`` (or event indicators), shape ``(n_patients,)``.
    splits
        The outer ``(train, test)`` index pairs that will be fitted; ``None`` checks the class
        sizes only (call it before making stratified splits, which warn on too small classes).
    cv
        Outer folds per repeat.
    inner_cv
        Inner folds (``1`` when there is no inner loop).
    where
        Function name used in the message.
    names
        Class names for the message (default the codes).
    unit
        ``"class"`` or ``"events"`` (wording of the message).
    same_cv
        The inner loop uses ``cv`` folds too (only ``cv`` is suggested).

    Raises
    ------
    DataFormatError
        The message names the smallest class, its size, the split that fails and the ``cv`` /
        ``inner_cv`` values that would work.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import StratifiedKFold
    >>> y = np.array([0] * 20 + [1] * 6)
    >>> splits = list(StratifiedKFold(5).split(y, y))
    >>> check_nested_splits(y, splits, cv=5, inner_cv=5, where="predict", names=["wt", "mut"])
    Traceback (most recent call last):
    ...
    radiogenomics.errors.DataFormatError: predict: class 'mut' has 6 patients; with cv=5 an outer training split holds only 4 of them, fewer than inner_cv=5 inner folds need; use inner_cv=4.
    """
    labels = np.asarray(labels).astype(int)
    counts = np.bincount(labels)
    present = np.flatnonzero(counts)
    k = int(present[np.argmin(counts[present])])
    n = int(counts[k])
    label = "events" if unit == "events" else f"class {names[k] if names is not None else k!r}"
    has = f"{n} events" if unit == "events" else f"{n} patients"
    if n < cv:
        msg = f"{where}: {label} has {has}, fewer than the cv={cv} outer folds; {_suggestion(n, cv, inner_cv, same_cv=same_cv)}."
        raise DataFormatError(msg)
    if splits is None:
        return
    train_min = min(int(np.bincount(labels[train], minlength=counts.size)[present].min()) for train, _ in splits)
    if train_min < inner_cv:
        msg = (
            f"{where}: {label} has {has}; with cv={cv} an outer training split holds only {train_min} of them, "
            f"fewer than inner_cv={inner_cv} inner folds need; {_suggestion(n, cv, inner_cv, same_cv=same_cv)}."
        )
        raise DataFormatError(msg)


def run_tasks(
    fn: Callable[..., Any],
    tasks: Sequence[tuple],
    *,
    shared: dict[str, Any] | None = None,
    n_jobs: int = 1,
    client: Any = None,
) -> list:
    """Return ``[fn(*task, **shared) for task in tasks]``, computed serially, by joblib or on Dask.

    With a :class:`distributed.Client` the ``shared`` arguments (data arrays, settings) are
    scattered once to every worker and each task is one future; results are gathered in task
    order, so the output does not depend on the backend or on which worker ran what.

    Parameters
    ----------
    fn
        A module-level function (picklable).
    tasks
        Positional arguments of each call.
    shared
        Keyword arguments common to every call.
    n_jobs
        joblib processes when ``client`` is ``None`` (``1``: serial).
    client
        A Dask :class:`distributed.Client`; ``n_jobs`` is then ignored (the cluster decides).

    Examples
    --------
    >>> run_tasks(divmod, [(7, 2), (9, 4)])
    [(3, 1), (2, 1)]
    """
    shared = {} if shared is None else shared
    if client is not None:
        # a list of one object: scattering a bare dict or list would scatter its items
        scattered = {k: client.scatter([v], broadcast=True, hash=False)[0] for k, v in shared.items()}
        futures = [client.submit(fn, *task, **scattered, pure=False) for task in tasks]
        return client.gather(futures)
    if n_jobs == 1:
        return [fn(*task, **shared) for task in tasks]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=n_jobs)(delayed(fn)(*task, **shared) for task in tasks)
