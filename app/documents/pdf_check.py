"""Is a file that starts with `%PDF-` really a PDF? Its structure is read with pypdf.

The magic bytes alone are easy to fake: an HTML page (with a script) that begins with `%PDF-`
would be stored as a PDF and could be opened by a browser as a web page. A real PDF has a
cross-reference table (or stream) reached through `startxref`, a trailer naming the document's
catalog (/Root), and a page tree that can be walked; pypdf finds all three or fails. Damaged but
repairable PDFs (pypdf's non-strict mode rebuilds a broken xref table) are still accepted.
"""

from __future__ import annotations

import logging
import warnings
from typing import BinaryIO

# pypdf reports what it repaired through logging and warnings; an upload is not the place.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def is_well_formed_pdf(stream: BinaryIO) -> bool:
    """True when pypdf reads the file's trailer, catalog and page tree. The stream is left at
    its start."""
    from pypdf import PdfReader  # (imported on the first PDF upload: app servers boot faster)

    stream.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(stream, strict=False)
            if "/Root" not in reader.trailer:
                return False
            len(reader.pages)  # walks the page tree
            return True
    except Exception:
        return False
    finally:
        stream.seek(0)
