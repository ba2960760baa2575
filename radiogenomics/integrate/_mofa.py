"""MOFA+ across modalities with mofapy2, stored with muon's key names."""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from .._compat import copy_mudata
from .._keys import embedding_key, loadings_key
from .._utils import require_mudata
from ..errors import DataFormatError, MissingColumnError
from ._mofa_checks import check_views, prepare_views

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from mudata import MuData

    from ._mofa_checks import View

__all__ = ["mofa"]

logger = logging.getLogger(__name__)


def _group_labels(mdata: MuData, groups: str | None) -> pd.Series:
    if groups is None:
        return pd.Series("group1", index=mdata.obs_names)
    if groups not in mdata.obs.columns:
        msg = f"groups={groups!r} is not a column of mdata.obs; available: {list(mdata.obs.columns)[:12]} ..."
        raise MissingColumnError(msg)
    labels = mdata.obs[groups]
    if labels.isna().any():
        msg = f"mdata.obs[{groups!r}] has {int(labels.isna().sum())} missing values; fill or drop those patients first."
        raise DataFormatError(msg)
    return labels.astype(str)


def _run_mofapy2(views: Sequence[View], labels: pd.Series, options: dict) -> dict:
    """Train MOFA+ and read the saved model back; mofapy2's console output goes to the log."""
    try:
        import h5py
        from mofapy2.run.entry_point import entry_point
    except ImportError as e:
        e.add_note("MOFA+ needs mofapy2 and h5py: pip install mofapy2 h5py")
        raise
    group_names = list(dict.fromkeys(labels))
    data = [
        [view.values.loc[labels.index[labels == g]].to_numpy(dtype=np.float64) for g in group_names] for view in views
    ]
    chatter = io.StringIO()
    # mofapy2 takes log(0) in its ELBO terms (handled by the algorithm), and its small matrix
    # products are much faster on one BLAS thread than on contended threads.
    with (
        tempfile.TemporaryDirectory() as tmp,
        contextlib.redirect_stdout(chatter),
        np.errstate(divide="ignore", invalid="ignore"),
        threadpool_limits(limits=1),
    ):
        ent = entry_point()
        ent.set_data_options(scale_views=options["scale_views"])
        ent.set_data_matrix(
            data,
            likelihoods=[view.likelihood for view in views],
            views_names=[view.name for view in views],
            groups_names=group_names,
            samples_names=[list(labels.index[labels == g]) for g in group_names],
            features_names=[[f"{view.name}:{f}" for f in view.values.columns] for view in views],
        )
        ent.set_model_options(factors=options["n_factors"], ard_factors=len(group_names) > 1)
        ent.set_train_options(
            iter=options["max_iter"],
            convergence_mode=options["convergence_mode"],
            seed=options["seed"],
            quiet=True,
            verbose=False,
        )
        ent.build()
        ent.run()
        outfile = Path(tmp) / "mofa_model.hdf5"
        ent.save(str(outfile), save_data=False)
        with h5py.File(outfile, "r") as f:
            model = {
                "Z": {g: f["expectations"]["Z"][g][()] for g in group_names},
                "W": {view.name: f["expectations"]["W"][view.name][()] for view in views},
                "r2": {g: f["variance_explained"]["r2_per_factor"][g][()] for g in group_names},
                "r2_total": {g: f["variance_explained"]["r2_total"][g][()] for g in group_names},
                "elbo": f["training_stats"]["elbo"][()],
                "samples": {g: [s.decode() for s in f["samples"][g][()]] for g in group_names},
            }
    logger.debug("mofapy2 output:\n%s", chatter.getvalue())
    model["groups"] = group_names
    return model


def _variance_tables(model: dict, views: Sequence[View], factor_names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, totals = [], []
    for g in model["groups"]:
        r2 = np.asarray(model["r2"][g])
        for m, view in enumerate(views):
            totals.append({"group": g, "view": view.name, "r2_percent": float(model["r2_total"][g][m])})
            rows += [
                {"group": g, "view": view.name, "factor": name, "r2_percent": float(r2[m, k])}
                for k, name in enumerate(factor_names)
            ]
    return pd.DataFrame(rows), pd.DataFrame(totals)


def mofa(
    mdata: MuData,
    *,
    mods: Sequence[str] | None = None,
    n_factors: int = 10,
    likelihoods: str | Sequence[str] | Mapping[str, str] | None = None,
    groups: str | None = None,
    seed: int = 0,
    scale_views: bool = True,
    scale_features: bool = False,
    max_iter: int = 1000,
    convergence_mode: Literal["fast", "medium", "slow"] = "fast",
    key_added: str = "mofa",
    copy: bool = False,
) -> MuData | None:
    """Find latent factors shared across modalities with MOFA+ (mofapy2).

    Each modality is a view; patients missing from a view are missing data, which MOFA+
    handles (Argelaguet et al., Genome Biol 21:111, 2020, doi:10.1186/s13059-020-02015-1).
    Continuous views get a Gaussian likelihood and binary views (every observed value 0 or 1,
    such as mutation flags) a Bernoulli likelihood. Features with no observed value or a single
    value are excluded (weights NaN) with a warning. Warnings also flag raw counts given as a
    Gaussian view, Gaussian features on very different scales, views of very different sizes,
    fewer than 15 patients per factor and patients missing from views (counted per view).

    Parameters
    ----------
    mdata
        Cohort container.
    mods
        Modalities to use as views; all modalities when ``None``.
    n_factors
        Number of factors to learn (inactive ones explain ~0% variance).
    likelihoods
        ``"gaussian"``, ``"bernoulli"`` or ``"poisson"``: one for all views, one per view, or a
        dict ``{mod: likelihood}``; detected from the values when ``None``.
    groups
        ``mdata.obs`` column splitting patients into MOFA groups (e.g. cohort); one group when ``None``.
    seed
        Seed of the MOFA+ initialisation.
    scale_views
        Scale each Gaussian view to unit variance (mofapy2 ``scale_views``).
    scale_features
        Standardise each Gaussian feature (z-score over the patients that have it) before
        training; use it for radiomic features, whose units differ by orders of magnitude.
    max_iter
        Maximum number of training iterations.
    convergence_mode
        mofapy2 convergence tolerance: ``"fast"``, ``"medium"`` or ``"slow"``.
    key_added
        Name of the result (see :mod:`radiogenomics._keys`): ``"mofa"`` writes muon's slots
        ``obsm["X_mofa"]``, ``varm["LFs"]`` and ``uns["mofa"]``; ``"k"`` writes ``obsm["X_k"]``,
        ``varm["LFs_k"]`` and ``uns["k"]``. Factors are addressed as ``"<key_added>:<k>"``.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.obsm["X_mofa"]`` : :class:`numpy.ndarray`
        Patients x factors (``Factor1``...); NaN for patients in no view; ``"mofa:1"`` is Factor1.
    ``mdata.mod[m].varm["LFs"]`` : :class:`numpy.ndarray`
        Features x factors weights of each view; NaN for excluded features.
    ``mdata.uns["mofa"]["variance"]`` : :class:`pandas.DataFrame`
        Variance explained, long table ``group, view, factor, r2_percent``.
    ``mdata.uns["mofa"]["variance_total"]`` : :class:`pandas.DataFrame`
        ``group, view, r2_percent`` over all factors.
    ``mdata.uns["mofa"]["n_missing_per_view"]`` : :class:`pandas.DataFrame`
        Per view: likelihood, features, patients present and missing, missing values, excluded features.
    ``mdata.uns["mofa"]["training"]`` : :class:`pandas.DataFrame`
        ELBO per iteration.
    ``mdata.uns["mofa"]["params"]`` : :class:`dict`
        The arguments, the likelihoods used and the number of iterations.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=100, seed=0)
    >>> rna = mdata["rna"]
    >>> rna.X = np.log1p(rna.X / rna.X.sum(axis=1, keepdims=True) * 1e6)
    >>> rg.integrate.mofa(mdata, mods=["radiomics", "rna"], n_factors=3, scale_features=True, max_iter=200)
    >>> mdata.obsm["X_mofa"].shape, mdata["rna"].varm["LFs"].shape
    ((60, 3), (100, 3))
    >>> mdata.uns["mofa"]["variance"].columns.tolist()
    ['group', 'view', 'factor', 'r2_percent']
    """
    require_mudata(mdata, "integrate.mofa")
    mdata = copy_mudata(mdata) if copy else mdata
    labels = _group_labels(mdata, groups)
    views = prepare_views(mdata, mods, likelihoods, scale_features=scale_features)
    missing, has_any = check_views(views, n_factors, scale_features=scale_features)
    labels = labels[has_any]
    for view in views:
        view.values = view.values.loc[has_any]
    options = {
        "n_factors": int(n_factors),
        "seed": int(seed),
        "scale_views": bool(scale_views),
        "max_iter": int(max_iter),
        "convergence_mode": convergence_mode,
    }
    logger.info("mofa: %d views, %d patients, %d factors", len(views), int(has_any.sum()), n_factors)
    model = _run_mofapy2(views, labels, options)

    factor_names = [f"Factor{k + 1}" for k in range(n_factors)]
    factors = pd.DataFrame(np.nan, index=mdata.obs_names, columns=factor_names)
    for g in model["groups"]:
        factors.loc[model["samples"][g]] = np.asarray(model["Z"][g]).T
    obsm_key, varm_key, uns_key = embedding_key(key_added), loadings_key(key_added), key_added
    mdata.obsm[obsm_key] = factors.to_numpy()
    for view in views:
        weights = pd.DataFrame(np.asarray(model["W"][view.name]).T, index=view.values.columns, columns=factor_names)
        mdata.mod[view.name].varm[varm_key] = weights.reindex(view.all_features).to_numpy()
    variance, totals = _variance_tables(model, views, factor_names)
    elbo = np.asarray(model["elbo"], dtype=float)
    mdata.uns[uns_key] = {
        "variance": variance,
        "variance_total": totals,
        "n_missing_per_view": missing.reset_index(),
        "training": pd.DataFrame({"iteration": np.arange(1, len(elbo) + 1), "elbo": elbo}),
        "params": {
            **options,
            "mods": [view.name for view in views],
            "likelihoods": [view.likelihood for view in views],
            "groups": groups,
            "scale_features": bool(scale_features),
            "n_iterations": len(elbo),
            "n_patients": int(has_any.sum()),
            "factor_names": factor_names,
            "obsm_key": obsm_key,
            "varm_key": varm_key,
        },
    }
    return mdata if copy else None
