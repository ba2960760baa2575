"""Realistic feature names for synthetic cohorts."""

from __future__ import annotations

PYRADIOMICS_FEATURES = {
    "firstorder": [
        "10Percentile",
        "90Percentile",
        "Energy",
        "Entropy",
        "InterquartileRange",
        "Kurtosis",
        "Maximum",
        "MeanAbsoluteDeviation",
        "Mean",
        "Median",
        "Minimum",
        "Range",
        "RobustMeanAbsoluteDeviation",
        "RootMeanSquared",
        "Skewness",
        "TotalEnergy",
        "Uniformity",
        "Variance",
    ],
    "glcm": [
        "Autocorrelation",
        "ClusterProminence",
        "ClusterShade",
        "ClusterTendency",
        "Contrast",
        "Correlation",
        "DifferenceAverage",
        "DifferenceEntropy",
        "DifferenceVariance",
        "Id",
        "Idm",
        "Idmn",
        "Idn",
        "Imc1",
        "Imc2",
        "InverseVariance",
        "JointAverage",
        "JointEnergy",
        "JointEntropy",
        "MCC",
        "MaximumProbability",
        "SumAverage",
        "SumEntropy",
        "SumSquares",
    ],
    "glrlm": [
        "GrayLevelNonUniformity",
        "GrayLevelNonUniformityNormalized",
        "GrayLevelVariance",
        "HighGrayLevelRunEmphasis",
        "LongRunEmphasis",
        "LongRunHighGrayLevelEmphasis",
        "LongRunLowGrayLevelEmphasis",
        "LowGrayLevelRunEmphasis",
        "RunEntropy",
        "RunLengthNonUniformity",
        "RunLengthNonUniformityNormalized",
        "RunPercentage",
        "RunVariance",
        "ShortRunEmphasis",
        "ShortRunHighGrayLevelEmphasis",
        "ShortRunLowGrayLevelEmphasis",
    ],
    "glszm": [
        "GrayLevelNonUniformity",
        "GrayLevelNonUniformityNormalized",
        "GrayLevelVariance",
        "HighGrayLevelZoneEmphasis",
        "LargeAreaEmphasis",
        "LargeAreaHighGrayLevelEmphasis",
        "LargeAreaLowGrayLevelEmphasis",
        "LowGrayLevelZoneEmphasis",
        "SizeZoneNonUniformity",
        "SizeZoneNonUniformityNormalized",
        "SmallAreaEmphasis",
        "SmallAreaHighGrayLevelEmphasis",
        "SmallAreaLowGrayLevelEmphasis",
        "ZoneEntropy",
        "ZonePercentage",
        "ZoneVariance",
    ],
    "ngtdm": ["Busyness", "Coarseness", "Complexity", "Contrast", "Strength"],
}
SHAPE_FEATURES = [
    "Elongation",
    "Flatness",
    "LeastAxisLength",
    "MajorAxisLength",
    "Maximum2DDiameterColumn",
    "Maximum3DDiameter",
    "MeshVolume",
    "MinorAxisLength",
    "Sphericity",
    "SurfaceArea",
    "SurfaceVolumeRatio",
    "VoxelVolume",
]
IMAGE_TYPES = (
    ["original"]
    + [f"wavelet-{c}" for c in ("LLH", "LHL", "LHH", "HLL", "HLH", "HHL", "HHH", "LLL")]
    + [f"log-sigma-{s}-0-mm-3D" for s in (1, 2, 3, 4, 5)]
)


def radiomic_feature_table(n_features: int, modality: str = "CT", roi: str = "tumour") -> list[tuple[str, ...]]:
    """Return ``n_features`` ``(name, modality, roi, image_type, feature_class, feature)`` tuples."""
    rows = [(modality, roi, "original", "shape", f) for f in SHAPE_FEATURES]
    for image_type in IMAGE_TYPES:
        rows += [(modality, roi, image_type, cls, f) for cls, feats in PYRADIOMICS_FEATURES.items() for f in feats]
    extra = 0
    while len(rows) < n_features:
        extra += 1
        rows += [
            (modality, roi, f"square-{extra}", cls, f) for cls, feats in PYRADIOMICS_FEATURES.items() for f in feats
        ]
    return [("_".join(r), *r) for r in rows[:n_features]]


def synthetic_barcode(i: int) -> str:
    """TCGA-style patient barcode for synthetic patient ``i`` (base 36, 4 characters)."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    code = ""
    for _ in range(4):
        i, r = divmod(i, 36)
        code = digits[r] + code
    return f"TCGA-SY-{code}"
