"""``radiogenomics init``: write a commented study file (and its example data) that runs as written."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import OutputExistsError, ParameterError

if TYPE_CHECKING:
    from os import PathLike

__all__ = ["EXAMPLES", "init"]

EXAMPLES = ("glioma", "synthetic", "images")


def _synthetic_data(folder: Path, seed: int) -> None:
    """Write a synthetic cohort as the files a user would have: features, counts, mutations, clinical."""
    from .. import datasets

    mdata = datasets.synthetic_cohort(n_patients=80, n_features=40, n_genes=300, gene_set_size=20, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    radiomics = mdata["radiomics"].to_df()
    radiomics.index.name = "patient_id"
    radiomics.to_csv(folder / "radiomics_features.csv")
    counts = mdata["rna"].to_df().T.astype(int)  # genes as rows, sample barcodes as columns
    counts.index.name = "gene"
    counts.columns = mdata["rna"].obs["sample_id"].to_numpy() if "sample_id" in mdata["rna"].obs else counts.columns
    counts.to_csv(folder / "rna_counts.tsv", sep="\t")
    mut = mdata["mut"].to_df().astype(int)
    mut.index.name = "patient_id"
    mut.to_csv(folder / "mutations.csv")
    obs = mdata.obs
    clinical = pd.DataFrame(
        {
            "Patient": obs.index,
            "Age": obs["age"].round(1).to_numpy(),
            "Site": obs["site"].astype(str).to_numpy(),
            "IDH": np.where(obs["idh_mutant"].to_numpy(dtype=bool), "mutant", "wildtype"),
            "OS_days": (obs["os_months"] * 30.4375).round().to_numpy(),
            "Status": np.where(obs["os_event"].to_numpy(dtype=bool), "Dead", "Alive"),
        }
    )
    clinical.to_csv(folder / "clinical.csv", index=False)
    sets = mdata.uns["truth"]["gene_sets"].groupby("term", sort=True)["gene"].apply(list)
    lines = [f"{term}\tplanted in synthetic_cohort\t" + "\t".join(genes) for term, genes in sets.items()]
    (folder / "gene_sets.gmt").write_text("\n".join(lines) + "\n")


def _images_data(folder: Path, seed: int) -> None:
    """Write small synthetic MR-like volumes with a spherical lesion per patient, a manifest and clinical data."""
    import SimpleITK as sitk

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows, clinical = [], []
    grid = np.stack(np.meshgrid(*[np.arange(24)] * 3, indexing="ij"))
    for i in range(16):
        pid = f"P{i:03d}"
        radius = rng.uniform(4, 8)
        intensity = rng.normal(300, 40)
        centre = rng.uniform(10, 14, size=3)[:, None, None, None]
        mask = (((grid - centre) ** 2).sum(0) <= radius**2).astype(np.uint8)
        image = rng.normal(100, 20, size=mask.shape) + mask * intensity + rng.normal(0, 15, size=mask.shape) * mask
        for name, arr in (("image", image.astype(np.float32)), ("mask", mask)):
            img = sitk.GetImageFromArray(arr)
            img.SetSpacing((1.0, 1.0, 1.0))
            sitk.WriteImage(img, str(folder / f"{pid}_{name}.nrrd"), useCompression=True)
        rows.append(
            {
                "patient_id": pid,
                "image": f"{pid}_image.nrrd",
                "mask": f"{pid}_mask.nrrd",
                "modality": "MR",
                "roi": "tumour",
            }
        )
        clinical.append({"patient_id": pid, "age": round(float(rng.normal(60, 10)), 1), "large": radius > 6})
    pd.DataFrame(rows).to_csv(folder / "manifest.csv", index=False)
    pd.DataFrame(clinical).to_csv(folder / "clinical.csv", index=False)


def init(path: PathLike[str] | str, *, example: str = "glioma", overwrite: bool = False, seed: int = 0) -> Path:
    """Write a commented study file that runs as written on bundled data.

    Parameters
    ----------
    path
        Where to write the study file (YAML).
    example
        ``"glioma"``: the bundled TCGA glioma cohort (the ``radiogenomics demo`` study).
        ``"synthetic"``: a small planted-signal cohort written as files next to the study file
        (``<stem>_data/``: a feature table, RNA counts, mutations and a clinical table with its
        own column names), showing how to point the study file at your own data.
        ``"images"``: synthetic image volumes and masks with a manifest, for the extract step.
    overwrite
        Replace an existing study file.
    seed
        Seed of the synthetic data.

    Returns
    -------
    The path of the study file.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``overwrite`` is False, or ``path`` is a folder (a ``FileExistsError``).
    ValueError
        Unknown ``example``.

    Examples
    --------
    >>> from tempfile import TemporaryDirectory
    >>> from radiogenomics import study
    >>> folder = TemporaryDirectory()
    >>> file = study.init(f"{folder.name}/study.yaml", example="glioma")
    >>> study.load(file).enabled_steps()[:3]
    ['pair', 'filter', 'mutation_status']
    >>> folder.cleanup()
    """
    if example not in EXAMPLES:
        msg = f"example {example!r} is not one of {', '.join(EXAMPLES)}"
        raise ParameterError(msg)
    path = Path(path)
    if path.is_dir():
        msg = f"{path} is a folder; give the study file to write in it, e.g. {path / 'study.yaml'}"
        raise OutputExistsError(msg)
    if path.exists() and not overwrite:
        msg = f"{path} exists; choose another file name, or pass overwrite=True to replace it"
        raise OutputExistsError(msg)
    text = (files("radiogenomics.study") / "examples" / f"{example}.yaml").read_text()
    data_dir = f"{path.stem}_data"
    if example == "synthetic":
        _synthetic_data(path.parent / data_dir, seed)
    elif example == "images":
        _images_data(path.parent / data_dir, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace("{data}", data_dir))
    return path
