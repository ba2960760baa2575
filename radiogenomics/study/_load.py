"""Read a study file: safe YAML, schema validation, errors that name the line and the key."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import DataFormatError
from ..io._text import read_text
from ._schema import STEP_ORDER, CohortInputs, Study

if TYPE_CHECKING:
    from collections.abc import Mapping
    from os import PathLike

__all__ = ["MissingInputError", "StudyFileError", "load"]


class StudyFileError(DataFormatError):
    """A study file cannot be read or does not follow the schema (message names line and key)."""


class MissingInputError(StudyFileError, FileNotFoundError):
    """A file named in the study file does not exist."""


Marks = dict[tuple, tuple[int, int]]


def _walk(node: yaml.Node, path: tuple, marks: Marks, source: str) -> None:
    marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                msg = f"{source}, line {line}: key '{key}' appears twice in {_dotted(path) or 'the file'} (first on line {seen[key]}); keep one"
                raise StudyFileError(msg)
            seen[key] = line
            marks[(*path, key)] = (line, key_node.start_mark.column + 1)
            _walk(value_node, (*path, key), marks, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            marks[(*path, i)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _walk(item, (*path, i), marks, source)


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(model: type[BaseModel], path: tuple) -> type[BaseModel] | None:
    """The pydantic model describing the mapping at ``path`` (None if not a model)."""
    current: Any = model
    for part in path:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            origin = get_origin(current)
            if origin is dict:
                current = get_args(current)[1]
                continue
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = field.annotation
        for arg in (current, *get_args(current)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                current = arg
                break
            if get_origin(arg) is dict:
                current = arg
                break
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


_TAGS = ("str", "int", "float", "bool", "none")


def _is_tag(part: object) -> bool:
    text = str(part)
    return text in _TAGS or "[" in text or text[:1].isupper() or text.startswith(("function", "literal"))


def _data_path(data: Any, loc: tuple) -> tuple:
    """Keep the part of a pydantic ``loc`` that indexes into the data (drops union tags)."""
    out: list = []
    current = data
    for part in loc:
        if (isinstance(current, dict) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and part < len(current)
        ):
            out.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and not _is_tag(part):
            out.append(part)  # a missing key
            break
    return tuple(out)


def _where(source: str, marks: Marks, path: tuple) -> str:
    probe = path
    while probe and probe not in marks:
        probe = probe[:-1]
    line, col = marks.get(probe, (1, 1))
    return f"{source}, line {line}, column {col}"


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def closest(name: str, valid: list[str]) -> str | None:
    """The valid key ``name`` is a typo of, or None: similarity >= 0.75 and (<= 2 edits or a 3-letter common prefix)."""
    for match in difflib.get_close_matches(name, valid, n=3, cutoff=0.75):
        a, b = name.lower(), match.lower()
        if _edit_distance(a, b) <= 2 or a[:3] == b[:3]:
            return match
    lower = name.lower()  # a longer or shorter form of one key: 'pairing' -> 'pair', 'enrich' -> 'enrichment'
    grown = [
        v
        for v in valid
        if min(len(v), len(lower)) >= 4 and (lower.startswith(v.lower()) or v.lower().startswith(lower))
    ]
    return grown[0] if len(grown) == 1 else None


def _describe(err: Mapping[str, Any], data: Any, path: tuple) -> str:
    kind, key = err["type"], _dotted(path)
    if kind == "extra_forbidden":
        parent, name = path[:-1], path[-1]
        model = _model_at(Study, parent)
        valid = list(model.model_fields) if model is not None else []
        close = closest(str(name), valid)
        hint = f"; did you mean '{close}'?" if close else "."
        what = "step" if parent == ("steps",) else "key"
        where = f" in {_dotted(parent)}" if parent else ""
        return f"unknown {what} '{name}'{where}{hint} Valid {what}s: {', '.join(valid)}"
    if kind == "missing":
        return f"missing required key '{path[-1]}'" + (f" in {_dotted(path[:-1])}" if len(path) > 1 else "")
    text = err["msg"].replace("Input should be", "expected").replace("Value error, ", "")
    if "input" in err and kind not in ("value_error",) and not isinstance(err["input"], dict):
        text += f" (got {err['input']!r})"
    return f"'{key}': {text}" if key else text


def _path_in_message(message: str, marks: Marks) -> tuple:
    for candidate in sorted(marks, key=len, reverse=True):
        if candidate and all(isinstance(p, str) for p in candidate) and _dotted(candidate) in message:
            return candidate
    return ()


def _validation_message(exc: ValidationError, data: Any, marks: Marks, source: str) -> str:
    groups: dict[tuple, list[str]] = {}
    for err in exc.errors(include_url=False):
        path = _data_path(data, err["loc"])
        text = _describe(err, data, path)
        if err["type"] == "value_error" and not path:
            path = _path_in_message(text, marks)
        groups.setdefault(path, [])
        if text not in groups[path]:
            groups[path].append(text)
    lines = []
    for path, texts in sorted(groups.items(), key=lambda kv: marks.get(kv[0], (0, 0))):
        lines.append(f"{_where(source, marks, path)}: " + " or ".join(texts))
    head = "study file does not follow the schema (see docs/study.md):\n  " if len(lines) > 1 else ""
    return head + "\n  ".join(lines)


def _input_files(study: Study) -> list[tuple[tuple, str]]:
    out: list[tuple[tuple, str]] = []
    cohorts: list[tuple[tuple, CohortInputs]] = [(("inputs",), study.inputs)]
    if study.inputs.validation is not None:
        cohorts.append((("inputs", "validation"), study.inputs.validation))
    for prefix, cohort in cohorts:
        if cohort.images is not None:
            out.append(((*prefix, "images", "manifest"), cohort.images.manifest))
            if isinstance(cohort.images.params, str):
                out.append(((*prefix, "images", "params"), cohort.images.params))
        if cohort.radiomics is not None:
            out.append(((*prefix, "radiomics", "path"), cohort.radiomics.path))
        for name, spec in cohort.omics.items():
            out.append(((*prefix, "omics", name, "path"), spec.path))
            if spec.sample_sheet:
                out.append(((*prefix, "omics", name, "sample_sheet"), spec.sample_sheet))
        if cohort.clinical is not None:
            out.append(((*prefix, "clinical", "path"), cohort.clinical.path))
    enrichment = study.steps.enrichment
    if enrichment is not None and enrichment.gene_sets.endswith((".gmt", ".txt")):
        out.append((("steps", "enrichment", "gene_sets"), enrichment.gene_sets))
    return out


def load(path: PathLike[str] | str, *, check_files: bool = True) -> Study:
    r"""Read and validate a study file.

    The YAML is safe-loaded and checked against the schema in :mod:`radiogenomics.study`
    (documented key by key in ``docs/study.md``). Relative input paths are resolved against
    the folder of the study file.

    Parameters
    ----------
    path
        The study file (YAML).
    check_files
        Also check that every input file named in the study file exists.

    Returns
    -------
    The validated study; ``study.base_dir`` is the folder of the file.

    Raises
    ------
    StudyFileError
        Invalid YAML, an unknown key or step (with the closest valid key), a value of the wrong
        type, a missing required key: the message gives the file, line and column.
    MissingInputError
        An input file does not exist (message gives the line of its key).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from radiogenomics import study
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     file = Path(tmp) / "study.yaml"
    ...     _ = file.write_text("inputs:\n  dataset: synthetic\nsteps:\n  signature:\n    cvv: 3\n")
    ...     try:
    ...         study.load(file)
    ...     except study.StudyFileError as err:
    ...         print(str(err).split(": ", 1)[1])
    unknown key 'cvv' in steps.signature; did you mean 'cv'? Valid keys: endpoint, features, method, clinical, cv, repeats, l1_ratio, rule, n_alphas
    """
    path = Path(path)
    source = path.name
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.y*ml"))
        inside = f" (it holds {', '.join(found[:5])})" if found else ""
        msg = (
            f"{path} is a folder, not a study file{inside}; give the path of a study file (YAML), "
            f"e.g. {path / (found[0] if found else 'study.yaml')}, or write one with `radiogenomics init {path / 'study.yaml'}`"
        )
        raise StudyFileError(msg)
    if not path.is_file():
        msg = f"study file {path} not found; write one with `radiogenomics init {path}`"
        raise MissingInputError(msg)
    text = read_text(path, "study file (YAML)")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        msg = f"{source}, {where}: not valid YAML ({getattr(err, 'problem', err)})"
        raise StudyFileError(msg) from None
    if not isinstance(data, dict):
        msg = f"{source}: the study file must be a mapping with 'inputs' and 'steps' (see `radiogenomics init`)"
        raise StudyFileError(msg)
    marks: Marks = {}
    _walk(node, (), marks, source)
    for name, value in (data.get("steps") or {}).items():
        if value is None and name in STEP_ORDER:
            data["steps"][name] = {}  # `signature:` with nothing means the defaults
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        raise StudyFileError(_validation_message(exc, data, marks, source)) from None
    base = path.resolve().parent
    if check_files:
        for key_path, file in _input_files(study):
            if not (base / file).exists():
                msg = f"{_where(source, marks, key_path)}: input file '{file}' ({_dotted(key_path)}) not found (looked in {base})"
                raise MissingInputError(msg)
    study._base_dir = base
    study._source = str(path.resolve())
    study._marks = marks
    return study
