"""Bad input across the public functions and the CLI: a typed error naming the object and the fix.

Each case is one kind of bad input a new user produces. The test asserts the error type (the
package's typed errors subclass the matching built-in) and that the message names the object (file,
line, column, key, parameter) and says what to do.
"""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import data_loaders as dl
import radiogenomics as rg
from radiogenomics._compat import md
from radiogenomics.errors import DataFormatError, MissingColumnError, PairingError

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class Ctx:
    mdata: md.MuData
    tmp: object

    def write(self, name: str, text: str):
        path = self.tmp / name
        path.write_text(text)
        return path


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[Ctx], object]
    error: type[BaseException]
    names: str  # regex: the object named
    fix: str  # regex: what to do


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


def _sets(c):
    return {"SET_A": list(c.mdata["rna"].var_names[:20]), "SET_B": list(c.mdata["rna"].var_names[20:40])}


def _ranking(c, name="r"):
    genes = c.mdata["rna"].var_names
    return pd.Series(np.linspace(-1, 1, len(genes)), index=genes, name=name)


CASES = [
    # ---- rg.io -------------------------------------------------------------------------------
    Case(
        "read_h5mu-missing",
        lambda c: rg.io.read_h5mu(c.tmp / "none.h5mu"),
        FileNotFoundError,
        r"none\.h5mu",
        r"write_h5mu",
    ),
    Case(
        "write_h5mu-object-in-uns",
        _bad_uns_object,
        DataFormatError,
        r"mdata\.uns\['model'\]\['fitted'\]",
        r"store tables, arrays",
    ),
    Case("write_h5mu-slash-key", _uns_slash_key, DataFormatError, r"'a/b'", r"without '/'"),
    Case("write_h5mu-mixed-obs", _mixed_obs, DataFormatError, r"mdata\.obs column 'stage'", r"astype\('string'\)"),
    Case(
        "write_h5mu-mixed-var",
        _mixed_var,
        DataFormatError,
        r"mdata\.mod\['rna'\]\.var column 'chrom'",
        r"convert it to one type",
    ),
    Case(
        "write_h5mu-folder",
        lambda c: rg.io.write_h5mu(c.mdata, c.tmp),
        DataFormatError,
        r"is a folder",
        r"pass a file path",
    ),
    Case("export-foreign-folder", _export_into_other_folder, DataFormatError, r"mine", r"new or empty folder"),
    Case("export-added-file", _export_over_added_file, DataFormatError, r"notes\.txt", r"move them elsewhere"),
    Case(
        "export-onto-file",
        lambda c: rg.io.export_tables(c.mdata, c.write("f.txt", "x"), rds=False),
        DataFormatError,
        r"f\.txt' is a file",
        r"pass a folder path",
    ),
    Case("export-case-clash", _export_case_clash, DataFormatError, r"'RNA'.*'rna'|mod\.RNA\.X", r"rename one"),
    Case("export-nul-column", _export_nul_column, DataFormatError, r"column 'bad\\x00name'", r"rename it"),
    Case(
        "build-clinical-not-frame",
        lambda c: rg.io.build_mudata({"rna": _frame()}, clinical=[1, 2]),
        TypeError,
        r"clinical",
        r"DataFrame indexed by patient ID",
    ),
    Case(
        "build-modality-list",
        lambda c: rg.io.build_mudata({"rna": [[1, 2]]}),
        TypeError,
        r"Modality 'rna'",
        r"pass an AnnData or a pandas DataFrame",
    ),
    Case(
        "build-disjoint-ids",
        lambda c: rg.io.build_mudata({"a": _frame(), "b": _frame(rows=("TCGA-99-0001", "TCGA-99-0002"))}),
        PairingError,
        r"'a'|'b'",
        r"ID|transposed|barcode",
    ),
    Case(
        "build-text-matrix",
        lambda c: rg.io.build_mudata({"rna": pd.DataFrame({"g": ["x", "y"]}, index=["P1", "P2"])}),
        DataFormatError,
        r"'rna'|'g'",
        r"to_numeric|clinical table",
    ),
    Case(
        "build-how",
        lambda c: rg.io.build_mudata({"a": _frame()}, how="left"),
        ValueError,
        r"how='left'",
        r"use 'outer', 'inner' or one of the modality names",
    ),
    Case(
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
    Case(
        "parse-barcode",
        lambda c: rg.io.parse_tcga_barcode("XYZ"),
        ValueError,
        r"'XYZ' is not a TCGA barcode",
        r"id_rule=None",
    ),
    Case(
        "get-missing-result",
        lambda c: rg.get.result(c.mdata, "cox"),
        MissingColumnError,
        r"No result 'cox'",
        r"run the function that writes it",
    ),
    Case(
        "normalize_ids-rule",
        lambda c: rg.io.normalize_ids(["a"], id_rule="tcga_sample"),
        ValueError,
        r"id_rule='tcga_sample'",
        r"use 'tcga_patient', None or a callable",
    ),
    # ---- rg.omics ----------------------------------------------------------------------------
    Case(
        "normalize-negative",
        lambda c: rg.omics.normalize(ad.AnnData(np.array([[1.0, -2.0], [3.0, 4.0]]))),
        DataFormatError,
        r"layers\['counts'\]",
        r"raw counts",
    ),
    Case(
        "normalize-nan",
        lambda c: rg.omics.normalize(ad.AnnData(np.array([[1.0, np.nan], [3.0, 4.0]]))),
        DataFormatError,
        r"layers\['counts'\]",
        r"complete raw counts",
    ),
    Case(
        "normalize-vst-fractional",
        lambda c: rg.omics.normalize(ad.AnnData(np.array([[1.5, 2.0], [3.0, 4.0]])), method="vst"),
        DataFormatError,
        r"layers\['counts'\]",
        r"round them first",
    ),
    Case(
        "normalize-method",
        lambda c: rg.omics.normalize(c.mdata, method="tmm"),
        ValueError,
        r"method='tmm'",
        r"use 'log_cpm', 'log_tpm' or 'vst'",
    ),
    Case(
        "normalize-tpm-no-length",
        lambda c: rg.omics.normalize(c.mdata, method="log_tpm"),
        MissingColumnError,
        r"layers\['tpm'\]",
        r"var\['gene_length'\]",
    ),
    Case(
        "normalize-no-modality",
        lambda c: rg.omics.normalize(c.mdata, mod="rnaseq"),
        MissingColumnError,
        r"'rnaseq'",
        r"Pass mod=",
    ),
    Case(
        "filter_genes-no-gene-type",
        lambda c: rg.omics.filter_genes(c.mdata, gene_types=["protein_coding"]),
        MissingColumnError,
        r"var\['gene_type'\]",
        r"GDC STAR",
    ),
    Case(
        "map_gene_ids-no-symbols",
        lambda c: rg.omics.map_gene_ids(c.mdata),
        MissingColumnError,
        r"var\['gene_name'\]",
        r"symbols are needed",
    ),
    Case(
        "map_gene_ids-rule",
        lambda c: rg.omics.map_gene_ids(_with_symbols(), duplicates="mean"),
        ValueError,
        r"duplicates='mean'",
        r"use 'max_mean' or 'first'",
    ),
    Case(
        "mutation_status-no-hotspots",
        lambda c: rg.omics.mutation_status(c.mdata),
        MissingColumnError,
        r"IDH1_R132",
        r"mutation_matrix|groups=",
    ),
    Case(
        "mutation_status-no-modality",
        lambda c: rg.omics.mutation_status(c.mdata, {"X": ["A"]}, mod="maf"),
        MissingColumnError,
        r"'maf'",
        r"Pass mod=",
    ),
    Case(
        "highly_variable-train-column",
        lambda c: rg.omics.highly_variable(c.mdata, train="is_train"),
        MissingColumnError,
        r"train='is_train'",
        r"obs",
    ),
    Case(
        "markers-unknown-gene",
        lambda c: rg.omics.markers(c.mdata, ["NOTAGENE"]),
        MissingColumnError,
        r"NOTAGENE",
        r"gene|symbol",
    ),
    # ---- data_loaders ------------------------------------------------------------------------
    Case(
        "xena-units",
        lambda c: dl.read_xena_matrix(c.write("x.tsv", "id\tS1\nG1\t1\n"), units="log10"),
        ValueError,
        r"units='log10'",
        r"use one of",
    ),
    Case(
        "xena-commas",
        lambda c: dl.read_xena_matrix(c.write("x.tsv", "id,S1,S2\nG1,1,2\n"), units="linear"),
        DataFormatError,
        r"x\.tsv.*line 1",
        r"tab-separated",
    ),
    Case(
        "xena-duplicate-gene",
        lambda c: dl.read_xena_matrix(c.write("x.tsv", "id\tS1\nG1\t1\nG1\t2\n"), units="linear"),
        DataFormatError,
        r"x\.tsv.*'G1'",
        r"line",
    ),
    Case(
        "xena-text-cell",
        lambda c: dl.read_xena_matrix(c.write("x.tsv", "id\tS1\nG1\t1\nG2\tabc\n"), units="linear"),
        DataFormatError,
        r"x\.tsv.*line 3",
        r"'abc'",
    ),
    Case(
        "xena-linear-as-log2",
        lambda c: dl.read_xena_matrix(c.write("x.tsv", "id\tS1\nG1\t51234\n"), units="log2(count+1)"),
        DataFormatError,
        r"x\.tsv",
        r"units='linear'",
    ),
    Case(
        "cbio-no-patient-id",
        lambda c: dl.read_cbioportal_clinical(_clinical(c, ["ID", "AGE"], [["a", "1"]])),
        MissingColumnError,
        r"clin\.txt.*PATIENT_ID",
        r"PATIENT_ID",
    ),
    Case(
        "cbio-bad-status",
        lambda c: dl.read_cbioportal_clinical(_clinical(c, ["PATIENT_ID", "OS_STATUS"], [["a", "maybe"]])),
        DataFormatError,
        r"clin\.txt', line 2, column 'OS_STATUS'",
        r"'1:<event>' or '0:<censored>'",
    ),
    Case(
        "cbio-negative-months",
        lambda c: dl.read_cbioportal_clinical(_clinical(c, ["PATIENT_ID", "OS_MONTHS"], [["a", "-3"]])),
        DataFormatError,
        r"clin\.txt.*OS_MONTHS",
        r"negative|>= 0",
    ),
    Case(
        "cbio-duplicate-patient",
        lambda c: dl.read_cbioportal_clinical(_clinical(c, ["PATIENT_ID", "AGE"], [["a", "x"], ["a", "y"]])),
        DataFormatError,
        r"clin\.txt.*'a'",
        r"line",
    ),
    Case(
        "maf-frame-columns",
        lambda c: dl.mutation_matrix(pd.DataFrame({"gene": ["IDH1"]})),
        MissingColumnError,
        r"Hugo_Symbol",
        r"read_maf",
    ),
    Case(
        "maf-hotspots-word",
        lambda c: dl.mutation_matrix(dl.example_file("maf"), hotspots="idh"),
        ValueError,
        r"hotspots='idh'",
        r"'default', None or a mapping",
    ),
    Case(
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
    Case(
        "maf-gzip-truncated",
        lambda c: dl.read_maf(_truncated_gz(c)),
        DataFormatError,
        r"x\.maf\.gz",
        r"download|again|complete",
    ),
    Case(
        "star-folder-empty",
        lambda c: dl.read_gdc_star_counts(_star_dir(c), sample_sheet=dl.example_file("gdc_sample_sheet")),
        FileNotFoundError,
        r"star",
        r"\.tsv|STAR",
    ),
    Case(
        "example-unknown",
        lambda c: dl.example_file("no_such_example"),
        KeyError,
        r"no_such_example",
        r"one of|available",
    ),
    Case(
        "gmt-empty-set",
        lambda c: rg.enrich.read_gmt(c.write("s.gmt", "SET\tdesc\n")),
        DataFormatError,
        r"s\.gmt.*line 1",
        r"gene",
    ),
    # ---- rg.enrich ---------------------------------------------------------------------------
    Case(
        "gene_sets-unknown",
        lambda c: rg.enrich.gene_sets("kegg_2099"),
        FileNotFoundError,
        r"kegg_2099",
        r"hallmark|GMT",
    ),
    Case(
        "ora-empty-background",
        lambda c: rg.enrich.ora(["A"], _sets(c), background=[]),
        ValueError,
        r"background is empty",
        r"pass all genes",
    ),
    Case(
        "ora-string-query",
        lambda c: rg.enrich.ora("TP53", _sets(c), background=["TP53"]),
        TypeError,
        r"genes and background",
        r"lists of gene identifiers",
    ),
    Case(
        "ora-no-query-in-background",
        lambda c: rg.enrich.ora(["ZZZ"], _sets(c), background=list(c.mdata["rna"].var_names)),
        ValueError,
        r"query genes",
        r"same gene identifiers",
    ),
    Case(
        "gsea-permutations",
        lambda c: rg.enrich.gsea(c.mdata, _ranking(c), gene_sets=_sets(c), n_permutations=0),
        ValueError,
        r"permutations",
        r">= 1",
    ),
    Case(
        "gsea-null",
        lambda c: rg.enrich.gsea(c.mdata, _ranking(c), gene_sets=_sets(c), null="phenotype"),
        ValueError,
        r"null",
        r"'auto', 'patients' or 'genes'",
    ),
    Case(
        "gsea-flat",
        lambda c: rg.enrich.gsea(c.mdata, _ranking(c) * 0, gene_sets=_sets(c)),
        ValueError,
        r"Ranking 'r'",
        r"fewer than 2 distinct",
    ),
    Case(
        "gsea-twice",
        lambda c: rg.enrich.gsea(c.mdata, [_ranking(c), _ranking(c)], gene_sets=_sets(c)),
        ValueError,
        r"Ranking 'r'",
        r"unique names",
    ),
    Case(
        "gsea-bad-item",
        lambda c: rg.enrich.gsea(c.mdata, [3.0], gene_sets=_sets(c)),
        TypeError,
        r"ranking items",
        r"keys \(str\) or pandas Series",
    ),
    # ---- rg.survival / rg.integrate / rg.imaging ------------------------------------------------
    Case(
        "cox-unknown-covariate",
        lambda c: rg.survival.cox(c.mdata, ["agee"]),
        MissingColumnError,
        r"agee",
        r"obs|column",
    ),
    Case(
        "cox-unknown-time",
        lambda c: rg.survival.cox(c.mdata, ["age"], time="os_days"),
        MissingColumnError,
        r"os_days",
        r"obs|column",
    ),
    Case(
        "km-unknown-group",
        lambda c: rg.survival.kaplan_meier(c.mdata, groupby="grade"),
        MissingColumnError,
        r"grade",
        r"obs|column",
    ),
    Case(
        "associate-unknown-modality",
        lambda c: rg.integrate.associate(c.mdata, x="ct", y="rna"),
        MissingColumnError,
        r"'ct'",
        r"mod|modalit",
    ),
    Case(
        "cox-ties",
        lambda c: rg.survival.cox(c.mdata, ["age"], ties="wrong"),
        ValueError,
        r"ties='wrong'",
        r"use 'efron'",
    ),
    Case(
        "dichotomize-method",
        lambda c: rg.survival.dichotomize(c.mdata, "age", method="tertile"),
        ValueError,
        r"method='tertile'",
        r"use 'median', 'quantile' or 'maxstat'",
    ),
    Case(
        "associate-method",
        lambda c: rg.integrate.associate(c.mdata, method="kendall"),
        ValueError,
        r"'kendall'",
        r"'spearman' or 'pearson'",
    ),
    Case(
        "mofa-unknown-modality",
        lambda c: rg.integrate.mofa(c.mdata, mods=["ct"]),
        MissingColumnError,
        r"'ct'",
        r"Pass mod=",
    ),
    Case(
        "predict-unknown-target",
        lambda c: rg.integrate.predict(c.mdata, target="relapse"),
        MissingColumnError,
        r"'relapse'",
        r"'<mod>:<feature>'",
    ),
    Case(
        "markers-method",
        lambda c: rg.omics.markers(c.mdata, ["CD274"], method="mean"),
        ValueError,
        r"method='mean'",
        r"use 'median', 'quantile' or 'fixed'",
    ),
    Case(
        "pathway_scores-method",
        lambda c: rg.enrich.pathway_scores(c.mdata, method="plage"),
        ValueError,
        r"'plage'",
        r"'ssgsea', 'gsva' or 'zscore'",
    ),
    Case(
        "ora-size-window",
        lambda c: rg.enrich.ora(["A"], {"S": ["A", "B"]}, background=["A", "B"], min_size=5, max_size=2),
        ValueError,
        r"min_size=5 and max_size=2",
        r"lower min_size",
    ),
    Case(
        "harmonize-unknown-batch",
        lambda c: rg.imaging.harmonize(c.mdata, batch_key="scanner"),
        MissingColumnError,
        r"scanner",
        r"obs|column",
    ),
    Case(
        "extract-missing-manifest",
        lambda c: rg.imaging.extract(c.tmp / "manifest.csv", progress=False),
        FileNotFoundError,
        r"manifest\.csv",
        r"path|manifest",
    ),
]


def _with_symbols():
    adata = ad.AnnData(np.ones((2, 2)), var=pd.DataFrame({"gene_name": ["A", "A"]}, index=["ENSG1", "ENSG2"]))
    return adata


def _truncated_gz(c):
    text = dl.example_file("maf").read_bytes()
    data = gzip.compress(text)
    path = c.tmp / "x.maf.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_typed_error_naming_object_and_fix(case, mdata, tmp_path):
    with pytest.raises(case.error) as err:
        case.call(Ctx(mdata, tmp_path))
    text = str(err.value)
    assert re.search(case.names, text, re.DOTALL), f"object not named: {text}"
    assert re.search(case.fix, text, re.DOTALL | re.IGNORECASE), f"no fix given: {text}"


def test_writers_touch_no_file_on_bad_input(mdata, tmp_path):
    target = rg.io.write_h5mu(mdata, tmp_path / "c.h5mu")
    before = target.read_bytes()
    for case in [c for c in CASES if c.id.startswith("write_h5mu-") and c.id != "write_h5mu-folder"]:
        with pytest.raises(case.error):
            case.call(Ctx(mdata.copy(), tmp_path))
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.h5mu"]


CLI_CASES = [
    ("info-missing", ["info", "{tmp}/none.h5mu"], r"none\.h5mu", r"write_h5mu"),
    ("export-missing", ["export", "{tmp}/none.h5mu", "{tmp}/out"], r"none\.h5mu", r"write_h5mu"),
    ("export-foreign-folder", ["export", "{cohort}", "{tmp}/mine"], r"mine", r"new or empty folder"),
]


@pytest.mark.parametrize(("name", "argv", "names", "fix"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input_is_one_line_and_exit_2(name, argv, names, fix, mdata, tmp_path):
    cohort = rg.io.write_h5mu(mdata, tmp_path / "cohort.h5mu")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("x")
    args = [a.format(tmp=tmp_path, cohort=cohort) for a in argv]
    res = subprocess.run(
        [sys.executable, "-m", "radiogenomics.cli", *args], capture_output=True, text=True, check=False, timeout=300
    )
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert re.search(names, res.stderr) and re.search(fix, res.stderr), res.stderr
