"""A PDF result rendered to page images once, on the hall, when the clerk attaches it.

The kiosks print a result on a slip printer and show it on the screen; neither reads PDF
(the kiosk carries no PDF engine). So the hall renders each page of a decision letter to
a grey PNG when the clerk attaches it, and keeps the pages sealed beside the original
(``hall/services/results.py``); the kiosk fetches them page by page (docs/protocol.md 11.3).

A clerk's PDF may come from anywhere (scanned, mailed, made by another office's tool), so
it is treated as hostile. PDFium (``pypdfium2``: Chrome's PDF engine, in self-contained
wheels) runs in a child process of its own — ``python -m hall.services.result_pages`` —
with the PDF on its standard input and the pages on its standard output, so that:

* a crash or a hang in the engine ends the child, never the hall (a timeout kills it);
* the child has a memory and CPU ceiling (``RLIMIT_AS``, ``RLIMIT_CPU``);
* no page is ever written in the clear to disk.

Bounds: at most ``MAX_PAGES`` pages (a 500-page file is refused before any is drawn),
each drawn ``PAGE_WIDTH_PX`` wide (A4 at 150 dpi: sharper than the 384-dot slip and a
full-height screen) and never taller than ``MAX_PAGE_HEIGHT_PX``, all within
``RENDER_TIMEOUT_S``. Anything else is ``PdfRefused``: a plain message for the clerk.

The child answers exit status 0 and, per page, an 8-byte big-endian length and the PNG;
or a status of its own (``_REFUSALS``) with nothing of the file in any message.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys

from hall.errors import InvalidRequest

MAX_PAGES = 20
PAGE_WIDTH_PX = 1240
MAX_PAGE_HEIGHT_PX = 3600
RENDER_TIMEOUT_S = 30.0
MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024
MAX_PAGE_BYTES = 2 * 1024 * 1024

_TOO_MANY_PAGES, _BROKEN, _NO_PAGES = 3, 4, 5
_REFUSALS = {
    _TOO_MANY_PAGES: f"这个 PDF 超过 {MAX_PAGES} 页，村里的打印机打不了；请只附上决定书本身 "
                     f"The PDF has more than {MAX_PAGES} pages; attach the decision letter alone",
    _BROKEN: "这个 PDF 打不开（文件损坏或有密码）；请重新导出后再附上 "
             "The PDF cannot be opened (damaged or password-protected); export it again and attach that",
    _NO_PAGES: "这个 PDF 没有页面 The PDF has no pages",
}
_TIMED_OUT = ("这个 PDF 太复杂，没能在时限内转成图片；请重新导出后再附上 "
              "The PDF took too long to turn into pages; export it again (e.g. print to PDF) and attach that")


class PdfRefused(InvalidRequest):
    """A result PDF the hall will not keep: the message is for the clerk, in both languages."""


def render_pdf(data: bytes, timeout_s: float = RENDER_TIMEOUT_S) -> list[bytes]:
    """Each page of ``data`` (a PDF) as a grey PNG, or ``PdfRefused``."""
    try:
        done = subprocess.run([sys.executable, "-m", "hall.services.result_pages"], input=data,
                              capture_output=True, timeout=timeout_s,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
    except subprocess.TimeoutExpired as exc:
        raise PdfRefused(_TIMED_OUT) from exc
    if done.returncode != 0:  # a refusal of its own, or killed by its limits (a broken file)
        raise PdfRefused(_REFUSALS.get(done.returncode, _REFUSALS[_BROKEN]))
    pages = _split(done.stdout)
    if pages is None or not 0 < len(pages) <= MAX_PAGES:
        raise PdfRefused(_REFUSALS[_BROKEN])
    return pages


def _limits() -> None:
    """In the child, before the engine loads (not ``preexec_fn``: the hall has threads)."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    cpu = int(RENDER_TIMEOUT_S) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


def _split(stream: bytes) -> list[bytes] | None:
    pages, offset = [], 0
    while offset < len(stream):
        if offset + 8 > len(stream):
            return None
        (size,) = struct.unpack(">Q", stream[offset:offset + 8])
        offset += 8
        if not 0 < size <= MAX_PAGE_BYTES or offset + size > len(stream):
            return None
        pages.append(stream[offset:offset + size])
        offset += size
    return pages


def _render_here(data: bytes) -> tuple[int, list[bytes]]:
    """In the child: (exit status, pages)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return _BROKEN, []
    try:
        count = len(pdf)
        if count == 0:
            return _NO_PAGES, []
        if count > MAX_PAGES:
            return _TOO_MANY_PAGES, []
        pages = []
        for index in range(count):
            page = pdf[index]
            try:
                width, height = page.get_size()
                if not (width > 0 and height > 0):
                    return _BROKEN, []
                scale = min(PAGE_WIDTH_PX / width, MAX_PAGE_HEIGHT_PX / height)
                bitmap = page.render(scale=scale, grayscale=True)
                image = bitmap.to_pil().convert("L")
            finally:
                page.close()
            buffer = io.BytesIO()
            image.save(buffer, "PNG", optimize=True)
            if len(buffer.getvalue()) > MAX_PAGE_BYTES:
                return _BROKEN, []
            pages.append(buffer.getvalue())
        return 0, pages
    except pdfium.PdfiumError:
        return _BROKEN, []
    finally:
        pdf.close()


def main() -> int:
    _limits()
    status, pages = _render_here(sys.stdin.buffer.read())
    if status == 0:
        out = sys.stdout.buffer
        for png in pages:
            out.write(struct.pack(">Q", len(png)))
            out.write(png)
        out.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
