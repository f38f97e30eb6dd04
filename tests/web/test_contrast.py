"""The stylesheet's colours meet WCAG 2.1 AA (as GB/T 37668 asks): text 4.5:1, focus ring 3:1."""

import re

from app.web.pages import STATIC_DIR

CSS = (STATIC_DIR / "site.css").read_text(encoding="utf-8")
WHITE = "#ffffff"


def six_digits(colour: str) -> str:
    return "#" + "".join(c * 2 for c in colour[1:]) if len(colour) == 4 else colour


COLOURS = {
    name: six_digits(colour)
    for name, colour in re.findall(r"--([a-z-]+):(#[0-9a-f]{6}|#[0-9a-f]{3})\b", CSS)
}


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_of_known_pairs_matches_the_wcag_formula() -> None:
    assert round(contrast("#000000", WHITE), 1) == 21.0
    assert round(contrast("#767676", WHITE), 2) == 4.54


def test_text_colours_are_readable_on_every_background_they_sit_on() -> None:
    pairs = [
        ("ink", "paper"),
        ("ink", "soft"),
        ("muted", "paper"),
        ("muted", "soft"),
        ("accent", "paper"),  # links and the secondary button
        ("accent", "soft"),
        ("bad", "paper"),  # field errors
    ]
    for text, background in pairs:
        ratio = contrast(COLOURS[text], COLOURS[background])
        assert ratio >= 4.5, f"{text} on {background}: {ratio:.2f}"
    # White text on the top bar and on buttons.
    assert contrast(WHITE, COLOURS["accent"]) >= 4.5
    assert contrast(WHITE, COLOURS["accent-dark"]) >= 4.5


def test_the_focus_ring_shows_on_white_pages_and_on_the_blue_bar() -> None:
    ring = re.search(
        r":focus-visible\{outline:3px solid (#[0-9a-f]{6});"
        r"[^}]*box-shadow:0 0 0 \d+px (#[0-9a-f]{6})\}",
        CSS,
    )
    assert ring, "the focus style is two rings: an outline and a box-shadow around it"
    for background in (COLOURS["paper"], COLOURS["accent"]):
        best = max(contrast(colour, background) for colour in ring.groups())
        assert best >= 3, f"focus ring on {background}: {best:.2f}"
