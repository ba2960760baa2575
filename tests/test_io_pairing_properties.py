"""Property-based tests of pairing (hypothesis): every input ID is accounted for, input order does not matter."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import radiogenomics as rg  # noqa: E402
from radiogenomics.errors import PairingError  # noqa: E402

PATIENTS = [f"TCGA-02-{i:04d}" for i in range(1, 9)]
SUFFIXES = ["", "-01A", "-01B", "-02A", "-06A", "-10A", "-11A", "-01A-01R-0177-01", "-01A-02R-0177-01", "-01B-01D"]


@st.composite
def _raw_id(draw):
    if draw(st.integers(0, 9)) == 0:  # an ID of another scheme
        return f"sample_{draw(st.integers(0, 5))}"
    text = draw(st.sampled_from(PATIENTS)) + draw(st.sampled_from(SUFFIXES))
    style = draw(st.sampled_from(["plain", "lower", "underscore", "spaces"]))
    if style == "lower":
        text = text.lower()
    elif style == "underscore":
        text = text.replace("-", "_")
    elif style == "spaces":
        text = f"  {text} "
    return text


@st.composite
def _cohort(draw):
    n_mods = draw(st.integers(1, 3))
    mods = {}
    for m in range(n_mods):
        ids = draw(st.lists(_raw_id(), min_size=1, max_size=8, unique=True))
        values = np.arange(len(ids) * 2, dtype=float).reshape(len(ids), 2) + 100 * m
        mods[f"m{m}"] = pd.DataFrame(values, index=ids, columns=[f"m{m}_a", f"m{m}_b"])
    clinical = None
    if draw(st.booleans()):
        ids = draw(st.lists(_raw_id(), min_size=1, max_size=6, unique=True))
        clinical = pd.DataFrame({"age": np.arange(len(ids), dtype=float) + 40}, index=ids)
    how = draw(st.sampled_from(["outer", "inner", "m0"]))
    return mods, clinical, how


def _build(mods, clinical, how):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # drops are warned about; the table is checked here
        try:
            return rg.io.build_mudata(mods, clinical, how=how)
        except PairingError as err:
            return err


def _shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    return frame.iloc[np.random.default_rng(seed).permutation(len(frame))]


def _summary(mdata):
    """Order-free content: per modality patient -> (sample ID, values); clinical values; pairing rows."""
    out = {"patients": sorted(mdata.obs_names)}
    for name, adata in mdata.mod.items():
        out[name] = {
            p: (s, tuple(np.asarray(x).ravel()))
            for p, s, x in zip(adata.obs_names, adata.obs["sample_id"], adata.X, strict=True)
        }
    if "age" in mdata.obs:
        out["age"] = sorted((p, v) for p, v in mdata.obs["age"].items() if pd.notna(v))
    pairing = mdata.uns["pairing"].drop(columns=[], errors="ignore")
    out["pairing"] = sorted(map(tuple, pairing[["modality", "input_id", "patient_id", "status", "reason"]].to_numpy()))
    return out


@settings(max_examples=25, deadline=None, database=None)
@given(_cohort())
def test_every_input_id_is_accounted_for(cohort):
    mods, clinical, how = cohort
    mdata = _build(mods, clinical, how)
    if isinstance(mdata, PairingError):
        assert str(mdata)  # no shared patient: refused with a message, nothing built
        return
    pairing = mdata.uns["pairing"]
    inputs = {**mods, **({"clinical": clinical} if clinical is not None else {})}
    for name, frame in inputs.items():
        rows = pairing[pairing["modality"] == name]
        assert sorted(rows["input_id"]) == sorted(map(str, frame.index)), name
        assert set(rows["status"]) <= {"kept", "dropped"}
        assert (rows.loc[rows["status"] == "dropped", "reason"].str.len() > 0).all()
        kept = rows[rows["status"] == "kept"]
        assert kept["patient_id"].is_unique
        if name in mdata.mod:
            assert sorted(kept["patient_id"]) == sorted(mdata[name].obs_names)
            assert sorted(kept["input_id"]) == sorted(mdata[name].obs["sample_id"])
            # the values kept are the input row of the kept sample
            for patient, sample, x in zip(
                mdata[name].obs_names, mdata[name].obs["sample_id"], mdata[name].X, strict=True
            ):
                np.testing.assert_array_equal(x, frame.loc[sample].to_numpy(), err_msg=f"{name} {patient}")
        else:
            assert set(kept["patient_id"]) <= set(mdata.obs_names)
    assert set(mdata.obs_names) == {p for name in mods for p in mdata[name].obs_names}


@settings(max_examples=25, deadline=None, database=None)
@given(_cohort(), st.integers(0, 2**31 - 1))
def test_pairing_does_not_depend_on_input_order(cohort, seed):
    mods, clinical, how = cohort
    first = _build(mods, clinical, how)
    shuffled_mods = {name: _shuffled(frame, seed + i) for i, (name, frame) in enumerate(mods.items())}
    shuffled_clinical = _shuffled(clinical, seed) if clinical is not None else None
    second = _build(shuffled_mods, shuffled_clinical, how)
    if isinstance(first, PairingError):
        assert isinstance(second, PairingError)
        return
    assert _summary(first) == _summary(second)
