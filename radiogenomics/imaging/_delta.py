"""Delta-radiomics: feature change between two time points, as a new modality."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from .._compat import copy_mudata, update_mudata
from .._utils import dense, require_mudata
from ..errors import MissingColumnError, ParameterError

if TYPE_CHECKING:
    from mudata import MuData

KEYS = ["modality", "roi", "image_type", "feature_class", "feature"]


def _pairs(var: pd.DataFrame, mod: str, baseline: str, followup: str) -> pd.DataFrame:
    if "timepoint" not in var:
        msg = (
            f"mdata[{mod!r}].var has no 'timepoint' column; extract with a manifest that has a 'timepoint' "
            "column naming at least two time points."
        )
        raise MissingColumnError(msg)
    present = sorted(set(var["timepoint"]))
    for tp in (baseline, followup):
        if tp not in present:
            msg = f"time point {tp!r} not in mdata[{mod!r}].var['timepoint']; present: {present}"
            raise MissingColumnError(msg)
    keys = [k for k in KEYS if k in var]
    base = var[var["timepoint"] == baseline].reset_index(names="base").set_index(keys)
    follow = var[var["timepoint"] == followup].reset_index(names="follow").set_index(keys)
    return base[["base"]].join(follow[["follow"]], how="inner").reset_index()


def delta(
    mdata: MuData,
    *,
    mod: str = "radiomics",
    baseline: str,
    followup: str,
    kind: Literal["relative", "absolute"] = "relative",
    key_added: str = "radiomics_delta",
    copy: bool = False,
) -> MuData | None:
    """Write a delta-radiomics modality: the change of each feature from ``baseline`` to ``followup``.

    Features are paired by modality, ROI, image type, class and feature name between the two
    time points of ``mdata[mod].var["timepoint"]`` (set by :func:`radiogenomics.imaging.extract`
    when the manifest has a ``timepoint`` column). ``absolute`` is followup - baseline;
    ``relative`` is (followup - baseline) / ``abs(baseline)`` (NaN where the baseline is 0), the
    usual delta-radiomics definition (Fave et al., Sci Rep 2017, doi:10.1038/s41598-017-00665-z).
    Patients lacking either time point get NaN and are listed.

    Parameters
    ----------
    mdata
        Cohort with the feature modality ``mod``.
    mod
        Modality holding features of several time points.
    baseline, followup
        Time point names (values of ``var["timepoint"]``).
    kind
        ``"relative"`` or ``"absolute"`` change.
    key_added
        Name of the new modality.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.mod[key_added]``
        Patients x paired features named ``delta_{modality}_{roi}_{imageType}_{class}_{feature}``;
        ``var`` has the pairing columns plus ``baseline_feature`` and ``followup_feature``.
    ``mdata.mod[key_added].uns["delta"]``
        ``params`` (mod, baseline, followup, kind) and ``missing`` (DataFrame ``patient_id``,
        ``missing``: the time point(s) a patient lacks).

    Raises
    ------
    MissingColumnError
        When ``var`` has no ``timepoint`` column.
    KeyError
        When a time point is absent.

    Examples
    --------
    >>> import anndata as ad, mudata as md, numpy as np, pandas as pd
    >>> import radiogenomics as rg
    >>> var = pd.DataFrame(
    ...     {
    ...         "modality": "CT",
    ...         "roi": "GTV",
    ...         "image_type": "original",
    ...         "feature_class": "firstorder",
    ...         "feature": "Mean",
    ...     },
    ...     index=["t0_CT_GTV_original_firstorder_Mean", "t1_CT_GTV_original_firstorder_Mean"],
    ... ).assign(timepoint=["t0", "t1"])
    >>> X = np.array([[10.0, 15.0], [20.0, 10.0], [5.0, np.nan]])
    >>> mdata = md.MuData({"radiomics": ad.AnnData(X, obs=pd.DataFrame(index=["P1", "P2", "P3"]), var=var)})
    >>> rg.imaging.delta(mdata, baseline="t0", followup="t1")
    >>> mdata["radiomics_delta"].X[:, 0].tolist()
    [0.5, -0.5, nan]
    >>> mdata["radiomics_delta"].uns["delta"]["missing"].to_numpy().tolist()
    [['P3', 't1']]
    """
    require_mudata(mdata, "imaging.delta")
    from anndata import AnnData

    if kind not in ("relative", "absolute"):
        msg = f"kind must be 'relative' or 'absolute', got {kind!r}."
        raise ParameterError(msg)
    if mod not in mdata.mod:
        msg = f"modality {mod!r} not in mdata; modalities: {list(mdata.mod)}"
        raise MissingColumnError(msg)
    data = copy_mudata(mdata) if copy else mdata
    adata = data.mod[mod]
    pairs = _pairs(adata.var, mod, baseline, followup)
    X = dense(adata.X).astype(float)
    col = {name: i for i, name in enumerate(adata.var_names)}
    b = X[:, [col[n] for n in pairs["base"]]]
    f = X[:, [col[n] for n in pairs["follow"]]]
    with np.errstate(divide="ignore", invalid="ignore"):
        values = f - b if kind == "absolute" else np.where(b != 0, (f - b) / np.abs(b), np.nan)
    has_b, has_f = np.isfinite(b).any(axis=1), np.isfinite(f).any(axis=1)
    missing = pd.DataFrame(
        [
            (p, ", ".join(t for t, ok in ((baseline, hb), (followup, hf)) if not ok))
            for p, hb, hf in zip(adata.obs_names, has_b, has_f, strict=True)
            if not (hb and hf)
        ],
        columns=["patient_id", "missing"],
    )
    keys = [k for k in KEYS if k in pairs]
    names = ["delta_" + "_".join(str(v) for v in row) for row in pairs[keys].itertuples(index=False)]
    var = pairs[keys].assign(baseline_feature=pairs["base"].astype(str), followup_feature=pairs["follow"].astype(str))
    var.index = pd.Index(names)
    out = AnnData(values, obs=pd.DataFrame(index=adata.obs_names.copy()), var=var)
    out.uns["delta"] = {
        "params": {"mod": mod, "baseline": baseline, "followup": followup, "kind": kind},
        "missing": missing,
    }
    data.mod[key_added] = out
    update_mudata(data)
    return data if copy else None
