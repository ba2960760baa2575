"""Molecular preprocessing: normalisation, gene filtering and mapping, mutation and marker status."""

from __future__ import annotations

from ._genes import map_gene_ids
from ._markers import markers
from ._mutations import mutation_status
from ._normalize import filter_genes, highly_variable, normalize

__all__ = ["filter_genes", "highly_variable", "map_gene_ids", "markers", "mutation_status", "normalize"]
