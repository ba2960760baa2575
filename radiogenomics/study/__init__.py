"""A whole study from one file: inputs, steps (cached), figures, report.html and an R bundle.

``radiogenomics init study.yaml`` writes a study file, ``radiogenomics run study.yaml`` runs it;
in Python: ``from radiogenomics import study; study.run("study.yaml")``.
"""

from __future__ import annotations

from ._init import EXAMPLES, init
from ._load import MissingInputError, StudyFileError, load
from ._runner import RunResult, run
from ._schema import STEP_ORDER, Study

__all__ = ["EXAMPLES", "STEP_ORDER", "MissingInputError", "RunResult", "Study", "StudyFileError", "init", "load", "run"]
