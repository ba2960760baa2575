"""Bad-input cases of tests/test_bad_input.py for rg.io, the data loaders and the CLI.

One row per kind of bad input a new user produces: ``(id, call, error type, regex of the object the
message must name, regex of the fix it must give)``; ``call`` receives a context with ``mdata``
(a fresh synthetic cohort), ``tmp`` (a temporary folder) and ``write(name, text)``.
"""

from __future__ import annotations

import bz2
import gzip

import anndata as ad
import numpy as np
import pandas as pd

import data_loaders as dl
import radiogenomics as rg
from radiogenomics._compat import md
from radiogenomics.errors import DataFormatError, MissingColumnError, PairingError


def _bad_uns_object(c):
    c.mdata.uns["model"] = {"fitted": object()}
    rg.io.write_h5mu(c.mdata, c.tmp / "x.h5mu")


def _uns_slash_key(c):
    c.mdata.uns["a/b"] = 1
    rg.io.write_h5mu(c.mdata, c.tmp / "x.h5mu")


def _mixed_obs(c):
    c.mdata.obs["stage"] = np.array(["I", 2, "III"] * 40, dtype=object)
    rg.io.write_h5mu(c.mdata, c.tmp / "x.h5mu")


def _mixed_var(c):
    c.mdata["rna"].var["chrom"] = np.array([1, "X"] * (c.mdata["rna"].n_vars // 2), dtype=object)
    rg.io.write_h5mu(c.mdata, c.tmp / "x.h5mu")


def _export_into_other_folder(c):
    (c.tmp / "mine").mkdir()
    (c.tmp / "mine" / "thesis.docx").write_text("x")
    rg.io.export_tables(c.mdata, c.tmp / "mine", rds=False)


def _export_over_added_file(c):
    out = rg.io.export_tables(c.mdata, c.tmp / "exp", rds=False)
    (out / "notes.txt").write_text("x")
    rg.io.export_tables(c.mdata, out, rds=False)


def _export_case_clash(c):
    x = np.ones((3, 2))
    mods = {name: ad.AnnData(x, obs=pd.DataFrame(index=["a", "b", "c"])) for name in ("RNA", "rna")}
    rg.io.export_tables(md.MuData(mods), c.tmp / "t", rds=False)


def _export_nul_column(c):
    c.mdata.obs["bad\x00name"] = 1.0
    rg.io.export_tables(c.mdata, c.tmp / "t", rds=False)


def _truncated_h5mu(c):
    path = rg.io.write_h5mu(c.mdata, c.tmp / "c.h5mu")
    path.write_bytes(path.read_bytes()[:2000])
    rg.io.read_h5mu(path)


def _frame(rows=("TCGA-02-0001", "TCGA-02-0003"), cols=("a", "b")):
    return pd.DataFrame(
        np.arange(len(rows) * len(cols), dtype=float).reshape(len(rows), -1), index=list(rows), columns=list(cols)
    )


def _star_dir(c):
    folder = c.tmp / "star"
    folder.mkdir()
    return folder


def _clinical(c, header, rows):
    return c.write("clin.txt", "\t".join(header) + "\n" + "\n".join("\t".join(r) for r in rows) + "\n")


def _truncated_gz(c):
    text = dl.example_file("maf").read_bytes()
    data = gzip.compress(text)
    path = c.tmp / "x.maf.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


def _latin1(c, name, text):
    path = c.tmp / name
    path.write_bytes(text.encode("latin-1"))
    return path


def _raw(c, name, data: bytes):
    path = c.tmp / name
    path.write_bytes(data)
    return path


def _truncated(c, name, data: bytes, compress=gzip.compress):
    packed = compress(data * 50)
    return _raw(c, name, packed[: len(packed) // 2])


def _h5ad(c):
    path = c.tmp / "rna.h5ad"
    c.mdata["rna"].write_h5ad(path)
    return rg.io.read_h5mu(path)


def _truncated_backed(c):
    path = rg.io.write_h5mu(c.mdata, c.tmp / "c.h5mu")
    path.write_bytes(path.read_bytes()[:2000])
    rg.io.read_h5mu(path, backed=True)


def _missing_near(c):
    c.write("clin.txt", "PATIENT_ID\tAGE\na\t1\n")
    dl.read_cbioportal_clinical(c.tmp / "clin.tx")


def _dicom_file(c):
    return dl.read_dicom_series(c.write("slice.dcm", "x"))


def _manifest_latin1(c):
    rg.imaging.extract(_latin1(c, "manifest.csv", "patient_id,image,mask\nJosé,a.nii,b.nii\n"), progress=False)


CASES = [
    # ---- rg.io -------------------------------------------------------------------------------
    (
        "read_h5mu-missing",
        lambda c: rg.io.read_h5mu(c.tmp / "none.h5mu"),
        FileNotFoundError,
        r"none\.h5mu",
        r"write_h5mu",
    ),
    (
        "write_h5mu-object-in-uns",
        _bad_uns_object,
        DataFormatError,
        r"mdata\.uns\['model'\]\['fitted'\]",
        r"store tables, arrays",
    ),
    ("write_h5mu-slash-key", _uns_slash_key, DataFormatError, r"'a/b'", r"without '/'"),
    ("write_h5mu-mixed-obs", _mixed_obs, DataFormatError, r"mdata\.obs column 'stage'", r"astype\('string'\)"),
    (
        "write_h5mu-mixed-var",
        _mixed_var,
        DataFormatError,
        r"mdata\.mod\['rna'\]\.var column 'chrom'",
        r"convert it to one type",
    ),
    (
        "write_h5mu-folder",
        lambda c: rg.io.write_h5mu(c.mdata, c.tmp),
        DataFormatError,
        r"is a folder",
        r"pass a file path",
    ),
    ("export-foreign-folder", _export_into_other_folder, DataFormatError, r"mine", r"new or empty folder"),
    ("export-added-file", _export_over_added_file, DataFormatError, r"notes\.txt", r"move them elsewhere"),
    (
        "export-onto-file",
        lambda c: rg.io.export_tables(c.mdata, c.write("f.txt", "x"), rds=False),
        DataFormatError,
        r"f\.txt' is a file",
        r"pass a folder path",
    ),
    ("export-case-clash", _export_case_clash, DataFormatError, r"'RNA'.*'rna'|mod\.RNA\.X", r"rename one"),
    ("export-nul-column", _export_nul_column, DataFormatError, r"column 'bad\\x00name'", r"rename it"),
    (
        "build-clinical-not-frame",
        lambda c: rg.io.build_mudata({"rna": _frame()}, clinical=[1, 2]),
        TypeError,
        r"clinical",
        r"DataFrame indexed by patient ID",
    ),
    (
        "build-modality-list",
        lambda c: rg.io.build_mudata({"rna": [[1, 2]]}),
        TypeError,
        r"Modality 'rna'",
        r"pass an AnnData or a pandas DataFrame",
    ),
    (
        "build-disjoint-ids",
        lambda c: rg.io.build_mudata({"a": _frame(), "b": _frame(rows=("TCGA-99-0001", "TCGA-99-0002"))}),
        PairingError,
        r"'a'|'b'",
        r"ID|transposed|barcode",
    ),
    (
        "build-text-matrix",
        lambda c: rg.io.build_mudata({"rna": pd.DataFrame({"g": ["x", "y"]}, index=["P1", "P2"])}),
        DataFormatError,
        r"'rna'|'g'",
        r"to_numeric|clinical table",
    ),
    (
        "build-how",
        lambda c: rg.io.build_mudata({"a": _frame()}, how="left"),
        ValueError,
        r"how='left'",
        r"use 'outer', 'inner' or one of the modality names",
    ),
    (
        "build-inner-no-common",
        lambda c: rg.io.build_mudata(
            {
                "a": _frame(),
                "b": _frame(rows=("TCGA-02-0003", "TCGA-02-0009")),
                "c": _frame(rows=("TCGA-02-0001", "TCGA-02-0009")),
            },
            how="inner",
        ),
        PairingError,
        r"how='inner'",
        r"Use how='outer'",
    ),
    (
        "parse-barcode",
        lambda c: rg.io.parse_tcga_barcode("XYZ"),
        ValueError,
        r"'XYZ' is not a TCGA barcode",
        r"id_rule=None",
    ),
    (
        "get-missing-result",
        lambda c: rg.get.result(c.mdata, "cox"),
        MissingColumnError,
        r"No result 'cox'",
        r"run the function that writes it",
    ),
    (
        "normalize_ids-rule",
        lambda c: rg.io.normalize_ids(["a"], id_rule="tcga_sample"),
        ValueError,
        r"id_rule='tcga_sample'",
        r"use 'tcga_patient', None or a callable",
    ),
    # ---- dependency errors translated (issue 11, item 16) --------------------------------------
    ("read_h5mu-truncated", _truncated_h5mu, DataFormatError, r"c\.h5mu", r"truncated or damaged.*copy it again"),
    ("read_h5mu-backed-truncated", _truncated_backed, DataFormatError, r"c\.h5mu", r"copy it again"),
    (
        "read_h5mu-gzipped",
        lambda c: rg.io.read_h5mu(_raw(c, "c.h5mu.gz", gzip.compress(b"\x89HDF\r\n\x1a\n"))),
        DataFormatError,
        r"c\.h5mu\.gz' is gzip-compressed",
        r"gunzip c\.h5mu\.gz",
    ),
    ("read_h5mu-h5ad", _h5ad, DataFormatError, r"rna\.h5ad", r"anndata\.read_h5ad.*mudata\.MuData"),
    (
        "write_h5mu-anndata",
        lambda c: rg.io.write_h5mu(c.mdata["rna"], c.tmp / "x.h5mu"),
        TypeError,
        r"rg\.io\.write_h5mu",
        r"mudata\.MuData\(",
    ),
    (
        "xena-latin1",
        lambda c: dl.read_xena_matrix(_latin1(c, "x.tsv", "id\tS1\nCAFÉ\t1\n"), units="linear"),
        DataFormatError,
        r"x\.tsv', line 2: byte 0xc9",
        r"re-save it as UTF-8",
    ),
    (
        "xena-utf16",
        lambda c: dl.read_xena_matrix(_raw(c, "x.tsv", "id\tS1\nG1\t1\n".encode("utf-16")), units="linear"),
        DataFormatError,
        r"x\.tsv.*UTF-16",
        r"re-save it as UTF-8",
    ),
    (
        "xena-xlsx",
        lambda c: dl.read_xena_matrix(_raw(c, "x.xlsx", b"PK\x03\x04\x14\x00\x06\x00"), units="linear"),
        DataFormatError,
        r"x\.xlsx.*Excel",
        r"save the sheet as tab-separated",
    ),
    (
        "xena-folder",
        lambda c: dl.read_xena_matrix(c.tmp, units="linear"),
        DataFormatError,
        r"is a folder, not a file",
        r"pass the file itself",
    ),
    ("cbio-missing-near-name", _missing_near, FileNotFoundError, r"clin\.tx'", r"did you mean \['clin\.txt'\]"),
    (
        "pyradiomics-h5mu-given",
        lambda c: dl.read_pyradiomics_csv(rg.io.write_h5mu(c.mdata, c.tmp / "c.h5mu"), id_column="patient_id"),
        DataFormatError,
        r"c\.h5mu.*HDF5",
        r"rg\.io\.read_h5mu",
    ),
    (
        "ihc-truncated-bz2",
        lambda c: dl.read_ihc_scores(_truncated(c, "ihc.csv.bz2", b"patient_id,score\nP1,5\n", bz2.compress)),
        DataFormatError,
        r"ihc\.csv\.bz2",
        r"truncated or damaged bzip2.*Download it again",
    ),
    ("dicom-file-not-folder", _dicom_file, DataFormatError, r"slice\.dcm' is a file, not a folder", r"pass the folder"),
    (
        "gmt-latin1",
        lambda c: rg.enrich.read_gmt(_latin1(c, "s.gmt", "SET\tdésc\tA\n")),
        DataFormatError,
        r"s\.gmt', line 1: byte 0xe9",
        r"iconv",
    ),
    (
        "gmt-truncated-gz",
        lambda c: rg.enrich.read_gmt(_truncated(c, "s.gmt.gz", b"SET\tdesc\tA\tB\n")),
        DataFormatError,
        r"s\.gmt\.gz",
        r"truncated or damaged gzip.*Download it again",
    ),
    ("gmt-folder", lambda c: rg.enrich.read_gmt(c.tmp), DataFormatError, r"is a folder", r"pass the file itself"),
    ("extract-manifest-latin1", _manifest_latin1, DataFormatError, r"manifest\.csv', line 2", r"CSV UTF-8"),
    # ---- data_loaders ------------------------------------------------------------------------
    (
        "xena-units",
        lambda c: dl.read_xena_matrix(c.write("x.tsv", "id\tS1\nG1\t1\n"), units="log10"),
        ValueError,
        r"units='log10'",
        r"use one of",
    ),
    (
        "xena-commas",
        lambda c: dl.read_xena_matrix(c.write("x.tsv", "id,S1,S2\nG1,1,2\n"), units="linear"),
        DataFormatError,
        r"x\.tsv.*line 1",
        r"tab-separated",
    ),
    (
        "xena-duplicate-gene",
        lambda c: dl.read_xena_matrix(c.write("x.tsv", "id\tS1\nG1\t1\nG1\t2\n"), units="linear"),
        DataFormatError,
        r"x\.tsv.*'G1'",
        r"line",
    ),
    (
        "xena-text-cell",
        lambda c: dl.read_xena_matrix(c.write("x.tsv", "id\tS1\nG1\t1\nG2\tabc\n"), units="linear"),
        DataFormatError,
        r"x\.tsv.*line 3",
        r"'abc'",
    ),
    (
        "xena-linear-as-log2",
        lambda c: dl.read_xena_matrix(c.write("x.tsv", "id\tS1\nG1\t51234\n"), units="log2(count+1)"),
        DataFormatError,
        r"x\.tsv",
        r"units='linear'",
    ),
    (
        "cbio-no-patient-id",
        lambda c: dl.read_cbioportal_clinical(_clinical(c, ["ID", "AGE"], [["a", "1"]])),
        MissingColumnError,
        r"clin\.txt.*PATIENT_ID",
        r"PATIENT_ID",
    ),
    (
        "cbio-bad-status",
        lambda c: dl.read_cbioportal_clinical(_clinical(c, ["PATIENT_ID", "OS_STATUS"], [["a", "maybe"]])),
        DataFormatError,
        r"clin\.txt', line 2, column 'OS_STATUS'",
        r"'1:<event>' or '0:<censored>'",
    ),
    (
        "cbio-negative-months",
        lambda c: dl.read_cbioportal_clinical(_clinical(c, ["PATIENT_ID", "OS_MONTHS"], [["a", "-3"]])),
        DataFormatError,
        r"clin\.txt.*OS_MONTHS",
        r"negative|>= 0",
    ),
    (
        "cbio-duplicate-patient",
        lambda c: dl.read_cbioportal_clinical(_clinical(c, ["PATIENT_ID", "AGE"], [["a", "x"], ["a", "y"]])),
        DataFormatError,
        r"clin\.txt.*'a'",
        r"line",
    ),
    (
        "maf-frame-columns",
        lambda c: dl.mutation_matrix(pd.DataFrame({"gene": ["IDH1"]})),
        MissingColumnError,
        r"Hugo_Symbol",
        r"read_maf",
    ),
    (
        "maf-hotspots-word",
        lambda c: dl.mutation_matrix(dl.example_file("maf"), hotspots="idh"),
        ValueError,
        r"hotspots='idh'",
        r"'default', None or a mapping",
    ),
    (
        "maf-hotspots-no-protein",
        lambda c: dl.mutation_matrix(
            pd.DataFrame(
                {
                    "Hugo_Symbol": ["IDH1"],
                    "Variant_Classification": ["Missense_Mutation"],
                    "Tumor_Sample_Barcode": ["S1"],
                }
            ),
            hotspots=dl.IDH_HOTSPOTS,
        ),
        DataFormatError,
        r"HGVSp_Short",
        r"hotspots=None",
    ),
    (
        "maf-gzip-truncated",
        lambda c: dl.read_maf(_truncated_gz(c)),
        DataFormatError,
        r"x\.maf\.gz",
        r"download|again|complete",
    ),
    (
        "star-folder-empty",
        lambda c: dl.read_gdc_star_counts(_star_dir(c), sample_sheet=dl.example_file("gdc_sample_sheet")),
        FileNotFoundError,
        r"star",
        r"\.tsv|STAR",
    ),
    (
        "example-unknown",
        lambda c: dl.example_file("no_such_example"),
        KeyError,
        r"no_such_example",
        r"one of|available",
    ),
    (
        "gmt-empty-set",
        lambda c: rg.enrich.read_gmt(c.write("s.gmt", "SET\tdesc\n")),
        DataFormatError,
        r"s\.gmt.*line 1",
        r"gene",
    ),
]


CLI_CASES = [
    ("info-missing", ["info", "{tmp}/none.h5mu"], r"none\.h5mu", r"write_h5mu"),
    ("export-missing", ["export", "{tmp}/none.h5mu", "{tmp}/out"], r"none\.h5mu", r"write_h5mu"),
    ("export-foreign-folder", ["export", "{cohort}", "{tmp}/mine"], r"mine", r"new or empty folder"),
    ("info-truncated", ["info", "{truncated}"], r"truncated\.h5mu", r"truncated or damaged.*copy it again"),
    ("info-study-file", ["info", "{tmp}/study.yaml"], r"study\.yaml", r"radiogenomics run"),
    ("export-folder-as-cohort", ["export", "{tmp}/mine", "{tmp}/out"], r"mine' is a folder", r"pass a cohort"),
    ("run-missing-study", ["run", "{tmp}/none.yaml"], r"none\.yaml", r"radiogenomics init"),
    ("run-study-is-cohort", ["run", "{cohort}"], r"cohort\.h5mu", r"YAML|study file|radiogenomics init"),
]
