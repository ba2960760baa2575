"""Gather the two sides and the covariates of an association screen, chunk by chunk."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._utils import get_modality, resolve_keys
from ..errors import DataFormatError, InputTypeError, InsufficientDataError, MissingColumnError
from ..io._checks import refuse_numeric_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData


@dataclass
class Side:
    """One side of the screen: a matrix, the rows of the analysed patients and feature names."""

    label: str
    names: pd.Index
    matrix: Any  # ndarray, scipy sparse, or a backed (on-disk) matrix
    patients: pd.Index
    rows: np.ndarray = field(default_factory=lambda: np.arange(0))  # set by select()
    cols: np.ndarray = field(default_factory=lambda: np.arange(0))  # set by select()
    n_nonfinite: int = 0

    def select(self, patients: pd.Index, features: Sequence[str] | None) -> None:
        """Restrict to ``patients`` (in that order) and optionally to named ``features``."""
        self.rows = self.patients.get_indexer(patients)
        if features is None:
            self.cols = np.arange(len(self.names))
            return
        features = [features] if isinstance(features, str) else list(features)
        idx = self.names.get_indexer(features)
        if (idx < 0).any():
            missing = [f for f, i in zip(features, idx, strict=True) if i < 0][:5]
            msg = f"Features {missing} not found in {self.label!r} ({len(self.names)} features, e.g. {list(self.names[:3])})."
            raise MissingColumnError(msg)
        self.cols = idx
        self.names = self.names[idx]

    @property
    def n_features(self) -> int:
        """Number of selected features."""
        return len(self.names)

    def raw_block(self, positions: np.ndarray) -> np.ndarray:
        """Return the selected patients x features ``positions`` (indices into the selection), stored dtype.

        In-memory matrices are sliced (a view for consecutive features); matrices on disk (a
        cohort read with ``backed=True``: h5py datasets, anndata's backed sparse matrices) are
        read for the span of the requested features only.
        """
        cols = self.cols[positions]
        m = self.matrix
        consecutive = len(cols) and cols[-1] - cols[0] == len(cols) - 1 and bool((np.diff(cols) == 1).all())
        if not isinstance(m, np.ndarray) and not sp.issparse(m) and hasattr(m, "shape") and len(cols):
            lo, hi = int(cols.min()), int(cols.max()) + 1
            try:
                part = m[:, lo:hi]  # one read of the span, on disk
            except OSError as err:
                raise _disk_error(self.label, m, err) from None
            part = part.toarray() if sp.issparse(part) else np.asarray(part)
            part = part if consecutive else part[:, cols - lo]
            return part if self._all_rows else part[self.rows]
        if sp.issparse(m):
            return m[self.rows][:, cols].toarray()
        m = np.asarray(m)
        if consecutive:
            m = m[:, cols[0] : cols[-1] + 1]  # contiguous features: a view, no gather
            return m if self._all_rows else m[self.rows]
        return m[:, cols] if self._all_rows else m[np.ix_(self.rows, cols)]

    def block(self, positions: np.ndarray) -> np.ndarray:
        """Return the selected patients x features ``positions`` as float64; infinite values become NaN."""
        a = np.array(self.raw_block(positions), dtype=np.float64)
        if self.n_nonfinite:
            a[np.isinf(a)] = np.nan
        return a

    @property
    def _all_rows(self) -> bool:
        return len(self.rows) == self.matrix.shape[0] and bool((self.rows == np.arange(len(self.rows))).all())


def _disk_error(label: str, matrix, err: OSError) -> DataFormatError:
    """The error for a backed matrix whose file can no longer be read (truncated or damaged)."""
    handle = getattr(matrix, "file", None) or getattr(getattr(matrix, "group", None), "file", None)
    name = getattr(handle, "filename", "the cohort file")
    msg = (
        f"Reading modality {label!r} from {name!r} (backed) failed ({err}): the file is truncated or damaged. "
        "Copy it again or rewrite it with rg.io.write_h5mu, then read it with rg.io.read_h5mu(path, backed=True)."
    )
    return DataFormatError(msg)


def _numeric_frame(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    out = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s) or str(s.dtype) == "boolean":
            out[col] = s.astype("Float64").astype(float)
        elif pd.api.types.is_numeric_dtype(s):
            out[col] = s.astype(float)
        else:
            msg = f"{what} {col!r} is not numeric (dtype {s.dtype}); pass numeric or boolean columns, or dummy-code it."
            raise InputTypeError(msg)
    return pd.DataFrame(out, index=frame.index)


def make_side(mdata: MuData, spec: str | Sequence[str], layer: str | None, label: str) -> Side:
    """Build a :class:`Side` from a modality name or a list of keys (obs columns, ``mod:feature``)."""
    if isinstance(spec, str) and spec in mdata.mod:
        adata = get_modality(mdata, spec)
        if layer is not None and layer not in adata.layers:
            msg = f"Layer {layer!r} not found in modality {spec!r} (layers: {list(adata.layers)}); pass {label}=None to use X."
            raise MissingColumnError(msg)
        matrix = adata.layers[layer] if layer is not None else adata.X
        return Side(spec, pd.Index(adata.var_names), matrix, pd.Index(adata.obs_names))
    keys = [spec] if isinstance(spec, str) else list(spec)
    frame = _numeric_frame(resolve_keys(mdata, keys), "Column")
    return Side("obs", pd.Index(frame.columns), frame.to_numpy(dtype=np.float64), pd.Index(mdata.obs_names))


def covariate_matrix(mdata: MuData, covariates: Sequence[str] | None) -> pd.DataFrame | None:
    """Return covariates as a numeric design (categorical columns dummy-coded, first level dropped)."""
    if covariates is None:
        return None
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covariates:
        return None
    frame = resolve_keys(mdata, covariates)
    refuse_numeric_text(frame, frame.columns, where="associate covariates")
    parts = []
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            parts.append(s.astype("Float64").astype(float).rename(col).to_frame())
        else:
            dummies = pd.get_dummies(s.astype("category"), prefix=col, drop_first=True, dtype=float)
            dummies.loc[s.isna()] = np.nan
            parts.append(dummies)
    return pd.concat(parts, axis=1)


def common_patients(mdata: MuData, x: Side, y: Side, design: pd.DataFrame | None) -> tuple[pd.Index, dict]:
    """Return the patients present on both sides with complete covariates, and the counts."""
    in_both = mdata.obs_names[mdata.obs_names.isin(x.patients) & mdata.obs_names.isin(y.patients)]
    counts = {"n_patients_x": len(x.patients), "n_patients_y": len(y.patients), "n_patients_both": len(in_both)}
    dropped = 0
    if design is not None:
        ok = design.loc[in_both].notna().all(axis=1).to_numpy()
        dropped = int((~ok).sum())
        in_both = in_both[ok]
        if dropped:
            warnings.warn(
                f"associate: {dropped} patients with missing covariates {list(design.columns)} were excluded.",
                UserWarning,
                stacklevel=3,
            )
    counts["n_dropped_covariates"] = dropped
    counts["n_patients"] = len(in_both)
    if len(in_both) < 4:
        msg = f"associate needs at least 4 patients present in both {x.label!r} and {y.label!r}; found {len(in_both)}."
        raise InsufficientDataError(msg)
    return in_both, counts


def missing_patterns(side: Side, chunk: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Group features by the set of patients on which they are observed.

    Returns ``[(feature positions, observed-rows mask), ...]``, complete features first. Infinite
    values count as missing; their number is added to ``side.n_nonfinite``.
    """
    n = len(side.rows)
    side.n_nonfinite = 0
    complete: list[np.ndarray] = []
    groups: dict[bytes, tuple[np.ndarray, list[np.ndarray]]] = {}
    for start in range(0, side.n_features, chunk):
        pos = np.arange(start, min(start + chunk, side.n_features))
        raw = side.raw_block(pos)
        nan = ~np.isfinite(raw)
        side.n_nonfinite += int(np.isinf(raw).sum()) if raw.dtype.kind == "f" else 0
        has = nan.any(axis=0)
        complete.append(pos[~has])
        for j in np.flatnonzero(has):
            key = np.packbits(nan[:, j]).tobytes()
            groups.setdefault(key, (~nan[:, j], []))[1].append(pos[j : j + 1])
    out = []
    full = np.concatenate(complete) if complete else np.array([], dtype=int)
    if len(full):
        out.append((full, np.ones(n, dtype=bool)))
    out.extend((np.concatenate(cols), mask) for mask, cols in groups.values())
    return out
