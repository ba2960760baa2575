"""Design matrices: covariates to Cox terms (one naming rule), signature features, stored terms.

One rule names the terms of every model: a numeric or boolean covariate is its own term
(``"age"``, ``"idh_mutant"``); each non-reference level of a categorical covariate is the term
``"<covariate>[<level>]"`` (``"grade[G3]"``), treatment-coded against the first level (the
first category of a pandas categorical, otherwise the first in sorted order), as R's
``coxph`` names them without the separator. Text holding numbers with more than
``MAX_TEXT_LEVELS`` (4) distinct values (KPS ``"60"``-``"100"`` read as text) is converted to a
number with a warning and ``from_text = True`` in the term table; fewer (ECOG ``"0"``-``"3"``)
stay categories, as in R. Make the column a pandas Categorical to keep categories.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._utils import modality_frame, resolve_keys
from ..errors import DataFormatError, InputTypeError, InsufficientDataError, ParameterError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["check_constant", "covariate_terms", "design_matrix", "signature_design", "terms_matrix"]


#: Numeric-looking text with more distinct values than this is used as a number, not as categories.
MAX_TEXT_LEVELS = 4


def _is_categorical(values: pd.Series) -> bool:
    return (
        isinstance(values.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(values.dtype)
        or (pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_numeric_dtype(values.dtype))
    )


def _levels(values: pd.Series) -> list:
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna())
        return [c for c in values.cat.categories if c in present]
    return sorted(values.dropna().unique(), key=str)


def _numeric_text(values: pd.Series, cov: str, where: str) -> pd.Series | None:
    """Numbers stored as text with many values (KPS read as ``"80"``): convert with a warning.

    Detection is that of :func:`radiogenomics.io._checks.numeric_text_columns` (codes with a
    leading zero and identifier/status columns stay text). Text with at most ``MAX_TEXT_LEVELS``
    numeric values (ECOG ``"0"``-``"3"``) stays categorical, as R's ``coxph`` treats a character
    column; a pandas Categorical always stays categorical.
    """
    from ..io._checks import numeric_text_columns

    if isinstance(values.dtype, pd.CategoricalDtype) or not numeric_text_columns(values.to_frame(cov)):
        return None
    observed = values.dropna()
    numbers = pd.to_numeric(observed.astype(str).str.strip(), errors="coerce")
    if numbers.nunique() <= MAX_TEXT_LEVELS:
        return None
    warnings.warn(
        f"{where}: covariate {cov!r} holds numbers stored as text ({numbers.nunique()} distinct values, e.g. "
        f"{sorted(observed.unique(), key=str)[:3]}); it is used as numeric (recorded in terms['from_text']). "
        f"To use it as categories, make it a pandas Categorical: mdata.obs[{cov!r}].astype('category').",
        UserWarning,
        stacklevel=4,
    )
    converted = pd.to_numeric(values.map(lambda v: v.strip() if isinstance(v, str) else v), errors="coerce")
    return converted.astype(float)


def covariate_terms(raw: pd.DataFrame, *, where: str = "design") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn resolved covariate columns into numeric terms with the one naming rule.

    Returns the design (patients x terms, missing values kept as NaN) and a term table with
    columns ``term, covariate, level, reference, kind, from_text``; ``kind`` is ``numeric``,
    ``boolean`` or ``categorical``.

    Raises
    ------
    ValueError
        A categorical covariate with a single level.
    DataFormatError
        A column that is neither numeric, boolean nor categorical.
    """
    columns: dict[str, pd.Series] = {}
    rows = []
    for cov in raw.columns:
        values = raw[cov]
        converted = _numeric_text(values, cov, where) if _is_categorical(values) else None
        if pd.api.types.is_bool_dtype(values.dtype):
            columns[cov] = values.astype("Float64").astype(float)
            rows.append((cov, cov, "True", "False", "boolean", False))
        elif converted is not None:
            columns[cov] = converted
            rows.append((cov, cov, "", "", "numeric", True))
        elif _is_categorical(values):
            levels = _levels(values)
            if len(levels) < 2:
                msg = f"{where}: covariate {cov!r} has a single level {levels}; it carries no information. Drop it."
                raise InsufficientDataError(msg)
            for level in levels[1:]:
                term = f"{cov}[{level}]"
                columns[term] = (values == level).astype(float).where(values.notna())  # missing stays missing
                rows.append((term, cov, str(level), str(levels[0]), "categorical", False))
        else:
            try:
                columns[cov] = pd.to_numeric(values, errors="raise").astype(float)
            except (TypeError, ValueError) as err:
                msg = f"{where}: covariate {cov!r} of dtype {values.dtype} is neither numeric, boolean nor categorical."
                raise DataFormatError(msg) from err
            rows.append((cov, cov, "", "", "numeric", False))
    design = pd.DataFrame(columns, index=raw.index)
    terms = pd.DataFrame(rows, columns=["term", "covariate", "level", "reference", "kind", "from_text"])
    return design, terms


def design_matrix(mdata: MuData, covariates: Sequence[str], *, where: str = "cox") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Resolve covariate keys (``obs`` columns, ``"<mod>:<feature>"``, ``"<name>:<k>"``) into Cox terms.

    See :func:`covariate_terms` for the returned design and term table.
    """
    if isinstance(covariates, str):
        covariates = [covariates]
    if len(covariates) == 0:
        msg = f"{where}: no covariates given; pass a list such as ['age', 'rna:CD274']."
        raise ParameterError(msg)
    return covariate_terms(resolve_keys(mdata, list(covariates)), where=where)


def check_constant(design: pd.DataFrame, where: str) -> None:
    """Raise if a term is constant among the patients used (its coefficient is not estimable)."""
    constant = [c for c in design.columns if design[c].nunique(dropna=True) < 2]
    if constant:
        msg = f"{where}: covariates {constant} are constant among the patients used; drop them."
        raise InsufficientDataError(msg)


def _feature_block(mdata: MuData, features: str | Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    if isinstance(features, str) and features in mdata.mod:
        frame = modality_frame(mdata, features)
        keys = [f"{features}:{name}" for name in frame.columns]
        return frame.astype(float), keys
    keys = [features] if isinstance(features, str) else list(features)
    frame = resolve_keys(mdata, keys)
    bad = [k for k in keys if not pd.api.types.is_numeric_dtype(frame[k]) or pd.api.types.is_bool_dtype(frame[k])]
    if bad:
        msg = f"Signature features must be numeric; {bad} are not. Pass categorical covariates through clinical=."
        raise InputTypeError(msg)
    return frame.astype(float), keys


def _clinical_block(mdata: MuData, clinical: Sequence[str]) -> tuple[pd.DataFrame, list[str], list[str]]:
    frame, terms = covariate_terms(resolve_keys(mdata, list(clinical)), where="signature")
    levels = terms["level"].where(terms["kind"] == "categorical", "").tolist()
    n_missing = int(frame.isna().any(axis=1).sum())
    if n_missing:
        warnings.warn(
            f"{n_missing} patients miss a clinical covariate of {list(clinical)}; those values are imputed with "
            "the training median (fitted inside each training fold).",
            UserWarning,
            stacklevel=3,
        )
    return frame, terms["covariate"].tolist(), levels


def _finite(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """Treat infinite values (e.g. ratios over an empty region) as missing, with a warning."""
    infinite = np.isinf(frame.to_numpy(dtype=float))
    if infinite.any():
        cols = list(frame.columns[infinite.any(axis=0)])
        warnings.warn(
            f"{where}: {int(infinite.sum())} infinite values in {len(cols)} features (e.g. {cols[:3]}) are treated "
            "as missing.",
            UserWarning,
            stacklevel=4,
        )
        frame = frame.mask(infinite)
    return frame


def signature_design(mdata: MuData, features, clinical=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(X, terms)`` of a signature: numeric features, then clinical terms (:func:`covariate_terms`).

    ``terms`` has one row per term (index ``term``) with ``covariate`` (the key of the value the term is
    built from, as in :func:`covariate_terms`), ``level`` and ``kind`` (``feature`` or ``clinical``).
    """
    feat, keys = _feature_block(mdata, features)
    feat = _finite(feat, "signature")
    terms = pd.DataFrame({"covariate": keys, "level": "", "kind": "feature"}, index=feat.columns.astype(str))
    if clinical:
        clin, ckeys, levels = _clinical_block(mdata, clinical)
        clash = set(clin.columns) & set(feat.columns)
        if clash:
            msg = f"Clinical covariates {sorted(clash)} have the same names as features; rename them."
            raise ParameterError(msg)
        feat = pd.concat([feat, clin], axis=1)
        terms = pd.concat(
            [terms, pd.DataFrame({"covariate": ckeys, "level": levels, "kind": "clinical"}, index=clin.columns)]
        )
    terms.index.name = "term"
    return feat, terms


def terms_matrix(mdata: MuData, terms: pd.DataFrame) -> pd.DataFrame:
    """Rebuild the design matrix of stored ``terms`` on a (new) cohort."""
    raw = resolve_keys(mdata, list(dict.fromkeys(terms["covariate"])))
    out = {}
    for term, row in terms.iterrows():
        col = raw[row["covariate"]]
        if row["level"] == "":
            out[term] = pd.to_numeric(col.astype("Float64") if str(col.dtype) == "boolean" else col, errors="coerce")
        else:
            out[term] = np.where(col.isna(), np.nan, (col.astype(str) == str(row["level"])).astype(float))
    return _finite(pd.DataFrame(out, index=mdata.obs_names).astype(float), "apply_signature")
