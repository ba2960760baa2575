"""Bundled imaging data: a sarcoma DICOM folder tree with RTSTRUCT and the IBSI 1 digital phantom."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"


def sarcoma_dicom() -> Path:
    """Return the folder of the bundled soft-tissue sarcoma DICOM tree (CT, MR T1, FDG-PET, RTSTRUCT).

    One patient (STS_002) of the IBSI 1 sarcoma set (TCIA Soft-tissue-Sarcoma, CC BY 3.0;
    Vallières et al., Phys Med Biol 2015, doi:10.1088/0031-9155/60/14/5471): three DICOM image
    series, each with an RTSTRUCT holding the GTV (``GTV_Mass_<modality>``). PET is already in
    SUV (Units GML). Sources and citation in the folder's ``README.md``.

    Returns
    -------
    Path of the root folder (``STS_002/<CT|MR_T1|PET>/dicom/{image,mask}``).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> sorted(p.name for p in (rg.datasets.sarcoma_dicom() / "STS_002").iterdir())
    ['CT', 'MR_T1', 'PET']
    """
    return DATA / "tcia_sts"


def ibsi_phantom() -> dict[str, Path]:
    """Return the paths of the IBSI 1 digital phantom, its mask and its reference values.

    The 5x4x4-voxel phantom of the Image Biomarker Standardisation Initiative (CC BY 4.0;
    Zwanenburg et al., Radiology 2020, doi:10.1148/radiol.2020191145) with its 487 consensus
    reference values (semicolon-separated ``reference value;tolerance;tag``).

    Returns
    -------
    dict with ``image``, ``mask`` (NIfTI files) and ``reference`` (CSV file).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> sorted(rg.datasets.ibsi_phantom())
    ['image', 'mask', 'reference']
    """
    root = DATA / "ibsi_phantom"
    return {
        "image": root / "nifti" / "image" / "phantom.nii.gz",
        "mask": root / "nifti" / "mask" / "mask.nii.gz",
        "reference": root / "reference_values" / "ibsi_1_dig_phantom.csv",
    }
