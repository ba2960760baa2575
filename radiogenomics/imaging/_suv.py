"""PET standardised uptake value (SUV, body weight) from the DICOM header.

SUVbw = activity concentration (Bq/ml) x body weight (g) / injected dose (Bq), with the dose
decayed to the time the image values refer to. The rules follow the QIBA/UPICT vendor-neutral
SUV pseudo-code (Kinahan et al., QIBA FDG-PET/CT profile; Boellaard, J Nucl Med 2009):

* ``Units`` (0054,1001) ``GML`` (g/ml) means the values already are SUVbw: factor 1.
* ``Units`` ``BQML`` is converted. ``DecayCorrection`` (0054,1102) ``START``: the values are
  decay-corrected to the series start, so the dose is decayed from injection to the series
  date/time (``SeriesDate``/``SeriesTime``, or the earliest ``AcquisitionTime`` when the series
  time is later). ``ADMIN``: corrected to the injection time, no decay. ``NONE``: refused
  (each slice would need its own decay factor).
* Any other unit, or a missing tag, is refused with the tag's name.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataFormatError

if TYPE_CHECKING:
    import os

    import SimpleITK as sitk

from ._io import RECORD_PREFIX


def _time(date: str, time: str) -> datetime:
    text = time.strip().split(".")[0].ljust(6, "0")
    frac = time.strip().split(".")[1] if "." in time else "0"
    return datetime.strptime(date.strip()[:8] + text[:6], "%Y%m%d%H%M%S") + timedelta(seconds=float("0." + frac))


def _need(ds: Any, tag: str, source: object) -> Any:
    value = ds.get(tag)
    if value is None or str(value).strip() == "":
        msg = f"{source}: DICOM tag {tag} is missing or empty; SUV cannot be computed (convert to SUV upstream)."
        raise DataFormatError(msg)
    return value


def _scan_time(headers: list[Any], source: object) -> tuple[datetime, str]:
    first = headers[0]
    date = str(first.get("SeriesDate") or first.get("AcquisitionDate") or first.get("StudyDate") or "")
    if not date:
        msg = f"{source}: no SeriesDate, AcquisitionDate or StudyDate; SUV decay correction needs the scan date."
        raise DataFormatError(msg)
    acquisitions = [str(h.AcquisitionTime) for h in headers if h.get("AcquisitionTime")]
    earliest = min((_time(date, t) for t in acquisitions), default=None)
    if first.get("SeriesTime"):
        series = _time(date, str(first.SeriesTime))
        if earliest is None or series <= earliest:
            return series, "SeriesTime"
    if earliest is None:
        msg = f"{source}: neither SeriesTime nor AcquisitionTime present; SUV decay correction needs the scan time."
        raise DataFormatError(msg)
    return earliest, "AcquisitionTime"


def suv_bw_factor(headers: list[Any], *, source: object = "PET series") -> dict[str, Any]:
    """Multiplicative factor from stored PET values to SUV body weight, with what was used.

    Parameters
    ----------
    headers
        pydicom datasets of the series' slices (headers only; the first one gives the dose).
    source
        Name of the series used in error messages.

    Returns
    -------
    dict with ``suv_factor`` (g/ml per stored unit), ``pet_units``, ``suv_decay_correction``
    (``START``, ``ADMIN`` or ``none needed``), ``suv_decay_factor`` (dose fraction left at the
    reference time), ``suv_decay_seconds`` and ``suv_time_reference``.

    Raises
    ------
    DataFormatError
        When ``Units`` is neither GML nor BQML, ``DecayCorrection`` is NONE or unknown, a needed
        tag (PatientWeight, RadionuclideTotalDose, RadionuclideHalfLife, the injection time) is
        missing, or the injection is after the scan.
    """
    first = headers[0]
    units = str(_need(first, "Units", source)).upper()
    if units == "GML":
        return {
            "suv_factor": 1.0,
            "pet_units": units,
            "suv_decay_correction": "none needed",
            "suv_decay_factor": 1.0,
            "suv_decay_seconds": 0.0,
            "suv_time_reference": "values already SUVbw (Units GML)",
        }
    if units != "BQML":
        msg = f"{source}: PET Units {units!r}; SUV body weight can be computed from BQML only (or GML, already SUV)."
        raise DataFormatError(msg)
    weight = float(_need(first, "PatientWeight", source))
    if weight <= 0:
        msg = f"{source}: PatientWeight is {weight} kg; SUV body weight needs the patient's weight."
        raise DataFormatError(msg)
    info = _need(first, "RadiopharmaceuticalInformationSequence", source)[0]
    dose = float(_need(info, "RadionuclideTotalDose", source))
    half_life = float(_need(info, "RadionuclideHalfLife", source))
    correction = str(_need(first, "DecayCorrection", source)).upper()
    if correction == "ADMIN":
        decay, seconds, reference = 1.0, 0.0, "injection (DecayCorrection ADMIN)"
    elif correction == "START":
        scan, reference = _scan_time(headers, source)
        if info.get("RadiopharmaceuticalStartDateTime"):
            text = str(info.RadiopharmaceuticalStartDateTime)
            injection = _time(text[:8], text[8:])
        else:
            injection = _time(scan.strftime("%Y%m%d"), str(_need(info, "RadiopharmaceuticalStartTime", source)))
        seconds = (scan - injection).total_seconds()
        if seconds < 0:
            msg = (
                f"{source}: injection ({injection:%Y-%m-%d %H:%M:%S}) is after the scan ({scan:%Y-%m-%d %H:%M:%S}, "
                f"{reference}); the header times are inconsistent (anonymisation shift?), SUV not computed."
            )
            raise DataFormatError(msg)
        decay = 2.0 ** (-seconds / half_life)
        reference = f"series start ({reference})"
    else:
        msg = f"{source}: DecayCorrection {correction!r}; SUV needs values decay-corrected to START or ADMIN."
        raise DataFormatError(msg)
    return {
        "suv_factor": weight * 1000.0 / (dose * decay),
        "pet_units": units,
        "suv_decay_correction": correction,
        "suv_decay_factor": decay,
        "suv_decay_seconds": seconds,
        "suv_time_reference": reference,
    }


def series_headers(folder: str | os.PathLike, series_uid: str = "") -> list[Any]:
    """Headers (no pixels) of the DICOM files of one series in ``folder`` (the only one, or ``series_uid``)."""
    import pydicom

    headers = []
    for path in sorted(Path(folder).iterdir()):
        if not path.is_file():
            continue
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except (OSError, pydicom.errors.InvalidDicomError):
            continue
        if ds.get("Modality") in ("PT", "NM") and (not series_uid or ds.get("SeriesInstanceUID") == series_uid):
            headers.append(ds)
    if not headers:
        msg = f"{folder}: no PET (Modality PT) DICOM file found; suv='bw' needs the PET DICOM series."
        raise DataFormatError(msg)
    uids = {str(h.SeriesInstanceUID) for h in headers}
    if len(uids) > 1:
        msg = f"{folder}: {len(uids)} PET series found; set series_uid in the manifest."
        raise DataFormatError(msg)
    return headers


def suv_bw_image(image: sitk.Image, folder: str | os.PathLike, *, series_uid: str = "") -> sitk.Image:
    """Return ``image`` (read from the PET series in ``folder``) in SUVbw, the factor recorded as metadata."""
    import SimpleITK as sitk

    if not Path(folder).is_dir():
        msg = f"{folder}: suv='bw' needs the PET DICOM series folder (the header), not an image file."
        raise DataFormatError(msg)
    record = suv_bw_factor(series_headers(folder, series_uid), source=folder)
    out = sitk.Cast(image, sitk.sitkFloat64) * record["suv_factor"]
    for key, value in record.items():
        out.SetMetaData(RECORD_PREFIX + key, str(value))
    return out
