"""Sphinx configuration for the radiogenomics documentation."""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from importlib.metadata import version as _version
from pathlib import Path

project = "radiogenomics"
author = "radiogenomics developers"
copyright = "2026, radiogenomics developers"
release = _version("radiogenomics")
version = release

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx_autodoc_typehints",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
master_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3

# The vignettes (docs/vignettes -> ../vignettes) are executed at build time, so the pages show
# their outputs and a notebook error fails the build. Executed notebooks are cached under a key
# of the package's source and data, so a rebuild without code changes reuses them.
_ROOT = Path(__file__).resolve().parent.parent
_BUILD_CACHE = Path(__file__).resolve().parent / "_build" / "cache"


def _source_key() -> str:
    """SHA-256 (first 16 hex digits) of the package, the loaders and the test data the vignettes read."""
    digest = hashlib.sha256(release.encode())
    for folder in ("radiogenomics", "data_loaders", "tests/data"):
        for path in sorted((_ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(_ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


_CACHE = _BUILD_CACHE / _source_key()
for _old in _BUILD_CACHE.glob("*"):  # results of earlier source versions
    if _old != _CACHE:
        shutil.rmtree(_old, ignore_errors=True)

nb_execution_mode = "cache"
nb_execution_cache_path = str(_CACHE / "jupyter")
nb_execution_in_temp = False  # run in vignettes/, as pytest --nbmake does (relative paths to tests/data)
nb_execution_raise_on_error = True
nb_execution_timeout = 900  # seconds per cell
nb_merge_streams = True
# MPLBACKEND=agg (set by CI for the tests) would stop the kernel from showing figures inline.
os.environ.pop("MPLBACKEND", None)
autosummary_generate = True
autodoc_member_order = "bysource"
autodoc_typehints = "description"
always_use_bars_union = True
typehints_use_signature = False
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_custom_sections = [("Returns", "params_style")]
nitpicky = False
intersphinx_mapping = {}  # offline build: no inventories are fetched
suppress_warnings = ["myst.header", "config.cache", "mystnb.unknown_mime_type"]
html_theme = "sphinx_book_theme"
html_title = "radiogenomics"
html_theme_options = {"repository_url": "", "use_repository_button": False}
warnings.filterwarnings("ignore", category=DeprecationWarning)


def _demo_report(app, exception):
    """Run the bundled glioma study (as ``radiogenomics demo``) and put its report at ``demo/report.html``.

    The study's own step cache lives next to the notebook cache (same source key), so a rebuild
    without code changes takes its steps from there.
    """
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.util import logging

    from radiogenomics import study

    logger = logging.getLogger(__name__)
    out = _CACHE / "demo"
    file = study.init(out / "study.yaml", example="glioma", overwrite=True)
    logger.info("demo study: running the bundled glioma study into %s", out)
    result = study.run(file, out=out, progress=False, log=lambda line: logger.info("demo study: %s", line))
    target = Path(app.outdir) / "demo"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(result.report, target / "report.html")
    logger.info("demo study: report copied to %s", target / "report.html")


def setup(app):
    app.connect("build-finished", _demo_report)
    return {"parallel_read_safe": True}
