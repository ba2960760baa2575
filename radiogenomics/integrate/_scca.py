"""Sparse CCA by penalised matrix decomposition (Witten, Tibshirani & Hastie 2009).

Pure array functions. Witten et al., Biostatistics 10:515 (2009), doi:10.1093/biostatistics/kxp008:
with standardised ``X`` (n x p) and ``Y`` (n x q) and the "diagonal" approximation
``X'X = I``, ``Y'Y = I``, sparse CCA maximises ``u' X'Y v`` subject to ``||u||_2 <= 1``,
``||u||_1 <= c_x``, ``||v||_2 <= 1``, ``||v||_1 <= c_y``. Each update is a soft-thresholded
matrix-vector product whose threshold is found by bisection so that the L1 bound holds
(their Algorithm 3); further components deflate ``X'Y``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pmd_cca"]


def _soft(a: np.ndarray, delta: float) -> np.ndarray:
    return np.sign(a) * np.maximum(np.abs(a) - delta, 0.0)


def _l1_projection(a: np.ndarray, bound: float) -> np.ndarray:
    """Unit-L2 vector ``S(a, delta) / ||S(a, delta)||`` with the smallest delta giving L1 <= bound.

    Bisection on delta as in Witten et al.; each step reads the L1 and L2 norms of the
    thresholded vector from cumulative sums of the sorted magnitudes (O(log p) per step).
    """
    norm = np.linalg.norm(a)
    if norm == 0 or np.abs(a).sum() <= bound * norm:
        return a / norm if norm else a
    mag = np.sort(np.abs(a))  # ascending
    c1 = np.concatenate([[0.0], np.cumsum(mag[::-1])])  # sums of the k largest
    c2 = np.concatenate([[0.0], np.cumsum(mag[::-1] ** 2)])
    lo, hi = 0.0, float(mag[-1])
    for _ in range(60):
        mid = (lo + hi) / 2.0
        k = mag.size - int(np.searchsorted(mag, mid, side="right"))
        l1 = c1[k] - k * mid
        l2 = np.sqrt(max(c2[k] - 2 * mid * c1[k] + k * mid * mid, 0.0))
        if l2 == 0 or l1 / l2 < bound:
            hi = mid
        else:
            lo = mid
    s = _soft(a, hi)
    if not s.any():  # bound 1: keep the single largest entry
        s = _soft(a, lo)
    return s / np.linalg.norm(s)


def _leading_right_vector(k_mat: np.ndarray) -> np.ndarray:
    """First right singular vector, from the eigen-decomposition of the smaller Gram matrix."""
    if k_mat.shape[0] < k_mat.shape[1]:
        _, vecs = np.linalg.eigh(k_mat @ k_mat.T)
        v = k_mat.T @ vecs[:, -1]
    else:
        _, vecs = np.linalg.eigh(k_mat.T @ k_mat)
        v = vecs[:, -1]
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else np.full(k_mat.shape[1], 1.0 / np.sqrt(k_mat.shape[1]))


def pmd_cca(
    x: np.ndarray,
    y: np.ndarray,
    n_components: int = 1,
    *,
    penalty_x: float = 0.3,
    penalty_y: float = 0.3,
    max_iter: int = 100,
    tol: float = 1e-7,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit sparse CCA by penalised matrix decomposition.

    Parameters
    ----------
    x
        Standardised patients x p matrix.
    y
        Standardised patients x q matrix (same patients).
    n_components
        Number of canonical pairs.
    penalty_x
        Sparsity of x weights in (0, 1]: the L1 bound is ``max(1, penalty_x * sqrt(p))``
        (1 gives the most sparse, 1 x sqrt(p) no sparsity).
    penalty_y
        As ``penalty_x`` for y.
    max_iter
        Maximum alternating updates per component.
    tol
        Convergence tolerance on the change of the weights.

    Returns
    -------
    ``(u, v, d)``: weights (p x k and q x k, unit L2 norm) and the values ``u' X'Y v``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.standard_normal((100, 1))
    >>> x = np.hstack([z + 0.5 * rng.standard_normal((100, 3)), rng.standard_normal((100, 20))])
    >>> y = np.hstack([z + 0.5 * rng.standard_normal((100, 2)), rng.standard_normal((100, 30))])
    >>> x, y = (x - x.mean(0)) / x.std(0), (y - y.mean(0)) / y.std(0)
    >>> u, v, d = pmd_cca(x, y, penalty_x=0.35, penalty_y=0.2)
    >>> np.flatnonzero(u[:, 0]).tolist(), np.flatnonzero(v[:, 0]).tolist()
    ([0, 1, 2], [0, 1])
    """
    p, q = x.shape[1], y.shape[1]
    cx, cy = max(1.0, penalty_x * np.sqrt(p)), max(1.0, penalty_y * np.sqrt(q))
    k_mat = x.T @ y
    us, vs, ds = np.zeros((p, n_components)), np.zeros((q, n_components)), np.zeros(n_components)
    for k in range(n_components):
        v = _leading_right_vector(k_mat)
        u = _l1_projection(k_mat @ v, cx)
        for _ in range(max_iter):
            u_new = _l1_projection(k_mat @ v, cx)
            v_new = _l1_projection(k_mat.T @ u_new, cy)
            delta = np.abs(u_new - u).sum() + np.abs(v_new - v).sum()
            u, v = u_new, v_new
            if delta < tol:
                break
        d = float(u @ k_mat @ v)
        if d < 0:
            v, d = -v, -d
        us[:, k], vs[:, k], ds[k] = u, v, d
        k_mat = k_mat - d * np.outer(u, v)
    return us, vs, ds
