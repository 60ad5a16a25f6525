"""The screens' formats as template filters, and the small labelled pieces they repeat.

Formats come from pipeline_pulse.display and opportunities.display; the markup of a badge, a
short SGD figure or an age lives in templates/opportunities/tags/.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import template

from opportunities import display as deal_display
from opportunities.models import HealthStatus
from pipeline_pulse import display
from pipeline_pulse.dates import quarter_label

register = template.Library()

register.filter("sgd", display.sgd)
register.filter("sgd_short", display.sgd_short)
register.filter("day", display.day)
register.filter("moment", display.moment)
register.filter("percent", display.percent)
register.filter("change_value", deal_display.change_value)
register.simple_tag(display.local_money, name="local_money")


@register.filter
def quarter(value: date | None) -> str:
    """ "Q4 2026": the calendar quarter a date falls in; a dash for none."""
    return "—" if value is None else quarter_label(value)


@register.filter
def get_item(mapping: dict[str, object], key: str) -> object:
    return mapping.get(key)


@register.inclusion_tag("opportunities/tags/sgd_figure.html")
def sgd_figure(value: Decimal | int | None) -> dict[str, Any]:
    """An abbreviated SGD figure that still says its exact value to the cent: sighted users get
    the short figure and the exact one on hover, screen readers the exact one only."""
    return {"short": display.sgd_short(value), "exact": display.sgd(value), "value": value}


@register.inclusion_tag("opportunities/tags/ago.html")
def ago(value: datetime | None, suffix: str = "ago") -> dict[str, Any]:
    """<time> with the age as text and the exact Singapore time in its title."""
    return {
        "value": value,
        "words": display.age_words(value, suffix=suffix),
        "exact": display.moment(value),
    }


@register.inclusion_tag("opportunities/tags/health_badge.html")
def health_badge(status: str, label: str = "") -> dict[str, str]:
    """The labelled health badge: colour never stands alone."""
    try:
        name = label or str(HealthStatus(status).label)
    except ValueError:
        name = label or status
    return {"status": status, "label": name}
