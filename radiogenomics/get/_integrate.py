"""Read association maps stored by :mod:`radiogenomics.integrate`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._utils import require_mudata
from ..errors import MissingColumnError
from ._get import result

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd
    from mudata import MuData

__all__ = ["associations"]


def _positions(names: np.ndarray, wanted: Sequence[str] | None, what: str, key: str) -> np.ndarray:
    if wanted is None:
        return np.arange(len(names))
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    index = {str(v): i for i, v in enumerate(names)}
    missing = [w for w in wanted if w not in index]
    if missing:
        msg = f"{what} {missing[:5]} are not in the association map uns[{key!r}] (e.g. {list(names[:3])})."
        raise MissingColumnError(msg)
    return np.array([index[w] for w in wanted], dtype=np.intp)


def associations(
    mdata: MuData,
    key: str = "associate",
    *,
    padj: float | None = None,
    top: int | None = None,
    x_features: Sequence[str] | None = None,
    y_features: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return the long table of an association map (one row per pair), optionally filtered and sorted.

    The table is built from the stored x-by-y matrices, filtering first, so a subset of a
    20-million-pair map costs only its own rows.

    Parameters
    ----------
    mdata
        Cohort container after :func:`radiogenomics.integrate.associate`.
    key
        ``key_added`` used by :func:`~radiogenomics.integrate.associate`.
    padj
        Keep pairs with adjusted p-value at most this value.
    top
        Keep the ``top`` pairs with the smallest p-values (the table is then sorted by ``p``,
        ties broken by larger ``|r|``).
    x_features
        Keep these x features (rows of the map).
    y_features
        Keep these y features (columns of the map).

    Returns
    -------
    ``x_feature``, ``y_feature``, ``r``, ``p``, ``padj``, ``n``, ``statistic``, ``test`` (and
    ``p_fwer`` if permutations were run), ordered by x feature then y feature (by ``p`` with
    ``top``).

    Raises
    ------
    radiogenomics.errors.MissingResultError
        If no association map is stored under ``key``.
    radiogenomics.errors.MissingColumnError
        If a requested feature is not in the map.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=200, seed=0)
    >>> rg.integrate.associate(mdata, x="radiomics", y="rna", x_features=["CT_tumour_original_firstorder_Energy"])
    >>> rg.get.associations(mdata, top=3)["y_feature"].tolist()
    ['GENE00044', 'GENE00041', 'GENE00033']
    """
    require_mudata(mdata, "get.associations")
    from ..integrate._fdr import pairs_table

    stored = result(mdata, key)
    if "r" not in stored:  # a map stored before matrices were kept: the long table holds every pair
        table = result(mdata, key, "results")
        table = table if padj is None else table[table["padj"] <= padj]
        table = table if top is None else table.sort_values("p", kind="stable").head(top)
        return table.copy()
    xi = _positions(np.asarray(stored["x_features"]), x_features, "x features", key)
    yi = _positions(np.asarray(stored["y_features"]), y_features, "y features", key)
    names = ("r", "p", "padj", "n", "statistic", "test", "p_fwer")
    maps = {name: np.asarray(stored[name])[np.ix_(xi, yi)] for name in names if name in stored}
    maps["x_features"] = np.asarray(stored["x_features"])[xi]
    maps["y_features"] = np.asarray(stored["y_features"])[yi]
    mask = None
    if padj is not None:
        mask = np.nan_to_num(maps["padj"], nan=np.inf) <= padj
    table = pairs_table(maps, mask)
    if top is not None:
        table = table.assign(_abs=-table["r"].abs()).sort_values(["p", "_abs"], kind="stable").head(top)
        table = table.drop(columns="_abs")
    return table
