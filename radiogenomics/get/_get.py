"""Read stored results out of a cohort."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from .._utils import require_mudata
from ..errors import MissingResultError

if TYPE_CHECKING:
    from mudata import MuData

__all__ = ["pairing", "pairing_summary", "result", "stored_results"]


def pairing(mdata: MuData) -> pd.DataFrame:
    """Return the pairing table written by :func:`radiogenomics.io.build_mudata`.

    Parameters
    ----------
    mdata
        Cohort container.

    Returns
    -------
    One row per input ID: ``input_id, modality, patient_id, status, reason``.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=20, n_genes=100, seed=0)
    >>> rg.get.pairing(mdata).shape
    (80, 5)
    """
    require_mudata(mdata, "get.pairing")
    return result(mdata, "pairing").copy()


def pairing_summary(mdata: MuData) -> pd.DataFrame:
    """Count input IDs per modality: given, kept and dropped, and patients in the cohort.

    Parameters
    ----------
    mdata
        Cohort container.

    Returns
    -------
    One row per input (modality or ``clinical``) with ``n_input``, ``n_kept``, ``n_dropped`` and
    ``n_patients_missing`` (cohort patients without data in that input).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=20, n_genes=100, seed=0)
    >>> rg.get.pairing_summary(mdata).loc["rna"].tolist()
    [20, 20, 0, 0]
    """
    require_mudata(mdata, "get.pairing_summary")
    table = pairing(mdata)
    counts = table.groupby("modality", sort=False)["status"].value_counts().unstack(fill_value=0)
    out = pd.DataFrame(
        {
            "n_input": counts.sum(axis=1),
            "n_kept": counts.get("kept", 0),
            "n_dropped": counts.get("dropped", 0),
        }
    )
    kept = table[table["status"] == "kept"].groupby("modality")["patient_id"].nunique()
    out["n_patients_missing"] = mdata.n_obs - kept.reindex(out.index).fillna(0).astype(int)
    out.index.name = "modality"
    return out.astype(int)


def stored_results(mdata: MuData) -> pd.DataFrame:
    """List the results stored in a cohort (``uns`` keys of the cohort and of each modality).

    Parameters
    ----------
    mdata
        Cohort container.

    Returns
    -------
    One row per stored item: ``location`` (``mdata`` or a modality), ``key`` and ``kind``
    (``table`` with its shape, ``dict`` with its keys, or the value type).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=20, n_genes=100, seed=0)
    >>> "pairing" in rg.get.stored_results(mdata)["key"].tolist()
    True
    """
    require_mudata(mdata, "get.stored_results")
    rows = []
    places = [("mdata", mdata.uns)] + [(name, mod.uns) for name, mod in mdata.mod.items()]
    for where, uns in places:
        for key, value in uns.items():
            if isinstance(value, pd.DataFrame):
                kind = f"table {value.shape[0]} x {value.shape[1]}"
            elif isinstance(value, dict):
                kind = "dict: " + ", ".join(map(str, list(value)[:6]))
            else:
                kind = type(value).__name__
            rows.append({"location": where, "key": key, "kind": kind})
    return pd.DataFrame(rows, columns=["location", "key", "kind"])


def result(mdata: MuData, key: str, table: str | None = None, *, mod: str | None = None) -> Any:
    """Return a stored result, with a clear error if it has not been computed.

    Parameters
    ----------
    mdata
        Cohort container.
    key
        Key in ``uns`` (e.g. ``"pairing"``, ``"associate"``).
    table
        Optional item inside the stored dict (e.g. ``"results"``).
    mod
        Look in ``mdata.mod[mod].uns`` instead of ``mdata.uns``.

    Returns
    -------
    The stored object.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=20, n_genes=100, seed=0)
    >>> rg.get.result(mdata, "associate")
    Traceback (most recent call last):
    ...
    radiogenomics.errors.MissingResultError: No result 'associate' in mdata.uns; run the function that writes it first (stored: ['pairing', 'radiogenomics', 'truth']).
    """
    require_mudata(mdata, "get.result")
    uns = mdata.uns if mod is None else mdata.mod[mod].uns
    where = "mdata.uns" if mod is None else f"mdata.mod[{mod!r}].uns"
    if key not in uns:
        msg = f"No result {key!r} in {where}; run the function that writes it first (stored: {sorted(uns)})."
        raise MissingResultError(msg)
    value = uns[key]
    if table is None:
        return value
    if not isinstance(value, dict) or table not in value:
        inner = sorted(value) if isinstance(value, dict) else type(value).__name__
        msg = f"{where}[{key!r}] has no {table!r} (has: {inner})."
        raise MissingResultError(msg)
    return value[table]
