"""Bad-input cases of tests/test_bad_input.py for rg.omics, rg.enrich, rg.survival, rg.integrate and rg.imaging.

One row per kind of bad input a new user produces: ``(id, call, error type, regex of the object the
message must name, regex of the fix it must give)``; ``call`` receives a context with ``mdata``
(a fresh synthetic cohort), ``tmp`` (a temporary folder) and ``write(name, text)``.
"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd

import radiogenomics as rg
from radiogenomics.errors import DataFormatError, MissingColumnError


def _sets(c):
    return {"SET_A": list(c.mdata["rna"].var_names[:20]), "SET_B": list(c.mdata["rna"].var_names[20:40])}


def _ranking(c, name="r"):
    genes = c.mdata["rna"].var_names
    return pd.Series(np.linspace(-1, 1, len(genes)), index=genes, name=name)


def _with_symbols():
    adata = ad.AnnData(np.ones((2, 2)), var=pd.DataFrame({"gene_name": ["A", "A"]}, index=["ENSG1", "ENSG2"]))
    return adata


def _text_kps(c):
    c.mdata.obs["kps"] = [str(v) for v in np.arange(c.mdata.n_obs) % 5 * 10 + 60]
    return c.mdata


def _no_risk(c):
    c.mdata.obs["risk"] = np.nan
    rg.survival.evaluate(c.mdata, "risk", n_boot=2)


CASES = [
    # ---- rg.omics ----------------------------------------------------------------------------
    (
        "normalize-negative",
        lambda c: rg.omics.normalize(ad.AnnData(np.array([[1.0, -2.0], [3.0, 4.0]]))),
        DataFormatError,
        r"layers\['counts'\]",
        r"raw counts",
    ),
    (
        "normalize-nan",
        lambda c: rg.omics.normalize(ad.AnnData(np.array([[1.0, np.nan], [3.0, 4.0]]))),
        DataFormatError,
        r"layers\['counts'\]",
        r"complete raw counts",
    ),
    (
        "normalize-vst-fractional",
        lambda c: rg.omics.normalize(ad.AnnData(np.array([[1.5, 2.0], [3.0, 4.0]])), method="vst"),
        DataFormatError,
        r"layers\['counts'\]",
        r"round them first",
    ),
    (
        "normalize-method",
        lambda c: rg.omics.normalize(c.mdata, method="tmm"),
        ValueError,
        r"method='tmm'",
        r"use 'log_cpm', 'log_tpm' or 'vst'",
    ),
    (
        "normalize-tpm-no-length",
        lambda c: rg.omics.normalize(c.mdata, method="log_tpm"),
        MissingColumnError,
        r"layers\['tpm'\]",
        r"var\['gene_length'\]",
    ),
    (
        "normalize-no-modality",
        lambda c: rg.omics.normalize(c.mdata, mod="rnaseq"),
        MissingColumnError,
        r"'rnaseq'",
        r"Pass mod=",
    ),
    (
        "filter_genes-no-gene-type",
        lambda c: rg.omics.filter_genes(c.mdata, gene_types=["protein_coding"]),
        MissingColumnError,
        r"var\['gene_type'\]",
        r"GDC STAR",
    ),
    (
        "map_gene_ids-no-symbols",
        lambda c: rg.omics.map_gene_ids(c.mdata),
        MissingColumnError,
        r"var\['gene_name'\]",
        r"symbols are needed",
    ),
    (
        "map_gene_ids-rule",
        lambda c: rg.omics.map_gene_ids(_with_symbols(), duplicates="mean"),
        ValueError,
        r"duplicates='mean'",
        r"use 'max_mean' or 'first'",
    ),
    (
        "mutation_status-no-hotspots",
        lambda c: rg.omics.mutation_status(c.mdata),
        MissingColumnError,
        r"IDH1_R132",
        r"mutation_matrix|groups=",
    ),
    (
        "mutation_status-no-modality",
        lambda c: rg.omics.mutation_status(c.mdata, {"X": ["A"]}, mod="maf"),
        MissingColumnError,
        r"'maf'",
        r"Pass mod=",
    ),
    (
        "highly_variable-train-column",
        lambda c: rg.omics.highly_variable(c.mdata, train="is_train"),
        MissingColumnError,
        r"train='is_train'",
        r"obs",
    ),
    (
        "markers-unknown-gene",
        lambda c: rg.omics.markers(c.mdata, ["NOTAGENE"]),
        MissingColumnError,
        r"NOTAGENE",
        r"gene|symbol",
    ),
    # ---- dependency errors translated (issue 11, item 16) --------------------------------------
    (
        "cox-anndata",
        lambda c: rg.survival.cox(c.mdata["rna"], ["age"]),
        TypeError,
        r"rg\.survival\.cox.*AnnData",
        r"mudata\.MuData\(\{\"rna\": adata\}\)|build_mudata",
    ),
    (
        "ora-empty-list",
        lambda c: rg.enrich.ora([], _sets(c), background=list(c.mdata["rna"].var_names)),
        ValueError,
        r"query gene list is empty",
        r"pass the genes to test",
    ),
    (
        "mofa-factors-over-patients",
        lambda c: rg.integrate.mofa(c.mdata, mods=["radiomics"], n_factors=500),
        ValueError,
        r"n_factors=500.*120 patients",
        r"Use 1 <= n_factors <= 100",
    ),
    ("evaluate-all-missing-risk", _no_risk, ValueError, r"'risk' is missing for all", r"score them first"),
    (
        "associate-text-covariate",
        lambda c: rg.integrate.associate(_text_kps(c), x="radiomics", y="rna", covariates=["kps"]),
        DataFormatError,
        r"associate covariates: column 'kps'",
        r"pd\.to_numeric",
    ),
    (
        "harmonize-text-covariate",
        lambda c: rg.imaging.harmonize(_text_kps(c), batch_key="site", covariates=["kps"]),
        DataFormatError,
        r"harmonize covariates: column 'kps'",
        r"pd\.to_numeric",
    ),
    (
        "correlate-text-covariate",
        lambda c: rg.integrate.correlate(
            np.ones((6, 2)), np.ones((6, 2)), covariates=pd.DataFrame({"kps": ["60", "70", "80", "90", "60", "70"]})
        ),
        DataFormatError,
        r"correlate covariates: column 'kps'",
        r"pd\.to_numeric",
    ),
    (
        "index_dicom-file",
        lambda c: rg.imaging.index_dicom(c.write("a.dcm", "x")),
        DataFormatError,
        r"a\.dcm' is a file, not a folder",
        r"pass the folder",
    ),
    # ---- rg.enrich ---------------------------------------------------------------------------
    (
        "gene_sets-unknown",
        lambda c: rg.enrich.gene_sets("kegg_2099"),
        FileNotFoundError,
        r"kegg_2099",
        r"hallmark|GMT",
    ),
    (
        "ora-empty-background",
        lambda c: rg.enrich.ora(["A"], _sets(c), background=[]),
        ValueError,
        r"background is empty",
        r"pass all genes",
    ),
    (
        "ora-string-query",
        lambda c: rg.enrich.ora("TP53", _sets(c), background=["TP53"]),
        TypeError,
        r"genes and background",
        r"lists of gene identifiers",
    ),
    (
        "ora-no-query-in-background",
        lambda c: rg.enrich.ora(["ZZZ"], _sets(c), background=list(c.mdata["rna"].var_names)),
        ValueError,
        r"query genes",
        r"same gene identifiers",
    ),
    (
        "gsea-permutations",
        lambda c: rg.enrich.gsea(c.mdata, _ranking(c), gene_sets=_sets(c), n_permutations=0),
        ValueError,
        r"permutations",
        r">= 1",
    ),
    (
        "gsea-null",
        lambda c: rg.enrich.gsea(c.mdata, _ranking(c), gene_sets=_sets(c), null="phenotype"),
        ValueError,
        r"null",
        r"'auto', 'patients' or 'genes'",
    ),
    (
        "gsea-flat",
        lambda c: rg.enrich.gsea(c.mdata, _ranking(c) * 0, gene_sets=_sets(c)),
        ValueError,
        r"Ranking 'r'",
        r"fewer than 2 distinct",
    ),
    (
        "gsea-twice",
        lambda c: rg.enrich.gsea(c.mdata, [_ranking(c), _ranking(c)], gene_sets=_sets(c)),
        ValueError,
        r"Ranking 'r'",
        r"unique names",
    ),
    (
        "gsea-bad-item",
        lambda c: rg.enrich.gsea(c.mdata, [3.0], gene_sets=_sets(c)),
        TypeError,
        r"ranking items",
        r"keys \(str\) or pandas Series",
    ),
    # ---- rg.survival / rg.integrate / rg.imaging ------------------------------------------------
    (
        "cox-unknown-covariate",
        lambda c: rg.survival.cox(c.mdata, ["agee"]),
        MissingColumnError,
        r"agee",
        r"obs|column",
    ),
    (
        "cox-unknown-time",
        lambda c: rg.survival.cox(c.mdata, ["age"], time="os_days"),
        MissingColumnError,
        r"os_days",
        r"obs|column",
    ),
    (
        "km-unknown-group",
        lambda c: rg.survival.kaplan_meier(c.mdata, groupby="grade"),
        MissingColumnError,
        r"grade",
        r"obs|column",
    ),
    (
        "associate-unknown-modality",
        lambda c: rg.integrate.associate(c.mdata, x="ct", y="rna"),
        MissingColumnError,
        r"'ct'",
        r"mod|modalit",
    ),
    (
        "cox-ties",
        lambda c: rg.survival.cox(c.mdata, ["age"], ties="wrong"),
        ValueError,
        r"ties='wrong'",
        r"use 'efron'",
    ),
    (
        "dichotomize-method",
        lambda c: rg.survival.dichotomize(c.mdata, "age", method="tertile"),
        ValueError,
        r"method='tertile'",
        r"use 'median', 'quantile' or 'maxstat'",
    ),
    (
        "associate-method",
        lambda c: rg.integrate.associate(c.mdata, method="kendall"),
        ValueError,
        r"'kendall'",
        r"'spearman' or 'pearson'",
    ),
    (
        "mofa-unknown-modality",
        lambda c: rg.integrate.mofa(c.mdata, mods=["ct"]),
        MissingColumnError,
        r"'ct'",
        r"Pass mod=",
    ),
    (
        "predict-unknown-target",
        lambda c: rg.integrate.predict(c.mdata, target="relapse"),
        MissingColumnError,
        r"'relapse'",
        r"'<mod>:<feature>'",
    ),
    (
        "markers-method",
        lambda c: rg.omics.markers(c.mdata, ["CD274"], method="mean"),
        ValueError,
        r"method='mean'",
        r"use 'median', 'quantile' or 'fixed'",
    ),
    (
        "pathway_scores-method",
        lambda c: rg.enrich.pathway_scores(c.mdata, method="plage"),
        ValueError,
        r"'plage'",
        r"'ssgsea', 'gsva' or 'zscore'",
    ),
    (
        "ora-size-window",
        lambda c: rg.enrich.ora(["A"], {"S": ["A", "B"]}, background=["A", "B"], min_size=5, max_size=2),
        ValueError,
        r"min_size=5 and max_size=2",
        r"lower min_size",
    ),
    (
        "harmonize-unknown-batch",
        lambda c: rg.imaging.harmonize(c.mdata, batch_key="scanner"),
        MissingColumnError,
        r"scanner",
        r"obs|column",
    ),
    (
        "extract-missing-manifest",
        lambda c: rg.imaging.extract(c.tmp / "manifest.csv", progress=False),
        FileNotFoundError,
        r"manifest\.csv",
        r"path|manifest",
    ),
]
