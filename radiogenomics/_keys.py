"""Stored names: the one rule by which writers name their slots and readers find them.

Every function that stores a result takes ``key_added``, the *name* of that result; every
function that reads one takes ``key``, the same name. From the name follow all the slots:

============================  ==================================  =========================
what                          slot                                addressed as
============================  ==================================  =========================
results (tables, params)      ``mdata.uns[name]``                 ``key=name``
per-patient embedding         ``mdata.obsm[f"X_{name}"]``         ``"<name>:<k>"`` (1-based)
per-feature loadings          ``mod.varm[f"LFs_{name}"]``         ``"<name>:<k>"`` in rankings
                              (muon's ``"LFs"`` for ``"mofa"``)
per-patient score column      ``mdata.obs[f"{name}_{kind}"]``     ``"<name>_<kind>"``
============================  ==================================  =========================

``kind`` is ``risk`` (Cox linear predictor), ``risk_score`` (signatures; the default
signature keeps the bare ``"risk_score"``), ``score``/``class`` (prediction models),
``points`` (nomograms), ``group`` (cut-points). A writer with two embeddings (canonical
correlation) stores ``X_{name}_x`` and ``X_{name}_y``, addressed as ``"<name>_x:<k>"``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .errors import MissingResultError

if TYPE_CHECKING:
    from mudata import MuData

__all__ = ["embedding", "embedding_key", "embedding_names", "loadings_key", "risk_column", "score_column"]

#: Loadings slot of the default MOFA name, as muon writes it.
MUON_LOADINGS = "LFs"


def embedding_key(name: str) -> str:
    """Return the ``obsm`` slot of the embedding named ``name``.

    Examples
    --------
    >>> embedding_key("mofa"), embedding_key("cca_x")
    ('X_mofa', 'X_cca_x')
    """
    return f"X_{name}"


def loadings_key(name: str) -> str:
    """Return the ``varm`` slot of the feature loadings named ``name`` (muon's ``"LFs"`` for MOFA).

    Examples
    --------
    >>> loadings_key("mofa"), loadings_key("k")
    ('LFs', 'LFs_k')
    """
    return MUON_LOADINGS if name == "mofa" else f"{MUON_LOADINGS}_{name}"


def score_column(name: str, kind: str) -> str:
    """Return the ``obs`` column of a per-patient score of kind ``kind`` written under ``name``.

    Examples
    --------
    >>> score_column("cox", "risk"), score_column("apply_model", "score")
    ('cox_risk', 'apply_model_score')
    """
    return f"{name}_{kind}"


def risk_column(name: str) -> str:
    """Return the ``obs`` column of a signature's risk score (bare ``"risk_score"`` for ``"signature"``).

    Examples
    --------
    >>> risk_column("signature"), risk_column("sig2")
    ('risk_score', 'sig2_risk_score')
    """
    return "risk_score" if name == "signature" else score_column(name, "risk_score")


def embedding_names(mdata: MuData) -> list[str]:
    """Return the names of the embeddings stored in ``mdata.obsm`` (slots ``X_<name>``)."""
    return [str(k).removeprefix("X_") for k in mdata.obsm if str(k).startswith("X_")]


def _obsm_key(mdata: MuData, key: str) -> str | None:
    """The ``obsm`` slot for ``key``: the name's slot, or ``key`` itself if it is a stored slot."""
    for slot in (embedding_key(key), key):
        if slot in mdata.obsm:
            return slot
    return None


def embedding(mdata: MuData, key: str, *, prefix: str = "Factor") -> pd.DataFrame:
    """Return the embedding named ``key`` as a patients x components DataFrame.

    ``key`` is the name (``"mofa"`` reads ``obsm["X_mofa"]``); an ``obsm`` slot itself
    (``"X_mofa"``) is accepted too. Columns are ``f"{prefix}{k}"``, ``k`` from 1.

    Raises
    ------
    MissingResultError
        No such embedding; the message lists the stored ones.

    Examples
    --------
    >>> import numpy as np
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=20, n_genes=100, seed=0)
    >>> mdata.obsm["X_mofa"] = np.zeros((20, 3))
    >>> embedding(mdata, "mofa").columns.tolist()
    ['Factor1', 'Factor2', 'Factor3']
    """
    slot = _obsm_key(mdata, key)
    if slot is None:
        names = embedding_names(mdata)
        msg = (
            f"No embedding named {key!r} (mdata.obsm[{embedding_key(key)!r}]); stored names: {names}. "
            "Run the step that writes it (e.g. rg.integrate.mofa(mdata, key_added=...)) or pass key=<one of these>."
        )
        raise MissingResultError(msg)
    values = mdata.obsm[slot]
    values = values.to_numpy() if isinstance(values, pd.DataFrame) else np.asarray(values)
    values = np.asarray(values, dtype=float)
    columns = [f"{prefix}{k + 1}" for k in range(values.shape[1])]
    return pd.DataFrame(values, index=mdata.obs_names, columns=columns)
