"""Radiogenomic association maps: every x feature against every y feature, with FDR control."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import numpy as np

from .._compat import copy_mudata
from .._utils import require_mudata
from ._core import check_options, compute
from ._fdr import TESTS, pairs_table, stored_pairs
from ._inputs import common_patients, covariate_matrix, make_side

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["associate"]

logger = logging.getLogger(__name__)


def associate(
    mdata: MuData,
    x: str | Sequence[str] = "radiomics",
    y: str | Sequence[str] = "rna",
    *,
    method: Literal["spearman", "pearson"] = "spearman",
    covariates: Sequence[str] | None = None,
    fdr: Literal["bh", "by"] | None = "bh",
    layer_x: str | None = None,
    layer_y: str | None = None,
    x_features: Sequence[str] | None = None,
    y_features: Sequence[str] | None = None,
    chunk_size: int | None = None,
    missing: Literal["pairwise", "drop"] = "pairwise",
    min_patients: int = 10,
    min_count: int = 3,
    n_permutations: int = 0,
    seed: int = 0,
    alpha: float = 0.05,
    top: int = 10,
    client=None,
    key_added: str = "associate",
    copy: bool = False,
) -> MuData | None:
    """Test every x feature against every y feature: a radiogenomic association map.

    Correlations are computed for all pairs at once from ranks and matrix products, processing
    ``chunk_size`` y features at a time so memory stays bounded. Only patients present in both
    ``x`` and ``y`` (and with complete covariates) are analysed; their number is recorded.

    Tests (column ``test``):

    * ``spearman`` / ``pearson``: correlation with the exact two-sided p-value from the t
      distribution with ``n - 2`` degrees of freedom (as :func:`scipy.stats.spearmanr`,
      :func:`scipy.stats.pearsonr`).
    * ``mannwhitneyu``: a pair in which either feature has exactly two values (e.g. a mutation),
      with ``method="spearman"`` and no covariates, is tested with the Mann-Whitney U test (normal
      approximation with tie and continuity correction, as :func:`scipy.stats.mannwhitneyu`
      with ``method="asymptotic"``): the binary feature gives the groups, the other one the values
      (when both are binary, the one with the smaller minority group gives the groups), so the test
      of a pair does not depend on which side each feature is on and swapping ``x`` and ``y``
      transposes the map. ``statistic`` is U of the group with the larger value, ``r`` is the
      Spearman correlation with the 0/1 indicator (same sign).
    * ``mannwhitneyu_exact``: the same, with the exact p-value (as ``method="exact"``) when
      the smaller group has at most 8 patients and the values have no ties (the rule of
      scipy's ``method="auto"``): with one carrier among ``n`` patients no p-value is below ``2 / n``.
      A pair with a binary feature (x or y) whose smaller group has fewer than ``min_count``
      patients is not tested at all (``p`` missing, outside the FDR family; counted in ``params``).
      With ``method="pearson"`` a binary feature gives the point-biserial correlation, whose t
      test is Student's two-sample t test.
    * ``partial_spearman`` / ``partial_pearson``: with ``covariates``, the correlation of the
      residuals of x and y (ranked first for Spearman, covariates included) after regression on
      the covariates (categorical ones dummy-coded), tested with ``n - 2 - k`` degrees of
      freedom, ``k`` the number of covariate columns. A binary feature is then tested this way too.

    Missing values: with ``missing="pairwise"`` each pair uses the patients observed in both
    features. Features are grouped by their pattern of missing values and each group pair is
    computed exactly on its patients; if there are more than 64 group pairs, ranks and residuals
    are computed within each feature and pairs correlated with masked sums (approximate for
    Spearman and partial correlations). With ``missing="drop"`` patients with any missing value
    in the selected features are excluded. The rule applied is stored in ``params``. Infinite
    values are treated as missing, with a warning that counts them.

    Storage: the map is kept as x-by-y float32 matrices (``r``, ``p``, ``padj``,
    ``statistic``; 4 bytes per value, about 80 MB each for 1,000 x 20,000 features) with the
    feature names, plus a long table of the pairs worth reading (``padj < alpha`` and the
    ``top`` smallest p-values of each x feature). :func:`radiogenomics.get.associations` turns
    the matrices into a long table of any subset. float32 keeps 7 significant digits; p-values
    below about 1e-38 lose precision and below 1e-45 are stored as 0.

    Parameters
    ----------
    mdata
        Cohort container.
    x
        Modality name, or a list of keys (``obs`` columns, ``"<mod>:<feature>"``, ``"<emb>:<k>"``).
    y
        Modality name (e.g. ``"rna"``, ``"mut"``, ``"pathways"``) or a list of keys as for ``x``.
    method
        ``"spearman"`` or ``"pearson"``.
    covariates
        Keys of covariates to adjust for by partial correlation (e.g. ``["site", "age"]``).
    fdr
        ``"bh"`` (Benjamini-Hochberg) or ``"by"`` (Benjamini-Yekutieli) via
        :func:`statsmodels.stats.multitest.multipletests`, over all pairs of the map; ``None`` skips it.
    layer_x
        Layer of ``x`` to use instead of ``X``.
    layer_y
        Layer of ``y`` to use instead of ``X``.
    x_features
        Restrict x to these features (e.g. one radiomic feature against all genes).
    y_features
        Restrict y to these features.
    chunk_size
        Number of y features per chunk; default keeps each chunk's float64 blocks (patients x chunk
        and x features x chunk) near 16 MB.
    missing
        ``"pairwise"`` or ``"drop"``, see above.
    min_patients
        Pairs observed on fewer patients are not tested (``r`` and ``p`` missing, outside the FDR
        family): with pairwise deletion a few patients can give |r| = 1 and a t-test p-value far
        smaller than any exact test allows.
    min_count
        Pairs with a binary feature (e.g. a mutation, in x or y) whose smaller group has fewer
        patients are not tested (as ``min_count`` of :func:`~radiogenomics.integrate.factor_associations`).
    n_permutations
        Number of patient permutations for family-wise error control (Westfall-Young single-step
        max-|r|: y rows are permuted after covariate residualisation); needs complete data.
    seed
        Seed of the permutations.
    alpha
        Pairs with ``padj < alpha`` are kept in the long table ``results``.
    top
        The ``top`` pairs with the smallest p-values of each x feature are kept in ``results``
        too, whatever their adjusted p-value.
    client
        A Dask :class:`distributed.Client` (e.g. of a ``LocalCluster``, a SLURM cluster from
        dask-jobqueue or a Kubernetes cluster): chunks of y features and their permutation
        nulls run on its workers; results are identical to the local run.
    key_added
        Key in ``mdata.uns`` for the results.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.uns[key_added]["r"]``, ``["p"]``, ``["padj"]``, ``["statistic"]`` : :class:`numpy.ndarray`
        x features by y features, float32 (``statistic``: t, or U for Mann-Whitney); ``["n"]``
        (int32, patients per pair), ``["test"]`` (int8 codes into ``params["tests"]``) and
        ``["p_fwer"]`` with permutations.
    ``mdata.uns[key_added]["x_features"]``, ``["y_features"]`` : :class:`numpy.ndarray`
        Names of the rows and columns of the matrices.
    ``mdata.uns[key_added]["results"]`` : :class:`pandas.DataFrame`
        The stored pairs (``padj < alpha`` or among the ``top`` of their x feature), ordered by
        x feature then y feature: ``x_feature``, ``y_feature``, ``r``, ``p``, ``padj``, ``n``,
        ``statistic``, ``test``, and ``p_fwer`` with permutations.
    ``mdata.uns[key_added]["params"]`` : :class:`dict`
        Call parameters, ``n_patients`` used, ``fdr_family`` (the family of the correction),
        ``missing_rule``, covariate columns, counts of patients per side, of untested pairs
        (``n_pairs_too_few_patients``, ``n_pairs_small_group``) and of infinite values treated
        as missing (``n_nonfinite_x``, ``n_nonfinite_y``).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=200, seed=0)
    >>> rg.integrate.associate(mdata, x="radiomics", y="mut")
    >>> mdata.uns["associate"]["r"].shape, mdata.uns["associate"]["params"]["n_patients"]
    ((100, 10), 60)
    >>> res = rg.get.associations(mdata)
    >>> res.shape[0], res.loc[res["y_feature"] == "IDH1", "test"].unique().tolist()
    (1000, ['mannwhitneyu'])
    """
    require_mudata(mdata, "integrate.associate")
    check_options(method, fdr, missing, n_permutations, min_count)
    if copy:
        mdata = copy_mudata(mdata)
    xs, ys = make_side(mdata, x, layer_x, "layer_x"), make_side(mdata, y, layer_y, "layer_y")
    design = covariate_matrix(mdata, covariates)
    patients, counts = common_patients(mdata, xs, ys, design)
    xs.select(patients, x_features)
    ys.select(patients, y_features)
    z = None if design is None else design.loc[patients].to_numpy(dtype=np.float64)
    options = {"method": method, "fdr": fdr, "missing": missing, "min_patients": min_patients, "min_count": min_count}
    runs = {"n_permutations": n_permutations, "seed": seed, "chunk_size": chunk_size, "client": client}
    maps, info = compute(xs, ys, z, **options, **runs)
    table = pairs_table(maps, stored_pairs(maps["p"], maps["padj"], alpha=alpha, top=top))
    logger.info("associate: %d x %d features, %d patients", xs.n_features, ys.n_features, info["n_patients_used"])
    mdata.uns[key_added] = {
        **maps,
        "results": table,
        "params": {
            "x": xs.label if xs.label != "obs" else list(map(str, xs.names)),
            "y": ys.label if ys.label != "obs" else list(map(str, ys.names)),
            "method": method,
            "covariates": [] if covariates is None else [str(c) for c in np.atleast_1d(covariates)],
            "covariate_columns": [] if design is None else list(design.columns),
            "n_covariate_dims": info["n_covariate_dims"],
            "fdr": "none" if fdr is None else fdr,
            "fdr_family": info["fdr_family"],
            "missing": missing,
            "missing_rule": info["missing_rule"],
            "n_patients": info["n_patients_used"],
            "n_patients_eligible": counts["n_patients"],
            **{key: int(v) for key, v in counts.items() if key != "n_patients"},
            "min_patients": int(min_patients),
            "min_count": int(min_count),
            "n_pairs_too_few_patients": info["n_pairs_too_few_patients"],
            "n_pairs_small_group": info["n_pairs_small_group"],
            "n_nonfinite_x": info["n_nonfinite_x"],
            "n_nonfinite_y": info["n_nonfinite_y"],
            "n_permutations": int(n_permutations),
            "seed": int(seed),
            "layer_x": "X" if layer_x is None else layer_x,
            "layer_y": "X" if layer_y is None else layer_y,
            "chunk_size": info["chunk_size"],
            "alpha": float(alpha),
            "top": int(top),
            "tests": list(TESTS),
            "distributed": client is not None,
        },
    }
    return mdata if copy else None
