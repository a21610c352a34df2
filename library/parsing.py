"""Reading dates, numbers and SIRET numbers the way French users write them.

The library's forms accept "31 mars 2027", "1er avril 2026", "31/03/2027" or
"2027-03-31"; "4 200 000,50" (ordinary, non-breaking or narrow no-break spaces, a
decimal comma, an optional € sign); "824 613 574 00014". Each parser returns the value
or raises ``ValueError`` with a message meant for the user, so that form fields and
the metadata check (``library.metadata.clean_metadata``) refuse the same inputs with
the same words.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

#: Month names and the abbreviations in use, accents folded (see ``fold``).
MONTHS = {
    "janvier": 1,
    "janv": 1,
    "jan": 1,
    "fevrier": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "mar": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "sep": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
}

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WORDS_DATE = re.compile(r"^(\d{1,2})(?:er)?\s+([a-z]+)\.?\s+(\d{4})$")


def fold(text: str) -> str:
    """Lower case, accents removed, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _SPACES.sub(" ", text).strip().lower()


def parse_date(value) -> datetime.date:
    """A date from a ``date``, an ISO string or a date as French users write it."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        raise ValueError(_("Enter a date such as 31/03/2027 or 31 mars 2027."))
    text = fold(value)
    day = month = year = None
    if match := _ISO_DATE.match(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _NUMERIC_DATE.match(text):
        day, month = int(match[1]), int(match[2])
        year = int(match[3]) + (2000 if len(match[3]) == 2 else 0)
    elif match := _WORDS_DATE.match(text):
        day, year = int(match[1]), int(match[3])
        month = MONTHS.get(match[2])
        if month is None:
            raise ValueError(
                _("“%(month)s” is not a month: write it in full, e.g. 31 mars 2027.")
                % {"month": match[2]}
            )
    else:
        raise ValueError(_("Enter a date such as 31/03/2027 or 31 mars 2027."))
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ValueError(_("This date does not exist.")) from None


#: Digits before the decimal point a number may have (a revenue in euros has 12 at most;
#: JSON encoders refuse integers of thousands of digits).
MAX_DIGITS = 15


def parse_decimal(value) -> Decimal:
    """A number from an int, a float or text such as "4 200 000,50 €"."""
    if isinstance(value, bool):
        raise ValueError(_("Enter a number, e.g. 4 200 000,50."))
    if isinstance(value, int | Decimal | float):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not number.is_finite() or abs(number) >= Decimal(10) ** MAX_DIGITS:
            raise ValueError(_("This number is too large."))
        return number
    if not isinstance(value, str):
        raise ValueError(_("Enter a number, e.g. 4 200 000,50."))
    text = _SPACES.sub("", value).replace("€", "").removesuffix("EUR").removesuffix("eur")
    if "," in text:
        # A decimal comma: dots, if any, separate thousands ("4.200.000,50").
        text = text.replace(".", "").replace(",", ".", 1) if text.count(",") == 1 else "x"
    elif re.fullmatch(r"-?\d{1,3}(\.\d{3}){2,}", text):
        text = text.replace(".", "")  # "4.200.000": dots as thousands separators
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        raise ValueError(_("Enter a number, e.g. 4 200 000,50."))
    if len(text.lstrip("-").split(".")[0]) > MAX_DIGITS:
        raise ValueError(_("This number is too large."))
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(_("Enter a number, e.g. 4 200 000,50.")) from None


def json_number(number: Decimal) -> int | float:
    """A parsed number as JSON keeps it: a whole number as an int."""
    return int(number) if number == number.to_integral_value() else float(number)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


#: La Poste's establishments share one SIREN whose SIRETs follow another rule.
LA_POSTE_SIREN = "356000000"


def parse_siret(value) -> str:
    """The 14 digits of a SIRET written with or without spaces or dots, checked with
    the Luhn key INSEE uses (La Poste's SIRETs: sum of the digits a multiple of 5)."""
    text = re.sub(r"[\s\u00a0\u202f.\-]", "", str(value))
    if not re.fullmatch(r"\d{14}", text):
        raise ValueError(
            _("A SIRET has 14 digits (spaces allowed), e.g. 824 613 574 00014; %(count)d given.")
            % {"count": sum(c.isdigit() for c in text)}
        )
    valid = (
        sum(int(c) for c in text) % 5 == 0 if text.startswith(LA_POSTE_SIREN) else _luhn_ok(text)
    )
    if not valid:
        raise ValueError(_("This SIRET's check digit is wrong: check the number."))
    return text


def format_decimal(value) -> str:
    """A number as French users write it: "4 200 000,5"."""
    if value is None or value == "":
        return ""
    number = parse_decimal(value)
    sign = "-" if number < 0 else ""
    whole, _dot, fraction = f"{abs(number):f}".partition(".")
    fraction = fraction.rstrip("0")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = "\u00a0".join(groups) or "0"
    return f"{sign}{text},{fraction}" if fraction else f"{sign}{text}"


def format_siret(value: str) -> str:
    """ "824 613 574 00014": SIREN in groups of three, then the NIC."""
    if not value or not re.fullmatch(r"\d{14}", str(value)):
        return str(value or "")
    value = str(value)
    return f"{value[:3]} {value[3:6]} {value[6:9]} {value[9:]}"
