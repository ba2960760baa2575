"""Survival analysis: Kaplan-Meier, Cox models, radiomic signatures, validation metrics and nomograms."""

from __future__ import annotations

from ._apply import apply_signature
from ._compare import compare
from ._competing import cumulative_incidence, fine_gray
from ._cox import cox
from ._cut import apply_cutpoint, dichotomize
from ._evaluate import evaluate
from ._groups import apply_risk_groups, risk_groups
from ._km import kaplan_meier, logrank
from ._nomogram import nomogram
from ._reclass import reclassification
from ._signature import signature
from ._timevarying import cox_time_varying
from ._validate import validate
from ._zph import ph_test

__all__: list[str] = []
__all__ += ["cox"]
__all__ += ["apply_cutpoint", "dichotomize", "kaplan_meier", "logrank", "ph_test"]
__all__ += ["apply_signature", "compare", "evaluate", "nomogram", "signature"]
__all__ += ["cox_time_varying", "cumulative_incidence", "fine_gray"]
__all__ += ["apply_risk_groups", "risk_groups"]
__all__ += ["validate"]
__all__ += ["reclassification"]
