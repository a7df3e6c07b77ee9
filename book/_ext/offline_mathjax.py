"""Serve MathJax from the built book, so that formulas render without a network.

`make install` installs a pinned MathJax from npm (package.json) into
node_modules/. When it is there, this extension copies the parts a page needs
into the build (`_static/mathjax/`) and points Sphinx's `mathjax_path` at
them; otherwise the theme's default (a CDN) stays, and the build says so.
The copy is not placed in the book's own `_static/` folder, because Jupyter
Book loads every script it finds there into every page.
"""

import shutil
from pathlib import Path

from sphinx.util import logging

SOURCE = Path(__file__).resolve().parents[2] / "node_modules" / "mathjax" / "es5"
PARTS = ("tex-mml-chtml.js", "input", "output/chtml", "ui", "a11y")
SCRIPT = "mathjax/tex-mml-chtml.js"

logger = logging.getLogger(__name__)


def _use_local_copy(app):
    # builder-inited, not config-inited: the HTML builder registers the mathjax extension's settings late
    if (SOURCE / "tex-mml-chtml.js").is_file():
        app.config.mathjax_path = SCRIPT
    else:
        logger.info(f"offline_mathjax: no MathJax in {SOURCE} (run `make install`): formulas need MathJax's CDN")


def _copy(app, exception):
    if exception is not None or app.builder.format != "html" or app.config.mathjax_path != SCRIPT:
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    shutil.rmtree(target, ignore_errors=True)
    for part in PARTS:
        source, dest = SOURCE / part, target / part
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, dest)
        else:
            shutil.copy2(source, dest)


def setup(app):
    app.connect("builder-inited", _use_local_copy)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
