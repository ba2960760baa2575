"""Explain why the patient IDs of two inputs do not overlap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._ids import normalize_ids

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import pandas as pd
    from anndata import AnnData


def _examples(ids: list[str], n: int = 3) -> str:
    return ", ".join(repr(i) for i in ids[:n]) + (" ..." if len(ids) > n else "")


def explain_disjoint(
    source: str,
    tables: Mapping[str, pd.DataFrame],
    adatas: Mapping[str, AnnData],
    id_rule: str | Callable[[str], str] | None,
) -> str:
    """Build the message for a source that shares no patient with any other input."""
    mine = tables[source]
    others = {name: t for name, t in tables.items() if name != source}
    other_patients = {p for t in others.values() for p in t["patient_id"].dropna()}
    lines = [f"No patient ID of {source!r} matches any other input ({', '.join(map(repr, others))})."]
    lines.append(f"  {source}: {_examples(mine['input_id'].tolist())}")
    lines.extend(f"  {name}: {_examples(t['input_id'].tolist())}" for name, t in others.items())
    causes = []
    adata = adatas.get(source)
    if adata is not None:
        flipped = normalize_ids(adata.var_names, id_rule)["patient_id"]
        if flipped.isin(other_patients).any():
            causes.append(
                f"the {source!r} matrix looks transposed: its column names are patient IDs. "
                f"Pass adata.T (patients must be rows)."
            )
    for name, _other in others.items():
        if (
            name in adatas
            and normalize_ids(adatas[name].var_names, id_rule)["patient_id"].isin(mine["patient_id"]).any()
        ):
            causes.append(f"the {name!r} matrix looks transposed: pass it as adata.T (patients must be rows).")
    mine_tcga, other_tcga = mine["is_tcga"].any(), any(t["is_tcga"].any() for t in others.values())
    if id_rule is None and any(
        t["input_id"].str.upper().str.match(r"^TCGA[-_.]\w{2}[-_.]\w{4}[-_.]").any() for t in tables.values()
    ):
        causes.append("some IDs are TCGA sample/aliquot barcodes: use id_rule='tcga_patient' to map them to patients.")
    if id_rule is None and {str(p).upper() for p in mine["patient_id"].dropna()} & {
        str(p).upper() for p in other_patients
    }:
        causes.append(
            "the IDs differ only in letter case (id_rule=None keeps IDs as given): "
            "write them the same way or pass id_rule=str.upper."
        )
    if mine_tcga != other_tcga:
        causes.append(
            "the inputs use different ID schemes (TCGA barcodes on one side, other IDs on the other): "
            "map them with a callable id_rule or a lookup table first."
        )
    if not causes:
        causes.append("the inputs may come from different cohorts; check the example IDs above.")
    lines.append("Likely cause: " + " Or: ".join(causes))
    return "\n".join(lines)
