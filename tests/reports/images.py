"""Real images made with Pillow for the screenshot tests."""

import io

from PIL import Image


def image_bytes(fmt: str, size=(40, 30), color=(200, 30, 30), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def png(size=(40, 30)) -> bytes:
    return image_bytes("PNG", size)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
