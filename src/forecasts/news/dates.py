"""Reading the dates feeds give, strictly: a date that cannot be read in full is None,
never filled in from today.

feedparser's own ``*_parsed`` values are not used: its ISO 8601 reader fills a missing
month or day from the current date (``2020/1/10 14:33:00`` became 1 December 2020), and
it reads RFC 822 dates in English only. ``parse_date`` accepts:

- RFC 822 / RFC 2822 (``Thu, 26 Nov 2026 10:00:00 GMT``), with month names in English
  or in the common European languages, Russian and Ukrainian included
  (``Seg, 24 Set 2018 19:42:40 -0300``, ``Пн, 24 сен 2018 19:42:40 +0300``); the day
  name is ignored;
- ISO 8601 / RFC 3339 (``2026-11-27T08:30:00Z``, ``2026-11-27 08:30``,
  ``2026-11-27``), as used by Atom;
- year first with slashes (``2020/1/10 14:33:00``, ``2020/01/10``);
- anything else the standard library's RFC 2822 reader takes in full (``asctime``).

A date without a time zone is in ``default_tz`` (UTC unless the feed's settings say
otherwise). A date without a time is 00:00 of that day.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import functools
import re
from zoneinfo import ZoneInfo

# Month names, case-folded and without dots, from the Unicode CLDR (v49, read through
# Babel 2.19) for English, German, French, Spanish, Portuguese, Italian, Dutch, Russian,
# Ukrainian, Belarusian, Polish, Czech, Slovak, Swedish, Danish, Norwegian, Finnish,
# Romanian, Hungarian, Greek, Bulgarian, Turkish, Catalan, Lithuanian, Latvian, Estonian
# and Slovenian: wide and abbreviated, in their format (genitive) and stand-alone forms.
# No form means two different months in two of these languages (Croatian would:
# "listopad" is its October and Czech and Polish November, so it is left out).
_MONTHS = (
    # 1
    "january jan januar janvier janv enero ene janeiro gennaio gen januari января "
    "янв январь січня січ січень студзеня сту студзень stycznia sty styczeń ledna "
    "led leden januára január tammikuuta tammi tammikuu ianuarie ian ιανουαρίου ιαν "
    "ιανουάριοσ януари яну ocak oca gener sausio saus sausis janvāris jaanuar jaan ",
    # 2
    "february feb februar février févr febrero fevereiro fev febbraio februari "
    "февраля февр февраль лютого лют лютий лютага люты lutego lut luty února úno "
    "únor februára február helmikuuta helmi helmikuu februarie febr φεβρουαρίου φεβ "
    "φεβρουάριοσ февруари фев şubat şub febrer vasario vas vasaris februāris "
    "veebruar veebr ",
    # 3
    "march mar märz mär mars marzo março maart mrt марта мар март березня бер "
    "березень сакавіка сак сакавік marca marzec března bře březen marec marts "
    "maaliskuuta maalis maaliskuu martie március márc μαρτίου μαρ μάρτιοσ μάρ mart "
    "març kovo kov kovas märts ",
    # 4
    "april apr avril avr abril abr aprile апреля апр апрель квітня квіт квітень "
    "красавіка кра красавік kwietnia kwi kwiecień dubna dub duben apríla apríl "
    "huhtikuuta huhti huhtikuu aprilie április ápr απριλίου απρ απρίλιοσ април nisan "
    "nis d’abril d’abr balandžio bal balandis aprīlis aprill ",
    # 5
    "may mai mayo maio maggio mag mei мая май травня трав травень maja maj května "
    "kvě květen mája máj toukokuuta touko toukokuu május μαΐου μαΐ μάιοσ μάι "
    "mayıs maig gegužės geg gegužė maijs ",
    # 6
    "june jun juni juin junio junho giugno giu июня июн июнь червня черв червень "
    "чэрвеня чэр чэрвень czerwca cze czerwiec června čvn červen júna jún kesäkuuta "
    "kesä kesäkuu iunie iun június ιουνίου ιουν ιούνιοσ ιούν юни haziran haz juny "
    "birželio birž birželis jūnijs jūn juuni junij ",
    # 7
    "july jul juli juillet juil julio julho luglio lug июля июл июль липня лип "
    "липень ліпеня ліп ліпень lipca lip lipiec července čvc červenec júla júl "
    "heinäkuuta heinä heinäkuu iulie iul július ιουλίου ιουλ ιούλιοσ ιούλ юли temmuz "
    "tem juliol liepos liep liepa jūlijs jūl juuli julij ",
    # 8
    "august aug août agosto ago augustus августа авг август серпня серп серпень "
    "жніўня жні жнівень sierpnia sie sierpień srpna srp srpen augusta augusti "
    "elokuuta elo elokuu augusztus αυγούστου αυγ αύγουστοσ αύγ ağustos ağu d’agost "
    "d’ag agost ag rugpjūčio rugp rugpjūtis augusts avgust avg ",
    # 9
    "september sep sept septembre septiembre setembro set settembre сентября сент "
    "сентябрь вересня вер вересень верасня верасень września wrz wrzesień září zář "
    "septembra syyskuuta syys syyskuu septembrie szeptember szept σεπτεμβρίου σεπ "
    "σεπτέμβριοσ септември сеп eylül eyl setembre rugsėjo rugs rugsėjis septembris ",
    # 10
    "october oct oktober okt octobre octubre outubro out ottobre ott октября окт "
    "октябрь жовтня жовт жовтень кастрычніка кас кастрычнік października paź "
    "październik října říj říjen októbra október lokakuuta loka lokakuu octombrie "
    "οκτωβρίου οκτ οκτώβριοσ октомври ekim eki d’octubre d’oct spalio spal spalis "
    "oktobris oktoober ",
    # 11
    "november nov novembre noviembre novembro ноября нояб ноябрь листопада лист "
    "листопад лістапада ліс лістапад listopada lis listopad listopadu novembra "
    "marraskuuta marras marraskuu noiembrie νοεμβρίου νοε νοέμβριοσ νοέ ноември ное "
    "kasım kas lapkričio lapkr lapkritis novembris ",
    # 12
    "december dec dezember dez décembre déc diciembre dic dezembro dicembre декабря "
    "дек декабрь грудня груд грудень снежня сне снежань grudnia gru grudzień "
    "prosince pro prosinec decembra desember des joulukuuta joulu joulukuu decembrie "
    "δεκεμβρίου δεκ δεκέμβριοσ декември aralık ara desembre gruodžio gruod gruodis "
    "decembris detsember dets ",
)

_ENGLISH = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
#: Shortest abbreviation read by its first letters when it is not a CLDR form
#: (feeds write "Сен" and "Ноя" where CLDR has "сент" and "нояб").
_MIN_PREFIX = 3

_RFC822_RE = re.compile(
    r"""^\s*
    (?:[^\W\d_]+\.?\s*,?\s*)?                  # day name, ignored
    (?P<day>\d{1,2})\.?\s+
    (?P<month>[^\W\d_]+)\.?,?\s+
    (?P<year>\d{4}|\d{2}),?
    (?:\s+(?P<time>\d{1,2}:\d{2}(?::\d{2})?))?
    (?P<zone>\s+\S+)?\s*$""",
    re.VERBOSE,
)
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?")
_SLASH_RE = re.compile(
    r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})"
    r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?\s*$"
)


@functools.cache
def _month_forms() -> dict[str, int]:
    return {word: i for i, words in enumerate(_MONTHS, 1) for word in words.split()}


@functools.cache
def month_number(name: str) -> int | None:
    """The month a name or abbreviation means, in any of the languages above; None if
    unknown or ambiguous."""
    word = name.casefold().replace(".", "")
    forms = _month_forms()
    if word in forms:
        return forms[word]
    if len(word) < _MIN_PREFIX:
        return None
    found = {m for form, m in forms.items() if form.startswith(word)}
    return found.pop() if len(found) == 1 else None


def parse_date(value: str | None, *, default_tz: dt.tzinfo = dt.UTC) -> dt.datetime | None:
    """An aware UTC datetime from a feed's date string, or None when it cannot be read
    in full (a missing day, month or year is never filled in)."""
    if not value or not value.strip():
        return None
    text = " ".join(value.split())
    m = _RFC822_RE.match(text)
    when = _rfc822(m) if m else _iso(text) or _slashed(text) or _stdlib(text)
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=default_tz)
    return when.astimezone(dt.UTC)


def _rfc822(m: re.Match[str]) -> dt.datetime | None:
    month = month_number(m["month"])
    if month is None:
        return None
    # Rewritten in English for the standard library's RFC 2822 reader (zones, 2-digit
    # years, "-0000" meaning no zone).
    zone = (m["zone"] or "").strip()
    zone = _ZONES.get(zone.upper(), zone)
    english = f"{m['day']} {_ENGLISH[month - 1]} {m['year']} {m['time'] or '00:00'} {zone}"
    when = _stdlib(english)
    if when is not None and when.tzinfo is None and zone not in ("", "-0000"):
        return None  # a zone we cannot read: better unknown than hours off
    return when


#: Zone names feeds use that the standard library does not know (it knows UT, GMT, Z
#: and the North American ones). Only names that mean one offset.
_ZONES = {
    "MSK": "+0300",
    "WET": "+0000",
    "WEST": "+0100",
    "BST": "+0100",
    "CET": "+0100",
    "CEST": "+0200",
    "EET": "+0200",
    "EEST": "+0300",
    "JST": "+0900",
    "KST": "+0900",
    "HKT": "+0800",
    "SGT": "+0800",
}


def _stdlib(text: str) -> dt.datetime | None:
    """The standard library's RFC 2822 reader, which never fills in a missing part."""
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _iso(text: str) -> dt.datetime | None:
    if not _ISO_RE.match(text):
        return None
    try:
        return dt.datetime.fromisoformat(text.replace(",", ".").replace("z", "Z"))
    except ValueError:
        return None


def _slashed(text: str) -> dt.datetime | None:
    m = _SLASH_RE.match(text)
    if m is None:
        return None
    try:
        return dt.datetime(
            int(m["y"]), int(m["m"]), int(m["d"]),
            int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0),
        )  # fmt: skip
    except ValueError:
        return None


def time_zone(name: str) -> ZoneInfo:
    """An IANA time zone by name (``Asia/Shanghai``); ValueError if unknown."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        raise ValueError(f"{name!r} is not a known time zone (e.g. Asia/Shanghai)") from None
