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
warnings.filterwarnings("ignore", message=r"var_names are not unique", category=UserWarning, module=r"mudata(\.|$)")
