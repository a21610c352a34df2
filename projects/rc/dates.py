"""French dates and times as RCs write them, made ISO 8601 in Europe/Paris.

"vendredi 7 mars 2025 à 12h00", "15/04/2025 à 12:00", "le 18 avril 2025 A 12 HEURES
00", "21h00", "16 heures", "12 h 30", "midi". Matching runs on folded text (``fold``),
so offsets are the original's.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

MONTHS = {
    "janvier": 1,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
}
_WEEKDAY = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)"
_DATE = re.compile(
    rf"(?:{_WEEKDAY}\s+)?"
    rf"(?:(?P<day>\d{{1,2}}|1er)\s+(?P<month>{'|'.join(MONTHS)})\s+(?P<year>\d{{4}})"
    r"|(?P<d>\d{1,2})\s*[/.-]\s*(?P<m>\d{1,2})\s*[/.-]\s*(?P<y>\d{4}|\d{2})(?!\d))"
)
_TIME = re.compile(
    r"(?P<hour>\d{1,2})\s*(?:h|heures?|:)\s*(?P<minute>\d{2})?(?![\d])(?!\s*(?:jours?|mois|semaines?|ans?)\b)"
    r"|(?P<noon>\bmidi\b)"
)
#: Between a date and its time: "à", ",", "-", "avant", "jusqu'à", "(heure de Paris)"…
_BETWEEN = re.compile(
    r"^[\s,;:\-]*(?:a|avant|jusqu'a|au plus tard a|,|-|heure limite\s*:?)?[\s,:\-]*$"
)


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int  # end of the time when there is one
    value: datetime.date
    time: datetime.time | None

    def iso(self) -> str:
        if self.time is None:
            return self.value.isoformat()
        moment = datetime.datetime.combine(self.value, self.time, tzinfo=PARIS)
        return moment.isoformat()

    def aware(self) -> datetime.datetime | None:
        if self.time is None:
            return None
        return datetime.datetime.combine(self.value, self.time, tzinfo=PARIS)


def _date(match: re.Match) -> datetime.date | None:
    try:
        if match.group("month"):
            day = 1 if match.group("day") == "1er" else int(match.group("day"))
            return datetime.date(int(match.group("year")), MONTHS[match.group("month")], day)
        year = int(match.group("y"))
        if year < 100:
            year += 2000
        return datetime.date(year, int(match.group("m")), int(match.group("d")))
    except ValueError:
        return None


def find_dates(folded: str) -> list[DateMention]:
    """Every date of ``folded`` (a folded line), each with the time written just after
    it, if any."""
    found = []
    for match in _DATE.finditer(folded):
        value = _date(match)
        if value is None:
            continue
        end, time = match.end(), None
        following = folded[match.end() : match.end() + 40]
        for time_match in _TIME.finditer(following):
            if not _BETWEEN.match(following[: time_match.start()]):
                break
            parsed = _time(time_match)
            if parsed is not None:
                time, end = parsed, match.end() + time_match.end()
            break
        found.append(DateMention(match.start(), end, value, time))
    return found


def _time(match: re.Match) -> datetime.time | None:
    if match.group("noon"):
        return datetime.time(12, 0)
    hour, minute = int(match.group("hour")), int(match.group("minute") or 0)
    if hour > 23 or minute > 59:
        return None
    return datetime.time(hour, minute)


def find_time(folded: str) -> tuple[int, int, datetime.time] | None:
    """A time on its own (a line "Heure limite : 16 heures" after the date's line)."""
    for match in _TIME.finditer(folded):
        parsed = _time(match)
        if parsed is not None:
            return match.start(), match.end(), parsed
    return None
