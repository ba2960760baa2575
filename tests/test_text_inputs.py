"""Every text reader goes through one reading path: a UTF-8 byte-order mark, CRLF line ends and
compression recognised by content give the same result as the plain file (issue 11, item 17)."""

from __future__ import annotations

import gzip
import warnings
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import data_loaders as dl
import radiogenomics as rg
from radiogenomics import study
from radiogenomics.errors import DataFormatError
from radiogenomics.imaging._manifest import read_manifest
from radiogenomics.io._text import open_text
from radiogenomics.study._tablefile import read_text_table

if TYPE_CHECKING:
    from collections.abc import Callable

_GMT = Path(str(files("radiogenomics.enrich") / "data" / "h.all.v7.0.symbols.gmt"))


def _windows(text: str) -> bytes:
    """The text as Excel on Windows saves it: UTF-8 with a byte-order mark and CRLF line ends."""
    return b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")


VARIANTS = {
    "bom_crlf": _windows,
    "bom_crlf_gzip_unnamed": lambda text: gzip.compress(_windows(text)),  # gzip without a .gz suffix
    "old_mac_cr": lambda text: text.replace("\n", "\r").encode("utf-8"),
}


def _copy(src: Path, dst: Path, variant: str) -> Path:
    """Copy a file (or every file of a folder tree) re-encoded as ``variant``."""
    if src.is_dir():
        for file in src.rglob("*"):
            if file.is_file():
                _copy(file, dst / file.relative_to(src), variant)
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(VARIANTS[variant](src.read_text(encoding="utf-8")))
    return dst


def _manifest_csv(tmp: Path) -> Path:
    path = tmp / "source" / "manifest.csv"
    path.parent.mkdir()
    path.write_text(
        "patient_id,image,mask,modality\nP1,p1_ct.nii.gz,p1_mask.nii.gz,CT\nP2,p2_ct.nii.gz,p2_mask.nii.gz,CT\n"
    )
    return path


def _study_table(tmp: Path) -> Path:
    path = tmp / "source" / "clinical.csv"
    path.parent.mkdir()
    path.write_text("Patient,Age,Grade\nP1,50,G2\nP2,61,G4\n")
    return path


def _gdc_pair(folder: Path, sheet: Path) -> ad.AnnData:
    return dl.read_gdc_star_counts(folder, sample_sheet=sheet)


# reader kind -> (source file or folder, reader of a path)
READERS: dict[str, tuple[Callable[[Path], Path], Callable[[Path], object]]] = {
    "xena": (lambda t: dl.example_file("xena_counts"), lambda p: dl.read_xena_matrix(p, units="log2(count+1)")),
    "cbioportal_clinical": (lambda t: dl.example_file("cbioportal_clinical_patient"), dl.read_cbioportal_clinical),
    "cbioportal_expression": (lambda t: dl.example_file("cbioportal_expression"), dl.read_cbioportal_expression),
    "maf": (lambda t: dl.example_file("maf"), dl.read_maf),
    "gdc_sample_sheet": (lambda t: dl.example_file("gdc_sample_sheet"), dl.read_gdc_sample_sheet),
    "gdc_star_counts": (
        lambda t: dl.example_file("gdc_star_counts"),
        lambda p: _gdc_pair(p, dl.example_file("gdc_sample_sheet")),
    ),
    "ihc": (lambda t: dl.example_file("ihc_scores"), dl.read_ihc_scores),
    "pyradiomics": (
        lambda t: dl.example_file("pyradiomics_features"),
        lambda p: dl.read_pyradiomics_csv(p, id_column="patient_id"),
    ),
    "gmt": (lambda t: _GMT, rg.enrich.read_gmt),
    "gene_sets_file": (lambda t: _GMT, rg.enrich.gene_sets),
    "study_table": (_study_table, lambda p: read_text_table(p, sep=",", where="inputs.clinical.path", sep_key="sep")),
    "extraction_manifest": (_manifest_csv, read_manifest),
}


def _read(reader: Callable[[Path], object], path: Path) -> object:
    with warnings.catch_warnings(record=True):  # the examples' own notices (duplicates, coerced cells)
        warnings.simplefilter("always")
        return reader(path)


def _assert_same(a: object, b: object) -> None:
    if isinstance(a, ad.AnnData):
        np.testing.assert_array_equal(np.asarray(a.X), np.asarray(b.X))
        pd.testing.assert_frame_equal(a.obs, b.obs)
        pd.testing.assert_frame_equal(a.var, b.var)
    elif isinstance(a, pd.DataFrame):
        if {"image", "mask"} <= set(a.columns):  # paths are resolved against each copy's folder
            a, b = a.drop(columns=["image", "mask"]), b.drop(columns=["image", "mask"])
        pd.testing.assert_frame_equal(a, b)
        assert a.attrs.get("header") == b.attrs.get("header")
    else:
        assert a == b


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("kind", list(READERS))
def test_bom_crlf_and_compression_read_as_the_plain_file(kind, variant, tmp_path):
    source, reader = READERS[kind]
    src = source(tmp_path)
    plain = _read(reader, src)
    copy = _copy(src, tmp_path / variant / src.name, variant)
    if copy.is_file():
        head = copy.read_bytes()[:3]
        assert head in (b"\xef\xbb\xbf", b"\x1f\x8b\x08") or variant == "old_mac_cr"
    _assert_same(plain, _read(reader, copy))


def test_bom_is_not_part_of_the_first_column_name(tmp_path):
    path = tmp_path / "ihc.csv"
    path.write_bytes(_windows(dl.example_file("ihc_scores").read_text()))
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    first = dl.example_file("ihc_scores").read_text().split(",", 1)[0]
    with open_text(path, "IHC") as handle:
        line = handle.readline()
    assert line.split(",", 1)[0] == first and line.endswith("\n") and not line.endswith("\r\n")


def test_study_file_with_bom_and_crlf_loads(tmp_path):
    file = tmp_path / "study.yaml"
    file.write_bytes(_windows("inputs:\n  dataset: synthetic\nsteps:\n  signature:\n    cv: 3\n"))
    loaded = study.load(file)
    assert loaded.inputs.dataset == "synthetic" and loaded.steps.signature.cv == 3


def test_text_after_the_first_megabyte_in_latin1_names_its_line(tmp_path):
    rows = "".join(f"G{i}\t{i}\n" for i in range(60_000))
    path = tmp_path / "x.tsv"
    path.write_bytes(("id\tS1\n" + rows).encode() + "CAFÉ\t1\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"x\.tsv', line 60002: byte 0xc9"):
        dl.read_xena_matrix(path, units="linear")


def test_truncated_gzip_in_a_study_table_names_the_file(tmp_path):
    data = gzip.compress(b"Patient,Age\n" + b"".join(b"P%d,%d\n" % (i, i) for i in range(20_000)))
    path = tmp_path / "clinical.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match=r"clinical\.csv\.gz.*truncated or damaged gzip"):
        read_text_table(path, sep=",", where="inputs.clinical.path", sep_key="sep")
