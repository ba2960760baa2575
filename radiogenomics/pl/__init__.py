"""Plots. They read stored results, take ``ax=`` and return the matplotlib ``Axes``."""

from __future__ import annotations

from ._associate import associate_heatmap, volcano
from ._cohort import pairing
from ._competing import calibration_curve, cumulative_incidence
from ._enrich import enrichment_dotplot, gsea_running_score, pathway_heatmap
from ._explain import shap_dependence, shap_feature_maps, shap_summary
from ._featuremap import feature_map
from ._imaging import feature_correlation, harmonization_pca, icc_distribution
from ._mofa import factor_scatter, mofa_variance
from ._oncoplot import oncoplot
from ._predict import roc
from ._signature import calibration, decision_curve, nomogram, risk_distribution, time_auc
from ._survival import forest, kaplan_meier

__all__ = ["enrichment_dotplot", "gsea_running_score", "pairing", "pathway_heatmap"]
__all__ += ["forest", "kaplan_meier"]
__all__ += ["feature_correlation", "harmonization_pca", "icc_distribution"]
__all__ += ["factor_scatter", "mofa_variance", "roc"]
__all__ += ["associate_heatmap", "volcano"]
__all__ += ["calibration", "decision_curve", "nomogram", "risk_distribution", "time_auc"]
__all__ += ["calibration_curve", "cumulative_incidence"]
__all__ += ["feature_map"]
__all__ += ["oncoplot"]
__all__ += ["shap_dependence", "shap_feature_maps", "shap_summary"]
