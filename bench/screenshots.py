"""Preparing screenshots: what checking, re-encoding and stripping costs per image.

Makes a phone screenshot (1080×2400 PNG, text-like stripes), a long screenshot (1080×8000 PNG),
a camera photo (4032×3024 JPEG with EXIF orientation) and a WebP, then times
`app.reports.attachments.prepare_image` on each beside the baseline of Pillow only decoding the
same bytes (`Image.open(...).load()`), in the same run. Prints ms per image, the ratio to the
decoding alone, and the stored size against the uploaded one.

    .venv/bin/python bench/screenshots.py [--repeat 5]
"""

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import ExifTags, Image, ImageDraw

from app.config import Settings
from app.reports.attachments import prepare_image


def screenshot(width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 36):
        draw.rectangle((40, y + 8, 40 + (y * 37) % (width - 80), y + 26), fill=(40, 40, 40))
    return image


def samples() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for name, (w, h) in {
        "phone PNG 1080×2400": (1080, 2400),
        "long PNG 1080×8000": (1080, 8000),
    }.items():
        buffer = io.BytesIO()
        screenshot(w, h).save(buffer, "PNG")
        out[name] = buffer.getvalue()
    noise = Image.effect_noise((4032, 3024), 12).convert("RGB")
    photo = Image.blend(screenshot(4032, 3024), noise, 0.3)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90, exif=exif)
    out["photo JPEG 4032×3024"] = buffer.getvalue()
    buffer = io.BytesIO()
    screenshot(1440, 3200).save(buffer, "WEBP", quality=90)
    out["WebP 1440×3200"] = buffer.getvalue()
    return out


def timed(function, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings = Settings(database_url="sqlite://")
    print("| image | uploaded | stored | decode only | prepare_image | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, data in samples().items():

        def decode(data=data):
            with Image.open(io.BytesIO(data)) as image:
                image.load()

        baseline = timed(decode, args.repeat)
        prepared = prepare_image(name, data, settings=settings)
        cost = timed(
            lambda name=name, data=data: prepare_image(name, data, settings=settings), args.repeat
        )
        print(
            f"| {name} | {len(data) / 1024:,.0f} KiB | {prepared.size / 1024:,.0f} KiB "
            f"({prepared.width}×{prepared.height}) | {baseline:,.1f} ms | {cost:,.1f} ms "
            f"| {cost / baseline:.1f}× |"
        )


if __name__ == "__main__":
    main()
