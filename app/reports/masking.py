"""Contact details inside free text, masked for the public list of answers (留言选登).

Pure. A citizen often writes a phone number or an e-mail address into the description, and a
unit sometimes quotes it in its answer; the public list shows neither. Masked: mainland mobile
numbers (`138****5678`), landlines (`010-****5678`), e-mail addresses (`z***@example.com`) and
18-digit resident ID numbers (`110***********123X`). Left alone: web addresses (their digits are
page ids and dates), dates, site codes (`6108000003`), tracking codes, and any run of digits
longer or shorter than a number of those kinds.
"""

import re

# A web address runs to the first space, quote, angle bracket or Chinese character/punctuation.
_URL = re.compile(
    r"(?:[Hh][Tt][Tt][Pp][Ss]?://|www\.)[^\s<>\"'\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+"
)
# 18-digit resident identity card: region, birth date, sequence, check digit (X).
_ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])([1-9][0-9]{2})[0-9]{3}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01])([0-9]{3}[0-9Xx])(?![0-9A-Za-z])"
)
# Mainland mobile: 1[3-9] and 9 more digits, maybe +86 first, maybe grouped 3-4-4.
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z])((?:\+?86[- ]?)?)(1[3-9][0-9])[- ]?[0-9]{4}[- ]?([0-9]{4})(?![0-9])"
)
# Landline: area code 0xx or 0xxx, a dash or space (or brackets), 7 or 8 digits, extension.
_LANDLINE = re.compile(
    r"(?<![0-9A-Za-z])(0[1-9][0-9]{1,2}[- ]|[(（]0[1-9][0-9]{1,2}[)）] ?)"
    r"[0-9]{3,4}([0-9]{4})((?:[-转][0-9]{1,6})?)(?![0-9])"
)
# The same without any separator: 11 or 12 digits starting 0[1-9] (a site code never starts 0).
_LANDLINE_BARE = re.compile(r"(?<![0-9A-Za-z])(0[1-9][0-9])[0-9]{4,5}([0-9]{4})(?![0-9])")
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
    r"\.[A-Za-z]{2,})"
)


def _mask_id(match: re.Match) -> str:
    return match.group(1) + "*" * 11 + match.group(2).upper()


def _mask_mobile(match: re.Match) -> str:
    return f"{match.group(1)}{match.group(2)}****{match.group(3)}"


def _mask_landline(match: re.Match) -> str:
    area, last, extension = match.group(1), match.group(2), match.group(3)
    return f"{area}****{last}{extension}"


def _mask_bare_landline(match: re.Match) -> str:
    return f"{match.group(1)}****{match.group(2)}"


def _mask_email(match: re.Match) -> str:
    return f"{match.group(1)}***@{match.group(2)}"


def _mask_segment(text: str) -> str:
    text = _EMAIL.sub(_mask_email, text)
    text = _ID_CARD.sub(_mask_id, text)
    text = _MOBILE.sub(_mask_mobile, text)
    text = _LANDLINE.sub(_mask_landline, text)
    return _LANDLINE_BARE.sub(_mask_bare_landline, text)


def mask_contacts(text: str) -> str:
    """The text with phone numbers, e-mail addresses and ID-card numbers masked; URLs kept."""
    if not text:
        return text
    parts: list[str] = []
    position = 0
    for url in _URL.finditer(text):
        parts.append(_mask_segment(text[position : url.start()]))
        parts.append(url.group())
        position = url.end()
    parts.append(_mask_segment(text[position:]))
    return "".join(parts)
