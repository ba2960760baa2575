"""Regenerate the tiny example files in ``data_loaders/_examples`` (run: python tests/data_loaders/_make_examples.py).

Values are synthetic (seeded); layouts follow the public formats: GDC STAR augmented gene counts
and sample sheet, GDC masked somatic MAF, UCSC Xena matrices, cBioPortal clinical and expression
files, pyradiomics batch output (computed by pyradiomics on small synthetic images) and a PD-L1
immunohistochemistry table.
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parents[2] / "data_loaders" / "_examples"

GENES = [  # gene_id, gene_name, gene_type, length (bp, for TPM/FPKM)
    ("ENSG00000000003.15", "TSPAN6", "protein_coding", 4536),
    ("ENSG00000000005.6", "TNMD", "protein_coding", 1476),
    ("ENSG00000000419.13", "DPM1", "protein_coding", 1207),
    ("ENSG00000002586.20", "CD99", "protein_coding", 2769),
    ("ENSG00000002586.20_PAR_Y", "CD99", "protein_coding", 2769),
    ("ENSG00000075624.17", "ACTB", "protein_coding", 3396),
    ("ENSG00000085224.22", "ATRX", "protein_coding", 11165),
    ("ENSG00000091831.24", "ESR1", "protein_coding", 6784),
    ("ENSG00000111640.15", "GAPDH", "protein_coding", 1875),
    ("ENSG00000120217.14", "CD274", "protein_coding", 3634),
    ("ENSG00000133703.13", "KRAS", "protein_coding", 5889),
    ("ENSG00000138413.14", "IDH1", "protein_coding", 2318),
    ("ENSG00000141510.18", "TP53", "protein_coding", 2591),
    ("ENSG00000141736.14", "ERBB2", "protein_coding", 4816),
    ("ENSG00000146648.18", "EGFR", "protein_coding", 9905),
    ("ENSG00000148773.14", "MKI67", "protein_coding", 12719),
    ("ENSG00000169429.11", "CXCL8", "protein_coding", 1666),
    ("ENSG00000171862.11", "PTEN", "protein_coding", 8515),
    ("ENSG00000182054.10", "IDH2", "protein_coding", 1793),
    ("ENSG00000198804.2", "MT-CO1", "protein_coding", 1542),
    ("ENSG00000229807.13", "XIST", "lncRNA", 19296),
    ("ENSG00000254093.8", "PINX1", "protein_coding", 3893),
    ("ENSG00000258724.1", "PINX1", "lncRNA", 1180),
    ("ENSG00000284190.1", "MIR21", "miRNA", 72),
]
MEANS = [
    900,
    5,
    1500,
    2500,
    0,
    40000,
    1200,
    60,
    30000,
    150,
    1100,
    1400,
    2000,
    700,
    3000,
    500,
    250,
    900,
    300,
    20000,
    80,
    400,
    30,
    2,
]
SAMPLES = [  # case, sample, sample type, project
    ("TCGA-02-0001", "TCGA-02-0001-01C", "Primary Tumor", "TCGA-GBM"),
    ("TCGA-02-0003", "TCGA-02-0003-01A", "Primary Tumor", "TCGA-GBM"),
    ("TCGA-06-0125", "TCGA-06-0125-01A", "Primary Tumor", "TCGA-GBM"),
    ("TCGA-06-0125", "TCGA-06-0125-11A", "Solid Tissue Normal", "TCGA-GBM"),
    ("TCGA-DU-7309", "TCGA-DU-7309-01A", "Primary Tumor", "TCGA-LGG"),
]


def _star_counts(rng: np.random.Generator, folder: Path) -> pd.DataFrame:
    rows = []
    lengths = np.array([g[3] for g in GENES], dtype=float)
    pc = np.array([g[2] == "protein_coding" for g in GENES])
    for case, sample, stype, project in SAMPLES:
        file_id = str(uuid.UUID(bytes=rng.bytes(16), version=4))
        name = f"{uuid.UUID(bytes=rng.bytes(16), version=4)}.rna_seq.augmented_star_gene_counts.tsv"
        mu = np.array(MEANS, dtype=float) * rng.lognormal(0, 0.4, len(MEANS))
        counts = rng.negative_binomial(5, 5 / (5 + mu)).astype(np.int64)
        counts[4] = 0  # PAR_Y copies carry no reads in GDC files
        first = rng.binomial(counts, 0.5)
        second = counts - first
        rate = counts / lengths
        tpm = rate / rate.sum() * 1e6
        fpkm = counts * 1e9 / (lengths * counts[pc].sum())
        uq = np.percentile(counts[pc & (counts > 0)], 75)
        fpkm_uq = counts * 1e9 / (lengths * uq)
        sub = folder / file_id
        sub.mkdir(parents=True)
        with (sub / name).open("w", newline="") as handle:
            handle.write("# gene-model: GENCODE v36\n")
            handle.write(
                "gene_id\tgene_name\tgene_type\tunstranded\tstranded_first\tstranded_second\ttpm_unstranded\tfpkm_unstranded\tfpkm_uq_unstranded\n"
            )
            for label in ("N_unmapped", "N_multimapping", "N_noFeature", "N_ambiguous"):
                a, b, c = (int(v) for v in rng.integers(1000, 900000, 3))
                handle.write(f"{label}\t\t\t{a}\t{b}\t{c}\t\t\t\n")
            for (gid, gname, gtype, _), n, f, s, t, fk, fu in zip(
                GENES, counts, first, second, tpm, fpkm, fpkm_uq, strict=True
            ):
                handle.write(f"{gid}\t{gname}\t{gtype}\t{n}\t{f}\t{s}\t{t:.4f}\t{fk:.4f}\t{fu:.4f}\n")
        rows.append(
            {
                "File ID": file_id,
                "File Name": name,
                "Data Category": "Transcriptome Profiling",
                "Data Type": "Gene Expression Quantification",
                "Project ID": project,
                "Case ID": case,
                "Sample ID": sample,
                "Sample Type": stype,
            }
        )
    return pd.DataFrame(rows)


def _xena(star_dir: Path, sheet: pd.DataFrame) -> None:
    cols = {}
    for _, row in sheet.iterrows():
        t = pd.read_csv(star_dir / row["File ID"] / row["File Name"], sep="\t", skiprows=1).iloc[4:]
        cols[row["Sample ID"]] = np.log2(t.set_index("gene_id")["unstranded"].astype(float) + 1)
    table = pd.DataFrame(cols).rename_axis("Ensembl_ID")
    table.to_csv(OUT / "xena_htseq_counts.tsv", sep="\t", float_format="%.6g", lineterminator="\n")


def _cbioportal(rng: np.random.Generator) -> None:
    patients = ["TCGA-02-0001", "TCGA-02-0003", "TCGA-06-0125", "TCGA-DU-7309", "TCGA-06-0126"]
    cols = [
        "PATIENT_ID",
        "AGE",
        "SEX",
        "OS_STATUS",
        "OS_MONTHS",
        "PFS_STATUS",
        "PFS_MONTHS",
        "DSS_STATUS",
        "DSS_MONTHS",
    ]
    names = [
        "Patient Identifier",
        "Diagnosis Age",
        "Sex",
        "Overall Survival Status",
        "Overall Survival (Months)",
        "Progression Free Status",
        "Progress Free Survival (Months)",
        "Disease-specific Survival status",
        "Months of disease-specific survival",
    ]
    types = ["STRING", "NUMBER", "STRING", "STRING", "NUMBER", "STRING", "NUMBER", "STRING", "NUMBER"]
    rows = [
        ["TCGA-02-0001", "44", "Female", "1:DECEASED", "11.2", "1:PROGRESSION", "5.3", "1:DEAD WITH TUMOR", "11.2"],
        ["TCGA-02-0003", "50", "Male", "1:DECEASED", "4.7", "1:PROGRESSION", "3.9", "1:DEAD WITH TUMOR", "4.7"],
        [
            "TCGA-06-0125",
            "63",
            "Female",
            "0:LIVING",
            "36.1",
            "0:CENSORED",
            "36.1",
            "0:ALIVE OR DEAD TUMOR FREE",
            "36.1",
        ],
        [
            "TCGA-DU-7309",
            "38",
            "Male",
            "0:LIVING",
            "52.0",
            "1:PROGRESSION",
            "20.4",
            "0:ALIVE OR DEAD TUMOR FREE",
            "52.0",
        ],
        ["TCGA-06-0126", "[Not Available]", "Male", "1:DECEASED", "", "[Not Available]", "", "", ""],
    ]
    with (OUT / "cbioportal_data_clinical_patient.txt").open("w", newline="") as h:
        h.write(
            "#"
            + "\t".join(names)
            + "\n#"
            + "\t".join(names)
            + "\n#"
            + "\t".join(types)
            + "\n#"
            + "\t".join(["1"] * len(cols))
            + "\n"
        )
        h.write("\t".join(cols) + "\n")
        for r in rows:
            h.write("\t".join(r) + "\n")
    scols = ["PATIENT_ID", "SAMPLE_ID", "SAMPLE_TYPE", "CANCER_TYPE", "TMB_NONSYNONYMOUS"]
    snames = ["Patient Identifier", "Sample Identifier", "Sample Type", "Cancer Type", "TMB (nonsynonymous)"]
    stypes = ["STRING", "STRING", "STRING", "STRING", "NUMBER"]
    with (OUT / "cbioportal_data_clinical_sample.txt").open("w", newline="") as h:
        h.write(
            "#"
            + "\t".join(snames)
            + "\n#"
            + "\t".join(snames)
            + "\n#"
            + "\t".join(stypes)
            + "\n#"
            + "\t".join(["1"] * 5)
            + "\n"
        )
        h.write("\t".join(scols) + "\n")
        for p in patients:
            h.write(f"{p}\t{p}-01\tPrimary\tGlioma\t{rng.uniform(0.5, 3):.6f}\n")
    genes = [
        ("CD274", 29126),
        ("CXCL8", 3576),
        ("EGFR", 1956),
        ("IDH1", 3417),
        ("TP53", 7157),
        ("PTEN", 5728),
        ("", 100130426),
        ("ELMOD1", 55531),
        ("ELMOD1", 100000001),
    ]
    with (OUT / "cbioportal_data_mrna_seq_v2_rsem.txt").open("w", newline="") as h:
        h.write("Hugo_Symbol\tEntrez_Gene_Id\t" + "\t".join(f"{p}-01" for p in patients) + "\n")
        for sym, entrez in genes:
            vals = rng.lognormal(5, 1.5, len(patients))
            h.write(f"{sym}\t{entrez}\t" + "\t".join(f"{v:.4f}" for v in vals) + "\n")


MAF_COLUMNS = [
    "Hugo_Symbol",
    "Entrez_Gene_Id",
    "Center",
    "NCBI_Build",
    "Chromosome",
    "Start_Position",
    "End_Position",
    "Strand",
    "Variant_Classification",
    "Variant_Type",
    "Reference_Allele",
    "Tumor_Seq_Allele1",
    "Tumor_Seq_Allele2",
    "dbSNP_RS",
    "Tumor_Sample_Barcode",
    "Matched_Norm_Sample_Barcode",
    "HGVSc",
    "HGVSp",
    "HGVSp_Short",
    "Transcript_ID",
    "t_depth",
    "t_ref_count",
    "t_alt_count",
    "n_depth",
    "callers",
]
# gene | entrez | chrom | pos | class | type | ref | alt | tumour | HGVSc | HGVSp | HGVSp_Short | transcript
MAF_TEXT = """
IDH1|3417|chr2|208248389|Missense_Mutation|SNP|C|T|TCGA-02-0001-01C-01D-0182-01|c.395G>A|p.Arg132His|p.R132H|ENST00000345146
TP53|7157|chr17|7673802|Missense_Mutation|SNP|G|A|TCGA-02-0001-01C-01D-0182-01|c.818G>A|p.Arg273His|p.R273H|ENST00000269305
ATRX|546|chrX|77682471|Nonsense_Mutation|SNP|G|A|TCGA-02-0001-01C-01D-0182-01|c.4840C>T|p.Arg1614Ter|p.R1614*|ENST00000373344
EGFR|1956|chr7|55152546|Missense_Mutation|SNP|C|T|TCGA-02-0003-01A-01D-1490-08|c.866C>T|p.Ala289Val|p.A289V|ENST00000275493
PTEN|5728|chr10|87933147|Frame_Shift_Del|DEL|A|-|TCGA-02-0003-01A-01D-1490-08|c.389delA|p.Lys130ArgfsTer3|p.K130Rfs*3|ENST00000371953
PTEN|5728|chr10|87957915|Silent|SNP|C|T|TCGA-02-0003-01A-01D-1490-08|c.1008C>T|p.Ile336=|p.I336=|ENST00000371953
IDH2|3418|chr15|90088606|Missense_Mutation|SNP|C|T|TCGA-06-0125-01A-01D-1490-08|c.515G>A|p.Arg172Lys|p.R172K|ENST00000330062
TP53|7157|chr17|7675088|Splice_Site|SNP|C|T|TCGA-06-0125-01A-01D-1490-08|c.376-1G>A||p.X125_splice|ENST00000269305
IDH1|3417|chr2|208248586|Missense_Mutation|SNP|C|T|TCGA-DU-7309-01A-11D-2024-08|c.290G>A|p.Gly97Asp|p.G97D|ENST00000345146
CD274|29126|chr9|5465553|3'UTR|SNP|G|A|TCGA-DU-7309-01A-11D-2024-08|c.*300G>A|||ENST00000381577
TTN|7273|chr2|178527000|Silent|SNP|G|A|TCGA-06-0126-01A-01D-1490-08|c.5000C>T|p.Leu1667=|p.L1667=|ENST00000589042
"""
MAF_ROWS = [tuple(int(v) if v.isdigit() else v for v in line.split("|")) for line in MAF_TEXT.strip().splitlines()]


def _maf(rng: np.random.Generator) -> None:
    with (OUT / "gdc_masked_somatic.maf").open("w", newline="") as h:
        h.write("#version gdc-1.0.0\n#filedate 20220326\n#annotation.spec gdc-1.0.1-public\n#n.analyzed.samples 1\n")
        writer = csv.writer(h, delimiter="\t", lineterminator="\n")
        writer.writerow(MAF_COLUMNS)
        for gene, entrez, chrom, pos, vc, vt, ref, alt, tumour, hgvsc, hgvsp, short, tx in MAF_ROWS:
            end = pos if vt == "SNP" else pos + len(ref) - 1
            depth = int(rng.integers(40, 200))
            alt_n = int(rng.integers(8, depth // 2))
            normal = tumour[:13] + "10A" + tumour[16:]
            writer.writerow(
                [
                    gene,
                    entrez,
                    "BI",
                    "GRCh38",
                    chrom,
                    pos,
                    end,
                    "+",
                    vc,
                    vt,
                    ref,
                    ref,
                    alt,
                    "novel",
                    tumour,
                    normal,
                    hgvsc,
                    hgvsp,
                    short,
                    tx,
                    depth,
                    depth - alt_n,
                    alt_n,
                    int(rng.integers(30, 120)),
                    "muse;mutect2;varscan2",
                ]
            )


def _ihc() -> None:
    rows = [
        ("TCGA-02-0001", "22C3", "0", "0"),
        ("TCGA-02-0003", "22C3", "<1%", "2"),
        ("TCGA-06-0125", "22C3", "5%", "12"),
        ("TCGA-DU-7309", "22C3", "50", "60"),
        ("TCGA-06-0126", "SP263", "80%", ""),
    ]
    pd.DataFrame(rows, columns=["patient_id", "antibody", "PD-L1 TPS", "PD-L1 CPS"]).to_csv(
        OUT / "pdl1_ihc_scores.csv", index=False, lineterminator="\n"
    )


def _pyradiomics(rng: np.random.Generator) -> None:
    import tempfile

    import SimpleITK as sitk
    from radiomics import featureextractor

    extractor = featureextractor.RadiomicsFeatureExtractor(binWidth=25)
    extractor.disableAllFeatures()
    extractor.enableFeaturesByName(
        firstorder=["Mean", "Entropy"], glcm=["Contrast", "Correlation"], shape=["VoxelVolume", "Sphericity"]
    )
    extractor.enableImageTypeByName("LoG", customArgs={"sigma": [2.0]})
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, pid in enumerate(["TCGA-02-0001", "TCGA-02-0003", "TCGA-06-0125", "TCGA-DU-7309"]):
            img = rng.normal(100 + 10 * i, 20, (24, 24, 24)).astype(np.float32)
            mask = np.zeros(img.shape, np.uint8)
            r = 5 + i
            zz, yy, xx = np.ogrid[:24, :24, :24]
            mask[(zz - 12) ** 2 + (yy - 12) ** 2 + (xx - 12) ** 2 <= r * r] = 1
            img[mask == 1] += 40
            ip, mp = f"{tmp}/{pid}_image.nrrd", f"{tmp}/{pid}_mask.nrrd"
            sitk.WriteImage(sitk.GetImageFromArray(img), ip)
            sitk.WriteImage(sitk.GetImageFromArray(mask), mp)
            result = extractor.execute(ip, mp)
            row = {"patient_id": pid, "Image": f"images/{pid}_image.nrrd", "Mask": f"masks/{pid}_mask.nrrd"}
            for k, v in result.items():
                if k.endswith("_Hash"):
                    v = "0" * 40
                row[k] = v.tolist() if isinstance(v, np.ndarray) and v.ndim == 0 else v
            rows.append(row)
    pd.DataFrame(rows).to_csv(OUT / "pyradiomics_features.csv", index=False, lineterminator="\n")


def main() -> None:
    import shutil

    rng = np.random.default_rng(20240401)
    if OUT.exists():
        for child in OUT.iterdir():
            if child.name != "__init__.py":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    OUT.mkdir(exist_ok=True)
    star = OUT / "gdc_star_counts"
    sheet = _star_counts(rng, star)
    sheet.to_csv(OUT / "gdc_sample_sheet.tsv", sep="\t", index=False, lineterminator="\n")
    _xena(star, sheet)
    _cbioportal(rng)
    _maf(rng)
    _ihc()
    _pyradiomics(rng)


if __name__ == "__main__":
    main()
