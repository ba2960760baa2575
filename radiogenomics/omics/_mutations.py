"""Per-patient mutation status of gene groups (e.g. IDH = IDH1 or IDH2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._compat import copy_mudata
from .._utils import dense, get_modality, require_mudata
from ..errors import MissingColumnError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from mudata import MuData

__all__ = ["mutation_status"]

STATUS_CATEGORIES = ["wildtype", "mutant"]
#: WHO CNS5 (2021): IDH-mutant glioma carries IDH1 R132 or IDH2 R172 (hotspot columns of
#: :func:`data_loaders.mutation_matrix`); other IDH1/IDH2 variants do not count.
WHO_CNS5_IDH = {"IDH": ["IDH1_R132", "IDH2_R172"]}


def mutation_status(
    mdata: MuData,
    groups: Mapping[str, Sequence[str]] | None = None,
    *,
    mod: str = "mut",
    key_added: str = "mutation_status",
    copy: bool = False,
) -> MuData | None:
    """Write the mutation status of gene groups to ``mdata.obs``.

    A patient is ``"mutant"`` for a group when any of its features is mutated (value > 0 in
    the binary ``mod`` matrix), ``"wildtype"`` when all are 0, and missing when the patient
    has no ``mod`` data or a feature is missing and none is mutated. Features are genes or
    hotspot columns of :func:`data_loaders.mutation_matrix` (``"IDH1_R132"``).

    Parameters
    ----------
    mdata
        Cohort with a binary mutation modality.
    groups
        Group name to features. The default follows WHO CNS5: ``{"IDH": ["IDH1_R132",
        "IDH2_R172"]}``, the hotspot columns that :func:`data_loaders.mutation_matrix` adds by
        default, so a non-hotspot variant such as IDH1 V178I is not called IDH-mutant. For
        any variant of the genes pass ``{"IDH": ["IDH1", "IDH2"]}``.
    mod
        Mutation modality.
    key_added
        Key in ``mdata.uns`` for the parameters and the per-group counts.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.obs[f"{group}_status"]`` : categorical
        ``"wildtype"`` / ``"mutant"`` (missing if unknown), e.g. ``obs["IDH_status"]``.
    ``mdata.uns[key_added]["params"]``
        The groups (``groups`` as a DataFrame ``group``, ``feature``) and ``mod``.
    ``mdata.uns[key_added]["counts"]``
        DataFrame ``group``, ``mutant``, ``wildtype``, ``missing``.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=40, n_genes=100, seed=0)
    >>> rg.omics.mutation_status(mdata, {"IDH": ["IDH1", "IDH2"]})
    >>> mdata.obs["IDH_status"].cat.categories.tolist()
    ['wildtype', 'mutant']
    """
    require_mudata(mdata, "omics.mutation_status")
    rule = "WHO CNS5 (IDH1 R132 or IDH2 R172)" if groups is None else "groups given"
    groups = dict(groups) if groups is not None else dict(WHO_CNS5_IDH)
    if copy:
        mdata = copy_mudata(mdata)
    adata = get_modality(mdata, mod)
    rows: list[dict] = []
    counts = []
    for group, features in groups.items():
        features = [features] if isinstance(features, str) else list(features)
        absent = [f for f in features if f not in adata.var_names]
        if absent:
            hint = (
                " Hotspot columns such as 'IDH1_R132' need mutation_matrix(..., hotspots=...)."
                if any("_" in f for f in absent)
                else ""
            )
            if rule.startswith("WHO"):
                hint = (
                    " The default rule follows WHO CNS5 (IDH1 R132 or IDH2 R172) and needs the hotspot columns "
                    "that data_loaders.mutation_matrix adds by default; for any IDH1/IDH2 variant pass "
                    "groups={'IDH': ['IDH1', 'IDH2']}."
                )
            msg = f"Features {absent} of group {group!r} not found in modality {mod!r} (e.g. {list(adata.var_names[:5])}).{hint}"
            raise MissingColumnError(msg)
        values = dense(adata[:, features].X)
        mutant = (values > 0).any(axis=1)
        unknown = np.isnan(values).any(axis=1) & ~mutant
        status = np.where(mutant, "mutant", "wildtype").astype(object)
        status[unknown] = None
        series = pd.Series(pd.Categorical(status, categories=STATUS_CATEGORIES), index=adata.obs_names)
        column = pd.Series(
            pd.Categorical(series.reindex(mdata.obs_names), categories=STATUS_CATEGORIES), index=mdata.obs_names
        )
        mdata.obs[f"{group}_status"] = column
        rows.extend({"group": group, "feature": f} for f in features)
        counts.append(
            {
                "group": group,
                "mutant": int((column == "mutant").sum()),
                "wildtype": int((column == "wildtype").sum()),
                "missing": int(column.isna().sum()),
            }
        )
    mdata.uns[key_added] = {
        "params": {"mod": mod, "rule": rule, "groups": pd.DataFrame(rows, columns=["group", "feature"])},
        "counts": pd.DataFrame(counts, columns=["group", "mutant", "wildtype", "missing"]),
    }
    return mdata if copy else None
