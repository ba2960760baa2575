"""Sphinx configuration for the radiogenomics documentation."""

from __future__ import annotations

import warnings
from importlib.metadata import version as _version

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
nb_execution_mode = "off"  # vignettes are executed by the test suite (pytest --nbmake)
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
