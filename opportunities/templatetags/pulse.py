"""How the screens show figures: SGD and local money, dates, ages, health badges.

One place for the style rules (docs/screens.md): `S$1,234,567.89`, or `S$1.2M` with the exact
value in a `title` and in visually hidden text; local amounts with their ISO code; dates as
`26 Nov 2026`; ages as "4 min ago" with the exact time in a `title`.
"""

from __future__ import annotations

import html
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from opportunities.deal_fields import FIELDS_BY_NAME, FieldKind
from opportunities.merge import python_value
from opportunities.models import ChangeEvent, HealthStatus, Opportunity, Outcome, Phase

register = template.Library()

CENT = Decimal("0.01")
MINUS = "\u2212"  # a real minus sign: the same width as the digits in tabular figures


def _grouped(value: Decimal, places: int = 2) -> str:
    quantum = Decimal(1).scaleb(-places)
    return f"{abs(value).quantize(quantum, ROUND_HALF_UP):,.{places}f}"


@register.filter
def sgd(value: Decimal | int | None) -> str:
    """S$1,234,567.89 (a minus sign in front of the symbol for a negative amount)."""
    if value is None:
        return "—"
    amount = Decimal(value)
    return f"{MINUS if amount < 0 else ''}S${_grouped(amount)}"


_UNITS = ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(1000), "K"), (Decimal(1), ""))


def _scaled(size: Decimal, index: int) -> str:
    threshold, suffix = _UNITS[index]
    scaled = size / threshold
    places = 0 if scaled >= 100 or not suffix else 1
    text = f"{scaled.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):,.{places}f}"
    return text.removesuffix(".0") + suffix


@register.filter
def sgd_short(value: Decimal | int | None) -> str:
    """S$12.3M, S$450K, S$980: three significant figures at most, for KPIs and charts."""
    if value is None:
        return "—"
    amount = Decimal(value)
    sign, size = (MINUS if amount < 0 else ""), abs(amount).quantize(Decimal(1), ROUND_HALF_UP)
    index = next(i for i, (threshold, _) in enumerate(_UNITS) if size >= threshold or i == 3)
    text = _scaled(size, index)
    # 999,950 rounds to "1000K": say "1M" instead.
    if index and Decimal(text.rstrip("BMK").replace(",", "")) >= 1000:
        text = _scaled(size, index - 1)
    return f"{sign}S${text}"


@register.simple_tag
def sgd_figure(value: Decimal | int | None) -> SafeString:
    """An abbreviated SGD figure that still says its exact value to the cent.

    Sighted users get the short figure and the exact one on hover; screen readers read the
    exact one only.
    """
    if value is None:
        return format_html('<span class="muted">{}</span>', "—")
    exact = sgd(value)
    return format_html(
        '<span class="figure" title="{}"><span aria-hidden="true">{}</span>'
        '<span class="sr-only">{}</span></span>',
        exact,
        sgd_short(value),
        exact,
    )


@register.simple_tag
def local_money(amount: Decimal | None, currency: str) -> str:
    """USD 125,000.00: a deal's own amount with its ISO code."""
    if amount is None:
        return "—"
    return f"{currency} {_grouped(Decimal(amount))}"


@register.filter
def day(value: date | datetime | None) -> str:
    """26 Nov 2026 (a datetime is shown as its Singapore day)."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = timezone.localtime(value).date()
    return f"{value.day} {value:%b %Y}"


@register.filter
def moment(value: datetime | None) -> str:
    """26 Nov 2026, 14:03 in Singapore time."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return f"{local.day} {local:%b %Y, %H:%M}"


def age_words(value: datetime, *, now: datetime | None = None, suffix: str = "ago") -> str:
    """4 min ago, 3 h ago, 12 days ago ("old" instead of "ago" for a thing's age); "just now"
    under a minute; "in 5 min" for a time ahead."""
    seconds = int(((now or timezone.now()) - value).total_seconds())
    ahead, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        return "just now" if suffix == "ago" else "under 1 min old"
    if seconds < 3600:
        text = f"{seconds // 60} min"
    elif seconds < 48 * 3600:
        text = f"{seconds // 3600} h"
    else:
        days = seconds // 86400
        text = f"{days} days"
    return f"in {text}" if ahead else f"{text} {suffix}"


@register.simple_tag
def ago(value: datetime | None, suffix: str = "ago") -> SafeString:
    """<time> with the age as text and the exact Singapore time in its title."""
    if value is None:
        return _markup('<span class="muted">never</span>')
    # Not format_html: a deal's history shows up to 100 of these, and its escaping of each
    # value was a third of the tag's cost.
    return _markup(
        f'<time datetime="{_html(value.isoformat())}" title="{_html(moment(value))} SGT">'
        f"{_html(age_words(value, suffix=suffix))}</time>"
    )


@register.simple_tag
def health_badge(status: str, label: str = "") -> SafeString:
    """The labelled health badge: colour never stands alone."""
    try:
        name = label or HealthStatus(status).label
    except ValueError:
        name = label or status
    return format_html('<span class="badge health-{}">{}</span>', status, name)


def _html(value: object) -> str:
    """`value` as HTML text: Django's conditional_escape, without the lazy-string checks and
    SafeString wrapping it repeats for every value (about ten Python calls where this
    makes two). For the tags below, which write many small values and mark the whole
    result safe once."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


def _markup(text: str) -> SafeString:
    """The markup the tags below wrote, marked safe: every value in it went through
    `_html`, and the rest is the tags' own constant HTML."""
    return SafeString(text)  # nosec B703  (see above: the one place these tags mark safe)


@register.simple_tag
def select_options(choices: list[str], selected: str) -> SafeString:
    """A select's `<option>` elements, the `selected` value marked.

    One tag instead of a template loop: the deal page's edit form has some thirty options,
    and a loop with a comparison in each was about 6% of the page's rendering (counted in
    Python calls).
    """
    options = []
    for choice in choices:
        text = _html(choice)
        marked = " selected" if choice == selected else ""
        options.append(f'<option value="{text}"{marked}>{text}</option>')
    return _markup("".join(options))


PENDING_BADGE = ' <span class="badge badge-pending plain">pending</span>'


@register.simple_tag
def field_rows(rows: list[dict[str, Any]]) -> SafeString:
    """A definition list's `<dt>`/`<dd>` pairs: each row's label and value, and a "pending"
    badge where the value is changed here and not yet in Zoho.

    One tag instead of a template loop: the deal page lists some forty CRM fields, and
    the loop was about a tenth of the page's rendering (docs/benchmarks.md).
    """
    return _markup(
        "".join(
            f"<dt>{_html(row['label'])}</dt>"
            f"<dd>{_html(row['value'])}{PENDING_BADGE if row['pending'] else ''}</dd>"
            for row in rows
        )
    )


@register.simple_tag
def edit_field(field: dict[str, Any]) -> SafeString:
    """One field of the deal page's edit form: its label, its input or select, and what is
    wrong with the value or what Zoho refused.

    The field is a dict of opportunities.views.deal._edit_fields. A tag rather than template
    markup: the ten fields were about a quarter of the page's rendering, most of it in
    looking up and escaping the same few names again and again (docs/benchmarks.md).
    """
    name = _html(field["name"])
    control_id = f"edit-{name}"
    error_id = f"{control_id}-error"
    errors = field["errors"]
    described = f' aria-invalid="true" aria-describedby="{error_id}"' if errors else ""
    if field["choices"] is not None:
        options = select_options(field["choices"], field["value"])
        control = f'<select id="{control_id}" name="{name}"{described}>{options}</select>'
    else:
        decimal = ' inputmode="decimal"' if field["decimal"] else ""
        control = (
            f'<input id="{control_id}" name="{name}" value="{_html(field["value"])}"'
            f' type="{_html(field["input_type"])}"{decimal}{described}>'
        )
    if errors:
        note = f'<p class="field-error" id="{error_id}">{_html(" ".join(errors))}</p>'
    elif field["refused"]:
        note = f'<p class="field-note">Zoho refused this value: {_html(field["refused"])}</p>'
    else:
        note = ""
    pending = PENDING_BADGE if field["pending"] else ""
    return _markup(
        f'<div class="field"><label for="{control_id}">{_html(field["label"])}{pending}</label>'
        f"{control}{note}</div>"
    )


@register.simple_tag
def change_rows(events: list[ChangeEvent]) -> SafeString:
    """The rows of a deal's change history: when, what changed, from, to, and by what.

    One tag instead of a template loop: a deal shows its newest 100 changes, and at about
    350 Python calls a row in the template, a deal with a long history took twice as long
    to draw as one without (docs/benchmarks.md).
    """
    rows = []
    for event in events:
        rows.append(
            f'<tr><td class="nowrap">{ago(event.occurred_at)}</td>'
            f"<td>{_html(event.get_kind_display())}</td>"
            f'<td class="tabular">{_html(change_value(event.old_value, event.kind))}</td>'
            f'<td class="tabular">{_html(change_value(event.new_value, event.kind))}</td>'
            f"<td>{_html(event.get_cause_display())}</td></tr>"
        )
    return _markup("".join(rows))


@register.filter
def percent(value: Decimal | None) -> str:
    """A ratio (0.4567) as 45.7%."""
    if value is None:
        return "—"
    return f"{(Decimal(value) * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"


@register.filter
def get_item(mapping: dict[str, object], key: str) -> object:
    return mapping.get(key)


_DATE_KINDS = {"closing_date_pushed", "closing_date_pulled_in"}
_SGD_KINDS = {"new"}
# Amount events keep the deal's own amount with its code ("USD 1000.00"): shown as money.
_OWN_MONEY_KINDS = {"amount_up", "amount_down", "currency_changed"}
_PHASE_KINDS = {"phase_forward", "phase_backward"}


@register.filter
def change_value(value: str, kind: str) -> str:
    """A change event's old or new value as people read it: a date, S$, a phase, an outcome."""
    if not value:
        return "—"
    try:
        if kind in _DATE_KINDS:
            return day(date.fromisoformat(value))
        if kind in _SGD_KINDS:
            return sgd(Decimal(value))
        if kind in _OWN_MONEY_KINDS:
            code, amount = value.split(" ", 1)
            return local_money(Decimal(amount), code)
        if kind in _PHASE_KINDS:
            return f"{value} · {Phase(int(value)).label}"
        if kind in Outcome.values or kind == "reopened":
            return str(Outcome(value).label)
    except (ValueError, ArithmeticError):
        pass  # a value recorded before its format was fixed: shown as it was stored
    return value


def field_value(deal: Opportunity, name: str, value: Any) -> str:
    """A tracking field's value (Python or its stored JSON form) as people read it, amounts
    in the deal's currency."""
    if value is None or value == "":
        return "—"
    kind = FIELDS_BY_NAME[name].kind
    try:
        value = python_value(name, value)
    except (ValueError, TypeError, InvalidOperation):
        return str(value)  # kept as stored: a value that no longer parses is still shown
    if kind is FieldKind.DATE and isinstance(value, date):
        return day(value)
    if kind is FieldKind.MONEY and isinstance(value, Decimal):
        return local_money(value, deal.currency)
    if kind is FieldKind.PERCENT:
        return f"{value}%"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
