"""IBSI 1 check: pyradiomics on the IBSI digital phantom against the consensus reference values."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import os

# Settings matching the IBSI 1 digital phantom configuration: no resampling, no re-segmentation,
# intensities used as grey levels (bin width 1 from the minimum 1), 3D texture matrices at distance 1
# (26-connected), symmetric GLCM, NGLDM with alpha 0; GLCM/GLRLM features per direction, averaged (3D_avg).
PARAMS = {
    "imageType": {"Original": {}},
    "featureClass": {
        "shape": None,
        "firstorder": None,
        "glcm": None,
        "glrlm": None,
        "glszm": None,
        "ngtdm": None,
        "gldm": None,
    },
    "setting": {
        "binWidth": 1,
        "label": 1,
        "distances": [1],
        "symmetricalGLCM": True,
        "gldm_a": 0,
        "voxelArrayShift": 0,
    },
}

SHAPE = {
    "MeshVolume": "morph_volume",
    "VoxelVolume": "morph_vol_approx",
    "SurfaceArea": "morph_area_mesh",
    "SurfaceVolumeRatio": "morph_av",
    "Sphericity": "morph_sphericity",
    "Maximum3DDiameter": "morph_diam",
    "MajorAxisLength": "morph_pca_maj_axis",
    "MinorAxisLength": "morph_pca_min_axis",
    "LeastAxisLength": "morph_pca_least_axis",
    "Elongation": "morph_pca_elongation",
    "Flatness": "morph_pca_flatness",
}
FIRSTORDER = {
    "Mean": "stat_mean",
    "Variance": "stat_var",
    "Skewness": "stat_skew",
    "Kurtosis": "stat_kurt",
    "Median": "stat_median",
    "Minimum": "stat_min",
    "10Percentile": "stat_p10",
    "90Percentile": "stat_p90",
    "Maximum": "stat_max",
    "InterquartileRange": "stat_iqr",
    "Range": "stat_range",
    "MeanAbsoluteDeviation": "stat_mad",
    "RobustMeanAbsoluteDeviation": "stat_rmad",
    "Energy": "stat_energy",
    "RootMeanSquared": "stat_rms",
    "Entropy": "ih_entropy",
    "Uniformity": "ih_uniformity",
}
GLCM = {
    "JointAverage": "joint_avg",
    "SumSquares": "joint_var",
    "JointEntropy": "joint_entr",
    "DifferenceAverage": "diff_avg",
    "DifferenceVariance": "diff_var",
    "DifferenceEntropy": "diff_entr",
    "SumAverage": "sum_avg",
    "SumEntropy": "sum_entr",
    "JointEnergy": "energy",
    "Contrast": "contrast",
    "Id": "inv_diff",
    "Idn": "inv_diff_norm",
    "Idm": "inv_diff_mom",
    "Idmn": "inv_diff_mom_norm",
    "InverseVariance": "inv_var",
    "Correlation": "corr",
    "Autocorrelation": "auto_corr",
    "ClusterTendency": "clust_tend",
    "ClusterShade": "clust_shade",
    "ClusterProminence": "clust_prom",
    "Imc1": "info_corr1",
    "Imc2": "info_corr2",
    "MaximumProbability": "joint_max",
}
GLRLM = {
    "ShortRunEmphasis": "sre",
    "LongRunEmphasis": "lre",
    "LowGrayLevelRunEmphasis": "lgre",
    "HighGrayLevelRunEmphasis": "hgre",
    "ShortRunLowGrayLevelEmphasis": "srlge",
    "ShortRunHighGrayLevelEmphasis": "srhge",
    "LongRunLowGrayLevelEmphasis": "lrlge",
    "LongRunHighGrayLevelEmphasis": "lrhge",
    "GrayLevelNonUniformity": "glnu",
    "GrayLevelNonUniformityNormalized": "glnu_norm",
    "RunLengthNonUniformity": "rlnu",
    "RunLengthNonUniformityNormalized": "rlnu_norm",
    "RunPercentage": "r_perc",
    "GrayLevelVariance": "gl_var",
    "RunVariance": "rl_var",
    "RunEntropy": "rl_entr",
}
GLSZM = {
    "SmallAreaEmphasis": "sze",
    "LargeAreaEmphasis": "lze",
    "LowGrayLevelZoneEmphasis": "lgze",
    "HighGrayLevelZoneEmphasis": "hgze",
    "SmallAreaLowGrayLevelEmphasis": "szlge",
    "SmallAreaHighGrayLevelEmphasis": "szhge",
    "LargeAreaLowGrayLevelEmphasis": "lzlge",
    "LargeAreaHighGrayLevelEmphasis": "lzhge",
    "GrayLevelNonUniformity": "glnu",
    "GrayLevelNonUniformityNormalized": "glnu_norm",
    "SizeZoneNonUniformity": "zsnu",
    "SizeZoneNonUniformityNormalized": "zsnu_norm",
    "ZonePercentage": "z_perc",
    "GrayLevelVariance": "gl_var",
    "ZoneVariance": "zs_var",
    "ZoneEntropy": "zs_entr",
}
GLDM = {
    "SmallDependenceEmphasis": "lde",
    "LargeDependenceEmphasis": "hde",
    "LowGrayLevelEmphasis": "lgce",
    "HighGrayLevelEmphasis": "hgce",
    "SmallDependenceLowGrayLevelEmphasis": "ldlge",
    "SmallDependenceHighGrayLevelEmphasis": "ldhge",
    "LargeDependenceLowGrayLevelEmphasis": "hdlge",
    "LargeDependenceHighGrayLevelEmphasis": "hdhge",
    "GrayLevelNonUniformity": "glnu",
    "DependenceNonUniformity": "dcnu",
    "DependenceNonUniformityNormalized": "dcnu_norm",
    "GrayLevelVariance": "gl_var",
    "DependenceVariance": "dc_var",
    "DependenceEntropy": "dc_entr",
}
NGTDM = {n: n.lower() for n in ("Coarseness", "Contrast", "Busyness", "Complexity", "Strength")}


def feature_map_ibsi() -> dict[str, str]:
    """Pyradiomics feature name (``original_<class>_<feature>``) -> IBSI 1 tag for the 3D configuration."""
    out = {f"original_shape_{k}": v for k, v in SHAPE.items()}
    out |= {f"original_firstorder_{k}": v for k, v in FIRSTORDER.items()}
    out |= {f"original_glcm_{k}": f"cm_{v}_3D_avg" for k, v in GLCM.items()}
    out |= {f"original_glrlm_{k}": f"rlm_{v}_3D_avg" for k, v in GLRLM.items()}
    out |= {f"original_glszm_{k}": f"szm_{v}_3D" for k, v in GLSZM.items()}
    out |= {f"original_gldm_{k}": f"ngl_{v}_3D" for k, v in GLDM.items()}
    out |= {f"original_ngtdm_{k}": f"ngt_{v}_3D" for k, v in NGTDM.items()}
    return out


# The phantom's reference values are given to 3 significant digits with tolerance 0: a value agrees
# when it equals the reference after rounding to 3 significant digits (IBSI reference manual, ch. 5).
SIGNIFICANT = 3

# Why a mapped feature differs from the IBSI reference, and the value it gives once the documented
# difference of definition is undone (pyradiomics documents these choices in its feature definitions:
# https://pyradiomics.readthedocs.io/en/latest/features.html). n: voxels in the ROI.
_AXIS = (
    "pyradiomics takes the PCA eigenvalues of the voxel coordinates' population covariance (1/N); "
    "the IBSI reference uses the sample covariance (1/(N-1)): ours x sqrt(N/(N-1))"
)
EXPLANATIONS = {
    "original_firstorder_Kurtosis": (
        "pyradiomics reports kurtosis, IBSI excess kurtosis: ours - 3",
        lambda value, n: value - 3.0,
    ),
    "original_shape_MinorAxisLength": (_AXIS, lambda value, n: value * np.sqrt(n / (n - 1))),
    "original_shape_LeastAxisLength": (_AXIS, lambda value, n: value * np.sqrt(n / (n - 1))),
    "original_shape_MajorAxisLength": (_AXIS, lambda value, n: value * np.sqrt(n / (n - 1))),
}


def _significant(value: float, digits: int = SIGNIFICANT) -> float:
    return float(f"{value:.{digits}g}")


def _agrees(value: float, expected: float, tolerance: float) -> bool:
    return bool(abs(value - expected) <= tolerance + 1e-12 or _significant(value) == _significant(expected))


def ibsi_check(
    image: str | os.PathLike | None = None,
    mask: str | os.PathLike | None = None,
    reference: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Compare pyradiomics features of the IBSI 1 digital phantom with the IBSI consensus values.

    The phantom is extracted with settings matching its IBSI 1 reference configuration
    (:data:`PARAMS`: no resampling, the integer intensities as grey levels, 3D matrices at
    distance 1, GLCM and GLRLM features per direction averaged: the ``3D_avg`` tags; GLSZM,
    GLDM/NGLDM (alpha 0) and NGTDM: the ``3D`` tags). Each pyradiomics feature with an IBSI
    counterpart gets one row. Reference: Zwanenburg et al., Radiology 2020,
    doi:10.1148/radiol.2020191145 (IBSI 1), reference manual arXiv:1612.07003.

    Parameters
    ----------
    image, mask
        Phantom image and mask files; default the bundled phantom
        (:func:`radiogenomics.datasets.ibsi_phantom`).
    reference
        Reference values CSV (``reference value;tolerance;tag``); default the bundled one.

    Returns
    -------
    :class:`pandas.DataFrame` indexed by IBSI tag with ``feature`` (pyradiomics name),
    ``reference``, ``tolerance``, ``value`` (ours), ``difference``, ``agrees``
    (``abs(difference) <= tolerance``, or equal after rounding to 3 significant digits, as the
    phantom's values are given with tolerance 0), and for the features whose pyradiomics
    definition differs from IBSI's by design: ``explanation``, ``corrected`` (our value with the
    difference undone) and ``corrected_agrees``.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> table = rg.imaging.ibsi_check()
    >>> row = table.loc["morph_volume"]
    >>> row["feature"], float(row["reference"]), bool(row["agrees"])
    ('original_shape_MeshVolume', 556.0, True)
    >>> int(table["agrees"].sum()), int((table["agrees"] | table["corrected_agrees"]).sum()), len(table)
    (99, 102, 102)
    """
    import SimpleITK as sitk

    from ..datasets import ibsi_phantom
    from ..io._text import read_table
    from ._case import make_extractor

    paths = ibsi_phantom()
    image_itk = sitk.ReadImage(str(image or paths["image"]))
    mask_itk = sitk.ReadImage(str(mask or paths["mask"]))
    ref = read_table(reference or paths["reference"], "IBSI reference", sep=";").set_index("tag")
    extractor = make_extractor(PARAMS)
    glcm_logger = logging.getLogger("radiomics.glcm")
    level = glcm_logger.level
    glcm_logger.setLevel(logging.ERROR)  # SumAverage is wanted here (cm_sum_avg); pyradiomics warns it is redundant
    try:
        output = extractor.execute(image_itk, mask_itk)
    finally:
        glcm_logger.setLevel(level)
    n = int(output["diagnostics_Mask-original_VoxelNum"])
    rows = []
    for feature, tag in feature_map_ibsi().items():
        value = float(np.real(output[feature]))
        expected, tolerance = float(ref.loc[tag, "reference value"]), float(ref.loc[tag, "tolerance"])
        note, corrected = "", np.nan
        if feature in EXPLANATIONS:
            note, correct = EXPLANATIONS[feature]
            corrected = float(correct(value, n))
        rows.append(
            {
                "tag": tag,
                "feature": feature,
                "reference": expected,
                "tolerance": tolerance,
                "value": value,
                "difference": value - expected,
                "agrees": _agrees(value, expected, tolerance),
                "corrected": corrected,
                "corrected_agrees": _agrees(corrected, expected, tolerance) if note else False,
                "explanation": note,
            }
        )
    return pd.DataFrame(rows).set_index("tag")


def markdown_rows(table: pd.DataFrame) -> list[str]:
    """The rows of the docs' IBSI table (docs/ibsi.md), one markdown line per feature of :func:`ibsi_check`."""
    lines = []
    for tag, row in table.iterrows():
        agrees = "yes" if row["agrees"] else ("no; yes once corrected" if row["corrected_agrees"] else "no")
        corrected = f"{row['corrected']:.4g}" if np.isfinite(row["corrected"]) else ""
        lines.append(
            f"| `{tag}` | `{row['feature'].removeprefix('original_')}` | {row['reference']:.4g} | {row['tolerance']:.3g} "
            f"| {row['value']:.4g} | {agrees} | {corrected} | {row['explanation']} |"
        )
    return lines
