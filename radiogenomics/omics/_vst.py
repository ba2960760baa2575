"""DESeq2-style variance-stabilising transformation (pure numpy/statsmodels core).

Implements, for a design with an intercept only (``blind=TRUE``), the steps of DESeq2's
``varianceStabilizingTransformation(fitType="parametric")`` (Love, Huber & Anders 2014,
doi:10.1186/s13059-014-0550-8; Anders & Huber 2010, doi:10.1186/gb-2010-11-10-r106):
median-of-ratios size factors, gene-wise dispersions by Cox-Reid adjusted maximum likelihood,
the parametric trend ``alpha(mu) = asymptDisp + extraPois / mu`` fitted by an iterated Gamma
GLM with identity link, and the closed-form transformation of normalised counts.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from ..errors import ConvergenceError, DataFormatError

__all__ = [
    "dispersion_trend",
    "gene_dispersions",
    "mean_dispersion",
    "size_factors",
    "vst_mean_transform",
    "vst_transform",
]

MIN_DISP = 1e-8


def size_factors(counts: np.ndarray) -> np.ndarray:
    """Median-of-ratios size factors (DESeq2 ``estimateSizeFactorsForMatrix``), samples x genes input."""
    with np.errstate(divide="ignore"):
        logc = np.log(counts)
    loggeo = logc.mean(axis=0)
    use = np.isfinite(loggeo)
    if not use.any():
        msg = "Every gene has a zero count in at least one sample: median-of-ratios size factors are undefined."
        raise DataFormatError(msg)
    return np.exp(np.median(logc[:, use] - loggeo[use], axis=1))


def _cr_loglik(log_alpha: np.ndarray, y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Cox-Reid adjusted NB log-likelihood for each gene (columns) at ``log_alpha`` (per gene)."""
    alpha = np.exp(log_alpha)[None, :]
    inv = 1.0 / alpha
    ll = (
        gammaln(y + inv)
        - gammaln(inv)
        - gammaln(y + 1)
        - inv * np.log1p(alpha * mu)
        + y * (np.log(alpha * mu) - np.log1p(alpha * mu))
    ).sum(axis=0)
    weight = (mu / (1.0 + alpha * mu)).sum(axis=0)
    return ll - 0.5 * np.log(weight)


def gene_dispersions(counts: np.ndarray, sf: np.ndarray, *, n_grid: int = 60, n_golden: int = 40) -> np.ndarray:
    """Gene-wise NB dispersions for an intercept-only design (Cox-Reid adjusted MLE).

    ``mu = sf * mean(normalised counts)``; the log-dispersion is maximised over
    ``[log(1e-8), log(max(10, n_samples))]`` by a grid then a golden-section search, and clamped
    to that range, as in DESeq2. As in DESeq2, a gene whose starting estimate (the smaller of
    the rough and the moments estimate) is below ``10 * 1e-8`` keeps the minimum dispersion
    (DESeq2's line search does not move from there and such genes are left out of the trend).
    Genes with all-zero counts get ``nan``.
    """
    n = counts.shape[0]
    norm = counts / sf[:, None]
    base_mean = norm.mean(axis=0)
    ok = base_mean > 0
    y = counts[:, ok].astype(np.float64)
    mu = np.maximum(sf[:, None] * base_mean[ok][None, :], 1e-300)
    lo, hi = np.log(MIN_DISP), np.log(max(10.0, float(n)))
    grid = np.linspace(lo, hi, n_grid)
    values = np.stack([_cr_loglik(np.full(y.shape[1], g), y, mu) for g in grid])
    best = values.argmax(axis=0)
    step = grid[1] - grid[0]
    a = np.clip(grid[best] - step, lo, hi)
    b = np.clip(grid[best] + step, lo, hi)
    ratio = (np.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = _cr_loglik(c, y, mu), _cr_loglik(d, y, mu)
    for _ in range(n_golden):
        left = fc > fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c_new, d_new = b - ratio * (b - a), a + ratio * (b - a)
        c, d = c_new, d_new
        fc, fd = _cr_loglik(c, y, mu), _cr_loglik(d, y, mu)
    out = np.full(counts.shape[1], np.nan)
    out[ok] = np.exp(np.clip((a + b) / 2, lo, hi))
    out[ok & (_initial_dispersion(norm, sf) < 10 * MIN_DISP)] = MIN_DISP
    return out


def _initial_dispersion(norm: np.ndarray, sf: np.ndarray) -> np.ndarray:
    """DESeq2's starting value: min(roughDispEstimate, momentsDispEstimate) for design ~1."""
    n = norm.shape[0]
    mean = norm.mean(axis=0)
    mu = np.maximum(1.0, mean)
    rough = np.maximum((((norm - mu) ** 2 - mu) / mu**2).sum(axis=0) / (n - 1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        moments = (norm.var(axis=0, ddof=1) - np.mean(1.0 / sf) * mean) / mean**2
    return np.fmin(rough, moments)


def dispersion_trend(base_mean: np.ndarray, disp: np.ndarray, *, max_iter: int = 10) -> tuple[float, float]:
    """Fit ``disp = asymptDisp + extraPois / mean`` (DESeq2 ``parametricDispersionFit``).

    Returns ``(asympt_disp, extra_pois)``. Raises :class:`ConvergenceError` as DESeq2 stops when
    a coefficient is not positive or the iteration does not converge.
    """
    import warnings

    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import DomainWarning

    use = np.isfinite(disp) & (disp > 100 * MIN_DISP) & (base_mean > 0)
    means, disps = base_mean[use], disp[use]
    coefs = np.array([0.1, 1.0])
    for _ in range(max_iter + 1):
        resid = disps / (coefs[0] + coefs[1] / means)
        good = (resid > 1e-4) & (resid < 15)
        design = np.column_stack([np.ones(good.sum()), 1.0 / means[good]])
        with warnings.catch_warnings():
            # identity link for Gamma is what DESeq2 uses (R glm(family=Gamma("identity"))); statsmodels notes it
            warnings.simplefilter("ignore", DomainWarning)
            model = sm.GLM(disps[good], design, family=sm.families.Gamma(link=sm.families.links.Identity()))
            fit = model.fit(start_params=coefs, maxiter=100)
        old, coefs = coefs, np.asarray(fit.params, dtype=float)
        if not (coefs > 0).all():
            msg = f"Parametric dispersion trend failed (coefficients {coefs.tolist()} not positive); use method='log_cpm'."
            raise ConvergenceError(msg)
        if np.sum(np.log(coefs / old) ** 2) < 1e-6 and fit.converged:
            return float(coefs[0]), float(coefs[1])
    msg = "Parametric dispersion trend did not converge in 10 iterations; use method='log_cpm'."
    raise ConvergenceError(msg)


def vst_transform(normalized: np.ndarray, asympt_disp: float, extra_pois: float) -> np.ndarray:
    """DESeq2's closed-form VST for the parametric trend, on normalised counts (log2 scale)."""
    a0, a1 = asympt_disp, extra_pois
    q = normalized
    return np.log((1 + a1 + 2 * a0 * q + 2 * np.sqrt(a0 * q * (1 + a1 + a0 * q))) / (4 * a0)) / np.log(2)


def mean_dispersion(disp: np.ndarray) -> float:
    """DESeq2 ``fitType="mean"``: mean (trimmed 0.1 %) of gene-wise dispersions above ``10 * 1e-8``."""
    from scipy.stats import trim_mean

    use = np.isfinite(disp) & (disp > 10 * MIN_DISP)
    if not use.any():
        msg = "No gene has a dispersion above the minimum: the data look Poisson; use method='log_cpm'."
        raise ConvergenceError(msg)
    return float(trim_mean(disp[use], 0.001))


def vst_mean_transform(normalized: np.ndarray, alpha: float) -> np.ndarray:
    """DESeq2's VST for a constant dispersion ``alpha`` (``fitType="mean"``), log2 scale."""
    return (2 * np.arcsinh(np.sqrt(alpha * normalized)) - np.log(alpha) - np.log(4)) / np.log(2)
