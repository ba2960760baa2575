"""Image and mask perturbations for feature robustness (SimpleITK), each seeded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import ParameterError

if TYPE_CHECKING:
    import SimpleITK as sitk

__all__ = ["PERTURBATIONS", "estimate_noise", "perturb", "shuffle_voxels"]

PERTURBATIONS = ("dilate", "erode", "translate", "noise")
STOCHASTIC = {"translate", "noise"}


def estimate_noise(image: sitk.Image) -> float:
    """Noise standard deviation by Immerkaer's method (doi:10.1006/cviu.1996.0060), averaged over slices.

    Each axial slice is convolved with the difference of two Laplacians, which cancels image
    structure up to second order; ``sigma = sqrt(pi/2) * mean|conv| / 6``.
    """
    import SimpleITK as sitk
    from scipy import ndimage

    arr = sitk.GetArrayFromImage(image).astype(np.float64)
    arr = arr.reshape((-1, *arr.shape[-2:]))
    kernel = np.array([[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]])
    sums = [np.abs(ndimage.convolve(s, kernel, mode="nearest")[1:-1, 1:-1]).mean() for s in arr if min(s.shape) > 2]
    return float(np.sqrt(np.pi / 2) * np.mean(sums) / 6.0) if sums else 0.0


def _roi(mask: sitk.Image, label: int) -> sitk.Image:
    import SimpleITK as sitk

    return sitk.Cast(sitk.Equal(mask, int(label)), sitk.sitkUInt8)


def _translate(image: sitk.Image, roi: sitk.Image, fraction: np.ndarray) -> tuple[sitk.Image, sitk.Image]:
    """Shift image and ROI together by ``fraction`` of a voxel per axis: only interpolation changes."""
    import SimpleITK as sitk

    offset = [float(f * s) for f, s in zip(fraction, image.GetSpacing(), strict=True)]
    transform = sitk.TranslationTransform(image.GetDimension(), offset)
    low = float(sitk.GetArrayViewFromImage(image).min())
    moved = sitk.Resample(sitk.Cast(image, sitk.sitkFloat64), image, transform, sitk.sitkLinear, low)
    soft = sitk.Resample(sitk.Cast(roi, sitk.sitkFloat64), roi, transform, sitk.sitkLinear, 0.0)
    return moved, sitk.Cast(soft >= 0.5, sitk.sitkUInt8)


def perturb(
    image: sitk.Image, mask: sitk.Image, label: int, kind: str, rng: np.random.Generator
) -> tuple[sitk.Image, sitk.Image, str]:
    """Return a perturbed ``(image, roi mask with value 1, description)``.

    ``dilate``/``erode``: the ROI grown or shrunk by one voxel (ball structuring element);
    ``translate``: image and ROI shifted together by a random fraction of a voxel (uniform in
    [-0.5, 0.5) per axis; linear interpolation, ROI re-thresholded at 0.5); ``noise``: Gaussian
    noise with the image's own noise level (Immerkaer estimate) added to every voxel.
    ``original`` returns the image and ROI unchanged.
    """
    import SimpleITK as sitk

    roi = _roi(mask, label)
    radius = [1] * image.GetDimension()
    if kind == "original":
        return image, roi, "unchanged"
    if kind == "dilate":
        return image, sitk.BinaryDilate(roi, radius, sitk.sitkBall, 0, 1), "ROI dilated by 1 voxel"
    if kind == "erode":
        return image, sitk.BinaryErode(roi, radius, sitk.sitkBall, 0, 1), "ROI eroded by 1 voxel"
    if kind == "translate":
        fraction = rng.uniform(-0.5, 0.5, image.GetDimension())
        moved, moved_roi = _translate(image, roi, fraction)
        return moved, moved_roi, "translated by " + ", ".join(f"{f:+.3f}" for f in fraction) + " voxel"
    if kind == "noise":
        sigma = estimate_noise(image)
        arr = sitk.GetArrayFromImage(image).astype(np.float64)
        noisy = sitk.GetImageFromArray(arr + rng.normal(0.0, sigma, arr.shape))
        noisy.CopyInformation(image)
        return noisy, roi, f"Gaussian noise sd {sigma:.4g}"
    msg = f"Unknown perturbation {kind!r}; use some of {PERTURBATIONS}."
    raise ParameterError(msg)


def shuffle_voxels(
    image: sitk.Image, mask: sitk.Image, label: int, rng: np.random.Generator
) -> tuple[sitk.Image, sitk.Image]:
    """Permute the intensities of the voxels inside the ROI (negative control): same histogram, no spatial structure."""
    import SimpleITK as sitk

    roi = _roi(mask, label)
    arr = sitk.GetArrayFromImage(image)
    inside = sitk.GetArrayViewFromImage(roi).astype(bool)
    arr[inside] = rng.permutation(arr[inside])
    out = sitk.GetImageFromArray(arr)
    out.CopyInformation(image)
    return out, roi
