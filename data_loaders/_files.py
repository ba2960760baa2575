"""Paths of the tiny example files shipped in ``data_loaders/_examples``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from radiogenomics.errors import MissingColumnError

__all__ = ["EXAMPLES", "example_file"]

#: Example name -> file (or folder) in ``data_loaders/_examples``, all in the exact public layout.
EXAMPLES = {
    "gdc_star_counts": "gdc_star_counts",
    "gdc_sample_sheet": "gdc_sample_sheet.tsv",
    "xena_counts": "xena_htseq_counts.tsv",
    "cbioportal_clinical_patient": "cbioportal_data_clinical_patient.txt",
    "cbioportal_clinical_sample": "cbioportal_data_clinical_sample.txt",
    "cbioportal_expression": "cbioportal_data_mrna_seq_v2_rsem.txt",
    "maf": "gdc_masked_somatic.maf",
    "ihc_scores": "pdl1_ihc_scores.csv",
    "pyradiomics_features": "pyradiomics_features.csv",
}


def example_file(name: str) -> Path:
    """Return the path of a bundled example file in a public format.

    The files are tiny (a few samples, about 25 genes) with synthetic values in the exact
    layout of the public downloads; they are used by the tests and the docstring examples.

    Parameters
    ----------
    name
        One of ``"gdc_star_counts"`` (a GDC download folder, ``<File ID>/<File Name>``),
        ``"gdc_sample_sheet"``, ``"xena_counts"``, ``"cbioportal_clinical_patient"``,
        ``"cbioportal_clinical_sample"``, ``"cbioportal_expression"``, ``"maf"``,
        ``"ihc_scores"`` or ``"pyradiomics_features"``.

    Returns
    -------
    Path of the file or folder.

    Examples
    --------
    >>> import data_loaders as dl
    >>> dl.example_file("maf").name
    'gdc_masked_somatic.maf'
    """
    if name not in EXAMPLES:
        msg = f"Unknown example {name!r}; choose one of {sorted(EXAMPLES)}."
        raise MissingColumnError(msg)
    return Path(str(files("data_loaders") / "_examples" / EXAMPLES[name]))
