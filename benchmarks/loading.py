"""Benchmark: read a GDC-like folder of STAR count files with data_loaders vs a naive pandas loop.

Run: python benchmarks/loading.py [--files 500] [--genes 20000] [--distinct 25]

The default uses 20,000 genes per file (about the number of protein-coding genes) so that the run
stays under about 5 minutes on a shared 2-core machine; real GDC files (GENCODE v36) have 60,660
rows: pass ``--genes 60660`` for the full size (about 8 minutes there).

A folder in the GDC download layout (``<File ID>/<File Name>``) and its sample sheet are
generated in a temporary directory: ``--distinct`` files with random counts are written and
copied to reach ``--files`` files (the parsing work per file is the same; this keeps the setup
fast). Each method runs in a fresh child process so its peak resident memory can be measured
(``ru_maxrss`` after minus before the read). Both produce the same four matrices (counts, TPM,
FPKM, FPKM-UQ), which are checked to be equal.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
from _report import report

HEADER = "gene_id\tgene_name\tgene_type\tunstranded\tstranded_first\tstranded_second\ttpm_unstranded\tfpkm_unstranded\tfpkm_uq_unstranded\n"


def make_folder(root: Path, n_files: int, n_genes: int, n_distinct: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    ids = [f"ENSG{i:011d}.{i % 20 + 1}" for i in range(n_genes)]
    prefix = np.array([f"{g}\tGENE{i}\tprotein_coding\t" for i, g in enumerate(ids)], dtype=object)
    length = rng.integers(300, 20000, n_genes)
    templates = []
    for k in range(n_distinct):
        counts = rng.negative_binomial(2, 2 / (2 + rng.lognormal(3, 2, n_genes)))
        first = rng.binomial(counts, 0.5)
        rate = counts / length
        tpm = rate / rate.sum() * 1e6
        fpkm = counts * 1e9 / (length * counts.sum())
        fpkm_uq = counts * 1e9 / (length * max(np.percentile(counts, 75), 1))
        body = prefix + pd.Series(counts).astype(str).to_numpy() + "\t" + pd.Series(first).astype(str).to_numpy() + "\t"
        body = (
            body
            + pd.Series(counts - first).astype(str).to_numpy()
            + "\t"
            + pd.Series(np.round(tpm, 4)).astype(str).to_numpy()
        )
        body = (
            body
            + "\t"
            + pd.Series(np.round(fpkm, 4)).astype(str).to_numpy()
            + "\t"
            + pd.Series(np.round(fpkm_uq, 4)).astype(str).to_numpy()
        )
        summary = "".join(
            f"{n}\t\t\t{v}\t{v}\t{v}\t\t\t\n"
            for n, v in zip(
                ("N_unmapped", "N_multimapping", "N_noFeature", "N_ambiguous"), rng.integers(1e5, 1e7, 4), strict=True
            )
        )
        path = root / f"template_{k}.tsv"
        path.write_text("# gene-model: GENCODE v36\n" + HEADER + summary + "\n".join(body) + "\n")
        templates.append(path)
    folder, rows = root / "gdc", []
    for i in range(n_files):
        file_id, name = (
            str(uuid.UUID(bytes=rng.bytes(16), version=4)),
            f"{uuid.UUID(bytes=rng.bytes(16), version=4)}.rna_seq.augmented_star_gene_counts.tsv",
        )
        (folder / file_id).mkdir(parents=True)
        shutil.copyfile(templates[i % n_distinct], folder / file_id / name)
        sample = f"TCGA-{i // 10000:02d}-{i % 10000:04d}-01A"
        rows.append(
            {
                "File ID": file_id,
                "File Name": name,
                "Case ID": sample[:12],
                "Sample ID": sample,
                "Sample Type": "Primary Tumor",
            }
        )
    pd.DataFrame(rows).to_csv(root / "sample_sheet.tsv", sep="\t", index=False)
    for t in templates:
        t.unlink()
    return folder


def naive(folder: Path, sheet_path: Path) -> dict[str, pd.DataFrame]:
    """Per-file pandas loop, then concat: what one writes without a reader."""
    sheet = pd.read_csv(sheet_path, sep="\t")
    parts: dict[str, list[pd.Series]] = {
        "unstranded": [],
        "tpm_unstranded": [],
        "fpkm_unstranded": [],
        "fpkm_uq_unstranded": [],
    }
    for _, row in sheet.iterrows():
        table = pd.read_csv(folder / row["File ID"] / row["File Name"], sep="\t", comment="#")
        table = table[~table["gene_id"].str.startswith("N_")].set_index("gene_id")
        for col, store in parts.items():
            store.append(table[col].rename(row["Sample ID"]))
    return {col: pd.concat(store, axis=1).T for col, store in parts.items()}


def _child(method: str, folder: str, sheet: str, queue) -> None:
    import data_loaders as dl

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if method == "data_loaders":
        adata = dl.read_gdc_star_counts(folder, sample_sheet=sheet)
        seconds = time.perf_counter() - start
        final = adata.X.nbytes + sum(v.nbytes for v in adata.layers.values())
        order = np.argsort(adata.obs_names.to_numpy())
        check = {
            "counts": adata.layers["counts"][order, :5].astype(float),
            "fpkm_uq": adata.layers["fpkm_uq"][order, -5:].astype(float),
        }
    else:
        frames = naive(Path(folder), Path(sheet))
        seconds = time.perf_counter() - start
        final = sum(int(f.memory_usage(deep=False).sum()) for f in frames.values())
        counts, uq = frames["unstranded"].sort_index(), frames["fpkm_uq_unstranded"].sort_index()
        check = {"counts": counts.iloc[:, :5].to_numpy(float), "fpkm_uq": uq.iloc[:, -5:].to_numpy(float)}
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024  # Linux: kB
    queue.put({"seconds": seconds, "peak_bytes": peak, "final_bytes": final, "check": check})


def run(method: str, folder: Path, sheet: Path) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(method, str(folder), str(sheet), queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--genes", type=int, default=20000, help="genes per file (real GDC files, GENCODE v36: 60,660)")
    parser.add_argument("--distinct", type=int, default=25, help="distinct generated files, copied to reach --files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        folder = make_folder(root, args.files, args.genes, min(args.distinct, args.files))
        print(f"generated {args.files} files x {args.genes} genes in {time.perf_counter() - t0:.1f} s")
        ours = run("data_loaders", folder, root / "sample_sheet.tsv")
        base = run("naive", folder, root / "sample_sheet.tsv")
    for key in ("counts", "fpkm_uq"):
        np.testing.assert_allclose(ours["check"][key], base["check"][key], rtol=1e-6)
    mb = 1024**2
    print(f"{'method':<32}{'seconds':>10}{'peak MB':>10}{'final MB':>10}{'peak/final':>12}")
    for name, r in (("data_loaders.read_gdc_star_counts", ours), ("naive pandas loop + concat", base)):
        print(
            f"{name:<32}{r['seconds']:>10.1f}{r['peak_bytes'] / mb:>10.0f}{r['final_bytes'] / mb:>10.0f}{r['peak_bytes'] / r['final_bytes']:>12.2f}"
        )
    print(f"speed-up (naive time / data_loaders time): {base['seconds'] / ours['seconds']:.2f}x")
    print(f"peak memory ratio (naive / data_loaders): {base['peak_bytes'] / ours['peak_bytes']:.2f}x")
    print("values identical between methods: yes")
    report("loading", "naive / data_loaders time", base["seconds"] / ours["seconds"], "naive pandas loop", "> 1")
    report(
        "loading",
        "naive / data_loaders peak memory",
        base["peak_bytes"] / ours["peak_bytes"],
        "naive pandas loop",
        "> 1",
    )


if __name__ == "__main__":
    main()
