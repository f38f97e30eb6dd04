"""Render the pictures of the notice in docs/ (`make notice-pictures`): LibreOffice prints the
DOCX and the XLSX of a made-up two-unit month to PDF, poppler's pdftoppm makes PNGs of pages."""

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.stats.document import notice_docx
from app.stats.exports import notice_xlsx
from app.stats.pdf import convert_to_pdf
from tests.stats.test_notice_render import SETUP, two_units

DOCS = Path(__file__).resolve().parent
RESOLUTION = "60"


def page_png(pdf: Path, page: int, target: Path) -> None:
    stem = target.with_suffix("")
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            RESOLUTION,
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(pdf),
            str(stem),
        ],
        check=True,
    )
    print(f"wrote {target.relative_to(DOCS.parent)}")


def main() -> None:
    stats = two_units()
    with tempfile.TemporaryDirectory() as folder:
        word = Path(folder) / "notice-docx.pdf"
        word.write_bytes(convert_to_pdf(notice_docx(stats, SETUP), ".docx"))
        sheet = Path(folder) / "notice-xlsx.pdf"
        sheet.write_bytes(convert_to_pdf(notice_xlsx(stats, SETUP), ".xlsx"))
        page_png(word, 1, DOCS / "notice-docx-page1.png")
        page_png(word, 3, DOCS / "notice-docx-annex.png")
        page_png(sheet, 1, DOCS / "notice-xlsx-annex.png")
        page_png(sheet, 2, DOCS / "notice-xlsx-text.png")
        page_png(sheet, 3, DOCS / "notice-xlsx-chart.png")


if __name__ == "__main__":
    main()
