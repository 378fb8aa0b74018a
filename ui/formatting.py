"""Numbers, percentages and dates as the interface language writes them (babel, CLDR data):
``54,1`` and ``3 Des 2026`` in Indonesian, ``54.1`` and ``3 Dec 2026`` in English. A missing
value is shown as an en dash, never as ``None`` or ``nan``."""

from __future__ import annotations

import math
from datetime import date, datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

LOCALES = {"id": "id_ID", "en": "en_GB"}
MISSING = "–"


def _locale(lang: str) -> str:
    return LOCALES.get(lang, "en_GB")


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))  # NaN, pandas NA
    except (TypeError, ValueError):
        return False


def number(value: object, lang: str, digits: int = 1) -> str:
    """``value`` rounded to ``digits`` decimals with the language's separators."""
    if _missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(float(value), format=pattern, locale=_locale(lang))


def signed(value: object, lang: str, digits: int = 1) -> str:
    """Like :func:`number` with an explicit sign (+3,5 / -2,0), for changes."""
    if _missing(value):
        return MISSING
    text = number(abs(float(value)), lang, digits)
    # ASCII "-": st.metric reads the sign of a delta from its first character
    return ("+" if float(value) > 0 else "-" if float(value) < 0 else "±") + text


def percent(value: object, lang: str, digits: int = 0) -> str:
    """``value`` given in percent (14.2857 -> "14 %" / "14%")."""
    if _missing(value):
        return MISSING
    return number(value, lang, digits) + "%"


def day(value: date | datetime | None, lang: str) -> str:
    if not isinstance(value, (date, datetime)):
        return MISSING
    return format_date(value, format="medium", locale=_locale(lang))


def moment(value: datetime | None, lang: str) -> str:
    if not isinstance(value, datetime):
        return MISSING
    return format_datetime(value, format="d MMM yyyy HH.mm" if lang == "id" else "d MMM yyyy HH:mm",
                           locale=_locale(lang))


def localise_figure(fig, lang: str):
    """A plotly figure with the language's decimal and thousands separators and numeric dates
    (plotly's month names are English only)."""
    fig.update_layout(separators=",." if lang == "id" else ".,")
    if lang == "id":
        fig.update_xaxes(hoverformat="%d/%m/%Y")
    return fig
