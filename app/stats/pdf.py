"""PDF from an office document, by LibreOffice headless (`soffice --convert-to pdf`)."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from app.errors import Unprocessable

CONVERT_TIMEOUT_SECONDS = 120


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_pdf(content: bytes, suffix: str) -> bytes:
    """The PDF LibreOffice prints from a .docx or .xlsx; 422 naming what to install without it."""
    soffice = soffice_path()
    if soffice is None:
        raise Unprocessable(
            "生成PDF需要LibreOffice，服务器上未安装：请安装 libreoffice-writer-nogui"
            "（apt-get install libreoffice-writer-nogui），或改用 format=docx",
            en="PDF needs LibreOffice, which is not installed on the server: install "
            "libreoffice-writer-nogui (apt-get install libreoffice-writer-nogui), "
            "or ask for format=docx",
            code="pdf_renderer_missing",
        )
    with tempfile.TemporaryDirectory(prefix="zhaocuo-pdf-") as directory:
        folder = Path(directory)
        source = folder / f"notice{suffix}"
        source.write_bytes(content)
        # A profile of its own: two conversions at once would otherwise share (and lock) one.
        profile = (folder / "profile").as_uri()
        command = [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            directory,
            str(source),
        ]
        environment = {**os.environ, "HOME": directory}
        try:
            subprocess.run(
                command,
                check=True,
                capture_output=True,
                timeout=CONVERT_TIMEOUT_SECONDS,
                env=environment,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise Unprocessable(
                "LibreOffice未能把通报转换为PDF，请改用 format=docx 下载后自行转换",
                en="LibreOffice could not convert the notice to PDF; ask for format=docx "
                "and convert it yourself",
                code="pdf_conversion_failed",
            ) from exc
        target = source.with_suffix(".pdf")
        if not target.exists():
            raise Unprocessable(
                "LibreOffice未能把通报转换为PDF，请改用 format=docx 下载后自行转换",
                en="LibreOffice could not convert the notice to PDF; ask for format=docx "
                "and convert it yourself",
                code="pdf_conversion_failed",
            )
        return target.read_bytes()
