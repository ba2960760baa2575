"""Checks on clinical tables: numbers stored as text and implausible survival times.

Used by the loaders, by :func:`radiogenomics.io.build_mudata` and by every function that builds a
design matrix (call :func:`refuse_numeric_text` there), so a column such as ``KPS`` read as
text is never turned into one dummy term per value.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from ..errors import DataFormatError

__all__ = ["check_survival_times", "convert_numeric_text", "numeric_text_columns", "refuse_numeric_text"]

_CODE = re.compile(r"^[+-]?0\d")  # "007", "-01": codes with leading zeros stay text
_ID_NAME = re.compile(r"(^|_)(id|uuid|barcode|status)$", re.IGNORECASE)  # identifiers and status codes stay text
MAX_FOLLOW_UP_MONTHS = 360.0  # 30 years: longer follow-up in a cohort is almost always days or weeks


def _looks_numeric(series: pd.Series) -> int:
    """Number of values if every non-missing value of a text column parses as a number, else 0."""
    if not (series.dtype == object or isinstance(series.dtype, pd.StringDtype)):
        return 0
    values = series.dropna()
    values = values[values.map(lambda v: not (isinstance(v, str) and not v.strip()))]
    if values.empty or not values.map(lambda v: isinstance(v, str | int | float) and not isinstance(v, bool)).all():
        return 0
    text = values.astype(str).str.strip()
    if text.str.match(_CODE).any():
        return 0
    parsed = pd.to_numeric(text, errors="coerce")
    if parsed.isna().any() or not np.isfinite(parsed.to_numpy(dtype=float)).all():
        return 0
    return len(values)


def numeric_text_columns(frame: pd.DataFrame) -> dict[str, int]:
    """Return ``{column: n_values}`` for text columns whose every value is a number.

    Identifier and status columns (names ending in ``id``, ``uuid``, ``barcode``, ``status``) and
    codes with a leading zero are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> numeric_text_columns(
    ...     pd.DataFrame({"kps": ["90", "80", None], "grade": ["G2", "G3", "G4"], "code": ["01", "02", "10"]})
    ... )
    {'kps': 2}
    """
    found = {}
    for col in frame.columns:
        n = 0 if _ID_NAME.search(str(col)) else _looks_numeric(frame[col])
        if n:
            found[str(col)] = n
    return found


def convert_numeric_text(
    frame: pd.DataFrame, *, where: str, stacklevel: int = 3
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Convert text columns holding only numbers to float, with a warning giving the counts.

    Returns the converted copy and ``{column: n_values}`` to record in ``params``. Codes with a
    leading zero (``"007"``) stay text.
    """
    found = numeric_text_columns(frame)
    if not found:
        return frame, {}
    frame = frame.copy()
    for col in found:
        text = frame[col].map(lambda v: v.strip() if isinstance(v, str) else v).replace("", np.nan)
        frame[col] = pd.to_numeric(text, errors="coerce").astype(float)
    listed = ", ".join(f"{c!r} ({n} values)" for c, n in list(found.items())[:10])
    msg = (
        f"{where}: {len(found)} text column(s) hold only numbers and were converted to float: {listed}. "
        "Give the column types (cBioPortal '#' type lines) or convert them yourself to silence this."
    )
    warnings.warn(msg, UserWarning, stacklevel=stacklevel)
    return frame, found


def refuse_numeric_text(frame: pd.DataFrame, columns, *, where: str) -> None:
    """Raise when a covariate of a model is text holding numbers (it would become one dummy per value).

    Raises
    ------
    DataFormatError
        Names the column, how many values it has and the conversion to apply.

    Examples
    --------
    >>> import pandas as pd
    >>> refuse_numeric_text(pd.DataFrame({"kps": ["90", "80", "70"]}), ["kps"], where="cox")
    Traceback (most recent call last):
    ...
    radiogenomics.errors.DataFormatError: cox: column 'kps' is text but every value (3) is a number; it would become 2 dummy terms instead of one slope. Convert it: obs['kps'] = pd.to_numeric(obs['kps']).
    """
    for col in columns:
        n = _looks_numeric(frame[col]) if col in frame.columns else 0
        if n:
            levels = frame[col].dropna().nunique()
            msg = (
                f"{where}: column {col!r} is text but every value ({n}) is a number; it would become "
                f"{max(levels - 1, 1)} dummy terms instead of one slope. Convert it: "
                f"obs[{col!r}] = pd.to_numeric(obs[{col!r}])."
            )
            raise DataFormatError(msg)


def check_survival_times(
    times, *, column: str, where: str, max_months: float = MAX_FOLLOW_UP_MONTHS, stacklevel: int = 3
) -> bool:
    """Warn when survival times labelled as months are implausibly long (days or weeks?).

    Returns ``True`` when a warning was given.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     check_survival_times([120.0, 9125.0, 30.0], column="os_months", where="demo")
    True
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    demo: column 'os_months' reaches 9125 months (760 years) in 1 of 3 patients; ...
    """
    values = pd.to_numeric(pd.Series(np.asarray(times, dtype=object).ravel()), errors="coerce").to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    if not values.size or values.max() <= max_months:
        return False
    top = float(values.max())
    n = int((values > max_months).sum())
    msg = (
        f"{where}: column {column!r} reaches {top:.6g} months ({top / 12:.0f} years) in {n} of {values.size} "
        f"patients; follow-up beyond {max_months / 12:.0f} years is implausible. These look like days (divide "
        "by 30.4375 for months) or weeks (divide by 4.348)."
    )
    warnings.warn(msg, UserWarning, stacklevel=stacklevel)
    return True
