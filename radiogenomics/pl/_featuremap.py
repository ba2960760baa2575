"""Image slice with a voxel-wise feature map and ROI contours on top."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import OutOfRangeError
from ._utils import new_axes

if TYPE_CHECKING:
    import SimpleITK as sitk
    from matplotlib.axes import Axes

__all__ = ["feature_map"]


def _array(image: sitk.Image | np.ndarray) -> np.ndarray:
    import SimpleITK as sitk

    return sitk.GetArrayFromImage(image) if isinstance(image, sitk.Image) else np.asarray(image)


def feature_map(
    image: sitk.Image | np.ndarray,
    values: sitk.Image | np.ndarray | None = None,
    mask: sitk.Image | np.ndarray | Mapping[str, sitk.Image | np.ndarray] | None = None,
    *,
    slice_index: int | None = None,
    cmap: str = "magma",
    alpha: float = 0.8,
    label: str = "",
    ax: Axes | None = None,
    **kwargs: Any,
) -> Axes:
    """Draw an axial image slice with a feature map (from :func:`radiogenomics.imaging.feature_map`) and contours.

    Parameters
    ----------
    image
        SimpleITK image (or a z, y, x array) shown in grey.
    values
        Voxel-wise feature map on the same grid (NaN outside the ROI is transparent); ``None``
        draws the image and contours only.
    mask
        ROI mask drawn as a contour, or a dict of name -> mask (e.g. the GTV and its ring), each
        with its own colour and a legend entry.
    slice_index
        Axial slice (z index); default the slice with the most voxels of the (first) mask, or
        the middle slice.
    cmap, alpha
        Colour map and opacity of the feature map.
    label
        Colour bar label (e.g. the feature name).
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow` for the feature map.

    Returns
    -------
    The matplotlib :class:`~matplotlib.axes.Axes`.

    Examples
    --------
    >>> import numpy as np
    >>> import radiogenomics as rg
    >>> image = np.random.default_rng(0).normal(size=(3, 20, 20))
    >>> roi = np.zeros(image.shape, np.uint8)
    >>> roi[:, 5:15, 5:15] = 1
    >>> ax = rg.pl.feature_map(image, np.where(roi > 0, image**2, np.nan), {"GTV": roi}, label="energy")
    >>> ax.get_legend().get_texts()[0].get_text()
    'GTV'
    """
    import SimpleITK as sitk

    img = _array(image)
    masks = (
        {}
        if mask is None
        else ({k: _array(v) for k, v in mask.items()} if isinstance(mask, Mapping) else {"ROI": _array(mask)})
    )
    if slice_index is None:
        first = next(iter(masks.values()), None)
        slice_index = (
            int(np.argmax((first != 0).sum(axis=(1, 2)))) if first is not None and first.any() else img.shape[0] // 2
        )
    if not 0 <= slice_index < img.shape[0]:
        msg = f"slice_index {slice_index} out of range 0-{img.shape[0] - 1}."
        raise OutOfRangeError(msg)
    spacing = image.GetSpacing() if isinstance(image, sitk.Image) else (1.0, 1.0, 1.0)
    ny, nx = img.shape[1:]
    extent = (0, nx * spacing[0], ny * spacing[1], 0)
    ax = new_axes(ax)
    ax.imshow(img[slice_index], cmap="gray", extent=extent, interpolation="nearest")
    if values is not None:
        shown = ax.imshow(
            _array(values)[slice_index], cmap=cmap, alpha=alpha, extent=extent, interpolation="nearest", **kwargs
        )
        ax.figure.colorbar(shown, ax=ax, label=label, shrink=0.8)
    colours = ["#00d0ff", "#7CFC00", "#ff4fd8", "#ffd400"]
    handles = []
    from matplotlib.lines import Line2D

    yy = (np.arange(ny) + 0.5) * spacing[1]
    xx = (np.arange(nx) + 0.5) * spacing[0]
    for k, (name, array) in enumerate(masks.items()):
        colour = colours[k % len(colours)]
        plane = (array[slice_index] != 0).astype(float)
        if plane.any():  # the first mask on top (zorder), e.g. the GTV over its ring's inner edge
            ax.contour(xx, yy, plane, levels=[0.5], colors=[colour], linewidths=1.2, zorder=3 + len(masks) - k)
        handles.append(Line2D([], [], color=colour, label=name))
    if handles:
        ax.legend(handles=handles, loc="upper right", fontsize="small")
    ax.set_xlabel("x (mm)" if isinstance(image, sitk.Image) else "x (voxels)")
    ax.set_ylabel("y (mm)" if isinstance(image, sitk.Image) else "y (voxels)")
    ax.set_title(f"slice {slice_index}")
    return ax
