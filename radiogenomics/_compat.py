"""Compatibility shims for the supported anndata/mudata versions.

mudata 0.3 pulls modality columns into the global ``obs`` on every ``update()`` and warns
about it; mudata 0.4 made ``pull_on_update=False`` the default and removed ``set_options``.
Opting into the 0.4 behaviour here keeps results identical across versions.
"""

from __future__ import annotations

import warnings

import mudata as md

if hasattr(md, "set_options"):  # mudata < 0.4
    md.set_options(pull_on_update=False)

# The same gene is a feature of several modalities (``rna:EGFR`` and ``mut:EGFR``). mudata's
# global ``var`` index is only an aggregate view, and this package always addresses features per
# modality, so mudata's notice about repeated names there is expected, not a problem.
warnings.filterwarnings("ignore", message=r"var_names are not unique", category=UserWarning)


def _keep_dtypes(update_attr):
    """Wrap ``MuData._update_attr`` so global ``obs``/``var`` columns keep their dtypes.

    mudata 0.3 passes the global table through ``DataFrame.convert_dtypes()`` on every update
    (``copy()``, ``read_h5mu``): float columns holding whole numbers (age, KPS) become ``int64``
    or ``Int64`` and missing values turn into ``pd.NA``. Clinical columns must not change type
    behind the user's back, so the dtypes seen before the update are restored afterwards.
    """

    def wrapper(self, attr, *args, **kwargs):
        before = getattr(self, attr).dtypes.to_dict() if attr in ("obs", "var") else {}
        out = update_attr(self, attr, *args, **kwargs)
        table = getattr(self, attr)
        for col, dtype in before.items():
            if col in table.columns and table[col].dtype != dtype and dtype.kind == "f":
                table[col] = table[col].astype(dtype)
        return out

    wrapper.__wrapped__ = update_attr
    return wrapper


if hasattr(md, "set_options") and not hasattr(md.MuData._update_attr, "__wrapped__"):  # mudata < 0.4
    md.MuData._update_attr = _keep_dtypes(md.MuData._update_attr)
