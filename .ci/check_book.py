"""After `make book`: every chapter page exists, shows its figures and tables, and no figure fell back to text.

Usage: python .ci/check_book.py [book/_build/html]
"""

import re
import sys
from pathlib import Path

html = Path(sys.argv[1] if len(sys.argv) > 1 else "book/_build/html")
chapters = sorted(p.stem for p in Path("book").glob("*.ipynb"))
problems = []
for name in chapters:
    page = html / f"{name}.html"
    if not page.is_file():
        problems.append(f"{page} is missing")
        continue
    text = page.read_text()
    images = len(re.findall(r"<img\b", text))
    tables = len(re.findall(r"<table\b", text))
    if "&lt;Figure size" in text:
        problems.append(f"{page}: a figure was rendered as text (no inline backend)")
    if images < 2 or tables < 2:
        problems.append(f"{page}: only {images} images and {tables} tables")
    if "Traceback" in text:
        problems.append(f"{page}: contains a traceback")
    print(f"{name}: {images} images, {tables} tables")
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
