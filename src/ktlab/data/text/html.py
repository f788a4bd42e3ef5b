"""Plain text from the HTML of question stems and options, with images kept as markers.

Built on the standard library's :class:`html.parser.HTMLParser` (``convert_charrefs`` decodes entities
such as ``&amp;`` and ``&#8217;``): block tags (``<br>``, ``<p>``, ``<div>``, table rows) become line
breaks, table cells are separated by `` | ``, ``<style>``/``<script>``/``<head>`` content is dropped, and
runs of spaces collapse. An ``<img>`` becomes ``image_marker`` (``"[image]"``), or, for a formula image
whose address carries its LaTeX source (``...latex.codecogs.com/gif.latex?T_{1}``), ``formula_marker``
with the formula (``"[image: T_{1}]"``), styling commands (``\\bf``, ``\\large``, ``\\color{red}``) removed.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

_BLOCK = {"br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "h4", "center", "ul", "ol", "pre"}
_CELL = {"td", "th"}
_HIDDEN = {"style", "script", "head", "title"}
_STYLING = re.compile(r"\\color\{[^}]*\}|\\(?:bf|large|Large|LARGE|small|normalsize|it|rm)\b")


def formula_of(src: str) -> str | None:
    """The LaTeX source of a formula image's address (``...gif.latex?<formula>``), else None."""
    parts = urlsplit(src)
    if "latex" not in parts.path or not parts.query:
        return None
    formula = _STYLING.sub(" ", unquote(parts.query))
    formula = re.sub(r"\s+", " ", formula).strip()
    return formula or None


class _TextParser(HTMLParser):
    def __init__(self, image_marker: str, formula_marker: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.image_marker, self.formula_marker = image_marker, formula_marker
        self.parts: list[str] = []
        self.hidden = 0
        self.images = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag == "img":
            self.images += 1
            formula = formula_of(dict(attrs).get("src") or "")
            marker = self.image_marker
            if formula is not None and self.formula_marker:
                marker = self.formula_marker.format(formula=formula)
            self.parts.append(f" {marker} ")
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag in _CELL:
            self.parts.append(" | ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:  # a line break in the source is a space; only tags break lines
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(
    html: str, image_marker: str = "[image]", formula_marker: str | None = "[image: {formula}]"
) -> tuple[str, int]:
    """Plain text of ``html`` and its number of images (see the module docstring).

    Args:
        html: a fragment of HTML (plain text passes through, its entities decoded).
        image_marker: what an image becomes in the text.
        formula_marker: what a formula image becomes (``{formula}``: its LaTeX); null: ``image_marker``.
    """
    parser = _TextParser(image_marker, formula_marker)
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip(" |") for line in text.split("\n"))
    lines = (line.strip() for line in lines)
    return re.sub(r"\n{2,}", "\n", "\n".join(line for line in lines if line)).strip(), parser.images
