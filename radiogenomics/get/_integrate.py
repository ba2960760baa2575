"""Read association maps stored by :mod:`radiogenomics.integrate`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._get import result

if TYPE_CHECKING:
    import pandas as pd
    from mudata import MuData

__all__ = ["associations"]


def associations(
    mdata: MuData, key: str = "associate", *, padj: float | None = None, top: int | None = None
) -> pd.DataFrame:
    """Return the long table of an association map, optionally filtered and sorted.

    Parameters
    ----------
    mdata
        Cohort container after :func:`radiogenomics.integrate.associate`.
    key
        ``key_added`` used by :func:`~radiogenomics.integrate.associate`.
    padj
        Keep pairs with adjusted p-value at most this value.
    top
        Keep the ``top`` pairs with the smallest p-values (the table is then sorted by ``p``).

    Returns
    -------
    A copy of ``uns[key]["results"]``: ``x_feature``, ``y_feature``, ``r``, ``p``, ``padj``, ``n``,
    ``statistic``, ``test`` (and ``p_fwer`` if permutations were run).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=200, seed=0)
    >>> rg.integrate.associate(mdata, x="radiomics", y="rna", x_features=["CT_tumour_original_firstorder_Energy"])
    >>> rg.get.associations(mdata, top=3)["y_feature"].tolist()
    ['GENE00044', 'GENE00041', 'GENE00033']
    """
    table = result(mdata, key, "results")
    if padj is not None:
        table = table[table["padj"] <= padj]
    if top is not None:
        table = table.sort_values("p", kind="stable").head(top)
    return table.copy()
