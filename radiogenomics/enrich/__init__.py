"""Pathway enrichment linking radiomic phenotypes to biology."""

from __future__ import annotations

from ._genesets import gene_sets, read_gmt
from ._gsea import gsea, running_score
from ._ora import ora
from ._scores import pathway_scores

__all__: list[str] = ["gene_sets", "gsea", "ora", "pathway_scores", "read_gmt", "running_score"]
