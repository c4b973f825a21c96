"""Reports as PDF: the HTML document laid out by WeasyPrint (its ``@page`` rules: A4, the page
header and footer, "Page n of m").

WeasyPrint is the ``web`` extra's (PyPI ``weasyprint``; it needs Pango, which Debian ships). The
document is rendered from a string and may fetch nothing: every value in it is escaped text, and a
fetcher that refuses every URL keeps it so (no local file, no address of the network, even if a
template some day printed one).
"""

from __future__ import annotations

from typing import Any, NoReturn

from netchange.errors import BadRequest


def _refuse(url: str, *_: Any, **__: Any) -> NoReturn:
    raise ValueError(f"a report fetches nothing ({url[:80]!r} refused)")


def html_to_pdf(html: str) -> bytes:
    """``html`` (a whole document, its style inline) as PDF bytes."""
    try:
        from weasyprint import HTML
    except ImportError:  # pragma: no cover - the web extra brings it
        raise BadRequest("PDF needs WeasyPrint: pip install 'netchange[web]'") from None
    pdf: bytes = HTML(string=html, url_fetcher=_refuse).write_pdf()
    return pdf
