"""Independent checks for the PII corpus labels.

Every labelled value is re-validated here with a library that knows the format (phonenumbers,
python-stdnum, email-validator, the standard ipaddress module) or, for secrets, with the
formats written out as regular expressions. Texts are also scanned with the libraries' own
finders so a value the generator forgot to label is reported instead of silently counting as a
false positive of the Swift detector.

Nothing here shares code or tables with the Swift implementation.
"""

import ipaddress
import math
import re
from collections import Counter

import email_validator
import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.us import ssn as stdnum_ssn


# --- label validators -------------------------------------------------------------------------

def valid_email(value):
    if not value.isascii():
        return False  # policy: ASCII addresses only
    try:
        email_validator.validate_email(value, check_deliverability=False)
        return True
    except email_validator.EmailNotValidError:
        return False


def valid_phone(value):
    """A phone number as the corpus labels them: E.164-style with '+', or NANP written nationally."""
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else "US")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


# Card networks by IIN range and the lengths they issue (from the networks' published tables).
CARD_BRANDS = [
    ("visa", [(4, 4)], {13, 16, 19}),
    ("mastercard", [(51, 55), (2221, 2720)], {16}),
    ("amex", [(34, 34), (37, 37)], {15}),
    ("discover", [(6011, 6011), (644, 649), (65, 65), (622126, 622925)], set(range(16, 20))),
    ("jcb", [(3528, 3589)], set(range(16, 20))),
    ("diners", [(300, 305), (3095, 3095), (36, 36), (38, 39)], set(range(14, 20))),
    ("unionpay", [(62, 62)], set(range(16, 20))),
    ("mir", [(2200, 2204)], set(range(16, 20))),
    ("maestro", [(5018, 5018), (5020, 5020), (5038, 5038), (5893, 5893), (6304, 6304), (6759, 6759),
                 (6761, 6763)], set(range(13, 20))),
    ("rupay", [(60, 60), (508, 508)], {16}),
]


def card_brand(digits):
    for name, ranges, lengths in CARD_BRANDS:
        for low, high in ranges:
            width = len(str(low))
            if low <= int(digits[:width]) <= high and len(digits) in lengths:
                return name
    return None


def valid_card(value):
    digits = re.sub(r"[ -]", "", value)
    return digits.isdigit() and 13 <= len(digits) <= 19 and luhn.is_valid(digits) and card_brand(digits) is not None


def valid_ssn(value):
    return stdnum_ssn.is_valid(value.replace(" ", "-"))


def valid_iban(value):
    return value == value.upper() and stdnum_iban.is_valid(value)


def valid_ip(value):
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


SECRET_FORMATS = [
    r"sk-(?:proj-|ant-api03-|svcacct-)?[A-Za-z0-9_\-]{20,}",
    r"sk_(?:live|test)_[A-Za-z0-9]{16,}", r"rk_(?:live|test)_[A-Za-z0-9]{16,}",
    r"gh[pousr]_[A-Za-z0-9]{36,}", r"github_pat_[A-Za-z0-9_]{22,}",
    r"xox[bpars]-[A-Za-z0-9\-]{20,}",
    r"(?:AKIA|ASIA)[A-Z0-9]{16}", r"AIza[A-Za-z0-9_\-]{35}", r"glpat-[A-Za-z0-9_\-]{20,}",
    r"hf_[A-Za-z0-9]{30,40}", r"npm_[A-Za-z0-9]{36}", r"tg-[A-Za-z0-9_\-]{32}",
    r"eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}(?:\.[A-Za-z0-9_\-]+)?",
]


def shannon(value):
    counts = Counter(value)
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())


def labelled_secrets(text):
    """Random-looking values assigned to a name that says they are secret (gitleaks' generic rule)."""
    values = []
    for match in re.finditer(r"(?i)[\w\-]*(?:secret|passw|pwd|token|api_?key|api-key|access_?key|private_?key|credential|auth_key)"
                             r"[\w\-]*[\"'`]?\s*[:=]>?\s*[\"'`]?([A-Za-z0-9+/=_\-.~]{16,256})", text):
        value = match.group(1).rstrip(".")
        if re.search(r"[A-Za-z]", value) and re.search(r"\d", value) and shannon(value) >= 3.0:
            values.append(value)
    return values


def valid_secret(value, text=""):
    if any(re.fullmatch(f, value) for f in SECRET_FORMATS):
        return True
    if value in labelled_secrets(text):
        return True
    # A generated random token: long, mixed, high entropy, not hex.
    return (re.fullmatch(r"[A-Za-z0-9_\-.~+/=]{20,}", value) is not None and shannon(value) > 3.7
            and not re.fullmatch(r"[0-9a-fA-F\-]+", value) and re.search(r"\d", value) is not None)


def validate(kind, value, text):
    if kind == "SECRET":
        return valid_secret(value, text)
    return VALIDATORS[kind](value)


VALIDATORS = {
    "EMAIL": valid_email, "PHONE_NUMBER": valid_phone, "CREDIT_CARD": valid_card, "US_SSN": valid_ssn,
    "IBAN": valid_iban, "IP_ADDRESS": valid_ip, "SECRET": valid_secret,
}


# --- finders: what the libraries would call PII in a text ------------------------------------

def find_independent(text):
    """(type, value) pairs the libraries find in `text` on their own."""
    found = []
    for match in phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.VALID):
        # The matcher reads some dotted quads as dotted phone numbers; an IP is not a phone.
        if re.fullmatch(r"\d{1,3}(?:\.\d{1,3}){3}", match.raw_string):
            continue
        found.append(("PHONE_NUMBER", match.raw_string))
    for match in re.finditer(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+", text):
        value = match.group().rstrip(".-")
        if valid_email(value):
            found.append(("EMAIL", value))
    for match in re.finditer(r"(?<![\w.\-])\d(?:[ -]?\d){12,18}(?![\d])", text):
        if valid_card(match.group()):
            found.append(("CREDIT_CARD", match.group()))
    for match in re.finditer(r"(?<![\d\-])\d{3}([- ])\d{2}\1\d{4}(?![\d])", text):
        if valid_ssn(match.group()):
            found.append(("US_SSN", match.group()))
    for match in re.finditer(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b", text):
        if valid_iban(match.group()):
            found.append(("IBAN", match.group()))
    for match in re.finditer(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.]*\d)", text):
        if valid_ip(match.group()):
            found.append(("IP_ADDRESS", match.group()))
    for match in re.finditer(r"(?<![\w:])[0-9A-Fa-f:]*::?[0-9A-Fa-f:.]+", text):
        value = match.group().rstrip(".:")
        if ":" in value and valid_ip(value) and re.search(r"\d", value) and value != "::":
            found.append(("IP_ADDRESS", value))
    for value in labelled_secrets(text):
        found.append(("SECRET", value))
    for fmt in SECRET_FORMATS:
        for match in re.finditer(r"(?<![\w\-])" + fmt + r"(?![\w\-])", text):
            if fmt.startswith("sk-") and not re.search(r"\d", match.group()):
                continue
            found.append(("SECRET", match.group()))
    return found
