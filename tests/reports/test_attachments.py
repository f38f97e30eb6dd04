"""Screenshot preparation (pure): the type from the bytes, re-encoding, metadata gone, limits."""

import io
import warnings

import pytest
from PIL import ExifTags, Image

from app.config import Settings
from app.errors import Unprocessable
from app.reports.attachments import prepare_image, prepare_screenshots
from tests.reports.images import image_bytes, opened, png

SETTINGS = Settings(database_url="sqlite://")


def refusal(files, settings=SETTINGS) -> Unprocessable:
    with pytest.raises(Unprocessable) as caught:
        prepare_screenshots(files, settings=settings)
    return caught.value


@pytest.mark.parametrize(
    ("fmt", "mode", "stored_type", "stored_format"),
    [
        ("PNG", "RGB", "image/png", "PNG"),
        ("PNG", "RGBA", "image/png", "PNG"),
        ("JPEG", "RGB", "image/jpeg", "JPEG"),
        ("JPEG", "CMYK", "image/jpeg", "JPEG"),
        ("WEBP", "RGB", "image/webp", "WEBP"),
        ("GIF", "P", "image/png", "PNG"),
    ],
)
def test_each_accepted_format_is_re_encoded(fmt, mode, stored_type, stored_format):
    color = {"RGB": (200, 30, 30), "RGBA": (200, 30, 30, 128), "CMYK": (0, 200, 200, 0)}
    data = image_bytes(fmt, (64, 48), color.get(mode, 1), mode=mode)

    [prepared] = prepare_screenshots([("shot", data)], settings=SETTINGS)

    assert prepared.media_type == stored_type
    assert (prepared.width, prepared.height) == (64, 48)
    assert prepared.size == len(prepared.data)
    image = opened(prepared.data)
    assert image.format == stored_format
    assert image.size == (64, 48)


def test_the_type_comes_from_the_bytes_not_the_name():
    # A JPEG named .png is stored as the JPEG it is.
    [prepared] = prepare_screenshots([("截图.png", image_bytes("JPEG"))], settings=SETTINGS)
    assert prepared.media_type == "image/jpeg"


def jpeg_with_gps_and_orientation() -> bytes:
    # 60×40: left half red, right half blue; orientation 6 means "rotate 90° clockwise to show".
    image = Image.new("RGB", (60, 40), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 30, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (39.0, 54.0, 26.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (116.0, 23.0, 29.0),
    }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def test_exif_and_gps_are_removed_and_the_orientation_applied():
    data = jpeg_with_gps_and_orientation()
    source = opened(data)
    assert source.getexif()[ExifTags.Base.Orientation] == 6
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"

    [prepared] = prepare_screenshots([("IMG_0001.jpg", data)], settings=SETTINGS)

    stored = opened(prepared.data)
    assert dict(stored.getexif()) == {}
    assert "exif" not in stored.info
    assert b"PhoneMaker" not in prepared.data and b"Exif" not in prepared.data
    # Rotated clockwise: 40 wide, 60 high, the red left half now on top.
    assert stored.size == (40, 60) == (prepared.width, prepared.height)
    top, bottom = stored.getpixel((20, 10)), stored.getpixel((20, 50))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


def test_png_text_chunks_are_removed():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "欧阳明远 13912345678")
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "PNG", pnginfo=info)
    assert b"Author" in out.getvalue()

    [prepared] = prepare_screenshots([("a.png", out.getvalue())], settings=SETTINGS)

    assert b"Author" not in prepared.data
    assert opened(prepared.data).info == {}


def test_the_long_side_is_cut_to_2048_pixels_keeping_the_shape():
    [wide, tall] = prepare_screenshots(
        [("wide.png", png((3000, 1000))), ("tall.jpg", image_bytes("JPEG", (1000, 4096)))],
        settings=SETTINGS,
    )
    assert (wide.width, wide.height) == (2048, 683)
    assert opened(wide.data).size == (2048, 683)
    assert (tall.width, tall.height) == (500, 2048)


def test_a_text_file_renamed_png_is_refused_by_name():
    error = refusal([("好.png", png()), ("截图2.png", "这不是图片".encode())])
    assert error.code == "attachment_invalid"
    assert error.message == "文件“截图2.png”不是可用的图片，截图只接受 PNG、JPEG、WebP 或 GIF 格式"
    assert error.message_en == (
        "the file “截图2.png” is not a usable image: screenshots must be PNG, JPEG, WebP or GIF"
    )


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a/*\x00\x00*/=1;alert(document.cookie)//",  # a GIF header in front of a script
        b"%PDF-1.7\n" + png(),  # a PDF that also holds a PNG
        png()[:60],  # a truncated PNG
        image_bytes("BMP"),  # a real image, of a type not accepted
        image_bytes("TIFF"),
        b"",
    ],
    ids=["gif-script", "pdf", "truncated", "bmp", "tiff", "empty"],
)
def test_what_is_not_an_accepted_image_is_refused(data):
    assert refusal([("x.gif", data)]).code == "attachment_invalid"


def test_a_polyglot_png_loses_what_was_appended_to_it():
    polyglot = png() + b"<script>alert(1)</script>" + b"PK\x03\x04zip"
    [prepared] = prepare_screenshots([("poly.png", polyglot)], settings=SETTINGS)
    assert b"<script>" not in prepared.data and b"PK\x03\x04" not in prepared.data
    assert opened(prepared.data).size == (40, 30)


def test_a_file_over_5_mb_is_refused_before_it_is_decoded():
    data = png() + bytes(5 * 1024 * 1024)
    error = refusal([("大图.png", data)])
    assert error.code == "attachment_too_large"
    assert error.message == "文件“大图.png”超过 5 MB，请压缩或截取部分后再上传"


def test_four_files_are_too_many():
    error = refusal([(f"{n}.png", png()) for n in range(1, 5)])
    assert error.code == "too_many_attachments"
    assert error.message == "最多只能上传 3 张截图，您选择了 4 个文件"


def test_an_empty_file_input_is_skipped():
    assert prepare_screenshots([("", b""), ("", b"")], settings=SETTINGS) == []


@pytest.mark.parametrize("side", [8000, 10000])  # over the limit; over twice the limit
def test_a_decompression_bomb_is_refused_from_its_header(side):
    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG")
    assert len(out.getvalue()) < 200_000  # tiny on disk, 64 or 100 million pixels decoded

    error = refusal([("bomb.png", out.getvalue())])

    assert error.code == "attachment_too_large"
    assert error.message == "图片“bomb.png”的像素超过 40000000 个，请缩小后再上传"


def test_the_pixel_limit_is_a_setting():
    settings = Settings(database_url="sqlite://", max_attachment_pixels=1000)
    with pytest.raises(Unprocessable) as caught:
        prepare_image("a.png", png((40, 30)), settings=settings)
    assert caught.value.code == "attachment_too_large"
    assert prepare_image("b.png", png((40, 25)), settings=settings).width == 40


def test_pillows_bomb_warning_is_a_refusal_not_a_warning():
    settings = Settings(database_url="sqlite://", max_attachment_pixels=1000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(Unprocessable):
            prepare_image("a.png", png((40, 30)), settings=settings)
    assert [w.category for w in caught] == []
