"""The CAPTCHA picture, drawn here with Pillow: no outside service, no font file to ship."""

import io
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

WIDTH, HEIGHT = 180, 64


def draw(text: str, *, seed: str) -> bytes:
    """A PNG of the text, each character shifted and tilted, crossed by lines."""
    # Seeded by the challenge: the same challenge always gives the same picture.
    rng = random.Random(seed)
    image = Image.new("RGB", (WIDTH, HEIGHT), (246, 246, 240))
    pen = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=38)
    step = (WIDTH - 20) // len(text)
    for index, character in enumerate(text):
        glyph = Image.new("RGBA", (step + 16, HEIGHT), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text(
            (6, rng.randint(4, 14)), character, font=font, fill=(20, 40, 90, 255)
        )
        glyph = glyph.rotate(rng.uniform(-25, 25), resample=Image.Resampling.BICUBIC)
        image.paste(glyph, (10 + index * step + rng.randint(-3, 3), 0), glyph)
    for _ in range(5):
        pen.line(
            [(rng.randint(0, WIDTH), rng.randint(0, HEIGHT)) for _ in range(2)],
            fill=(90, 110, 150),
            width=2,
        )
    image = image.filter(ImageFilter.SMOOTH)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
