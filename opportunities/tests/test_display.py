"""How the screens write figures, dates, ages and a deal's values (docs/screens.md), and the
small labelled pieces the templates repeat."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.template.loader import get_template
from django.utils import timezone

from opportunities.display import change_value
from opportunities.models import ChangeEvent
from opportunities.views.deal import EditField
from pipeline_pulse import display


@pytest.mark.parametrize(
    ("value", "full", "short"),
    [
        (Decimal("1234567.89"), "S$1,234,567.89", "S$1.2M"),
        (Decimal("12345678.00"), "S$12,345,678.00", "S$12.3M"),
        (Decimal("123456789.00"), "S$123,456,789.00", "S$123M"),
        (Decimal("950000"), "S$950,000.00", "S$950K"),
        (Decimal("1500"), "S$1,500.00", "S$1.5K"),
        (Decimal("999.995"), "S$1,000.00", "S$1K"),
        (Decimal("980"), "S$980.00", "S$980"),
        (Decimal("2500000000"), "S$2,500,000,000.00", "S$2.5B"),
        (Decimal("999950"), "S$999,950.00", "S$1M"),
        (Decimal("99960"), "S$99,960.00", "S$100K"),
        (Decimal("-300.50"), "\u2212S$300.50", "\u2212S$301"),
        (Decimal("0"), "S$0.00", "S$0"),
        (None, "—", "—"),
    ],
)
def test_sgd(value: Decimal | None, full: str, short: str) -> None:
    assert display.sgd(value) == full
    assert display.sgd_short(value) == short


def test_local_money_dates_numbers_and_percent() -> None:
    assert display.local_money(Decimal("125000.5"), "USD") == "USD 125,000.50"
    assert display.local_money(None, "USD") == "—"
    assert display.day(date(2026, 11, 26)) == "26 Nov 2026"
    assert display.day(datetime(2026, 11, 25, 17, 0, tzinfo=UTC)) == "26 Nov 2026"  # SGT
    assert display.moment(datetime(2026, 11, 25, 17, 5, tzinfo=UTC)) == "26 Nov 2026, 01:05"
    assert display.day(None) == display.moment(None) == "—"
    assert display.percent(Decimal("0.4567")) == "45.7%"
    assert display.percent(None) == "—"
    assert display.plain_number(Decimal("83.120000000000000000")) == "83.12"
    assert display.plain_number(Decimal("15800.000000000000000000")) == "15800"
    assert display.plain_number(None) == "—"


@pytest.mark.parametrize(
    ("seconds", "words", "old"),
    [
        (10, "just now", "under 1 min old"),
        (4 * 60, "4 min ago", "4 min old"),
        (3 * 3600, "3 h ago", "3 h old"),
        (5 * 86400, "5 days ago", "5 days old"),
        (-300, "in 5 min", "in 5 min"),
    ],
)
def test_ages(seconds: int, words: str, old: str) -> None:
    now = timezone.now()
    assert display.age_words(now - timedelta(seconds=seconds), now=now) == words
    assert display.age_words(now - timedelta(seconds=seconds), now=now, suffix="old") == old
    assert display.age_words(None) == "never"


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        ("2026-12-01", "closing_date_pushed", "1 Dec 2026"),
        ("12500.00", "new", "S$12,500.00"),
        ("USD 12500.00", "amount_up", "USD 12,500.00"),
        ("INR 1000000.00", "currency_changed", "INR 1,000,000.00"),
        ("12500.00", "amount_down", "12500.00"),  # not in the recorded form: shown as stored
        ("3", "phase_forward", "3 · Proposal"),
        ("won", "won", "Won"),
        ("open", "reopened", "Open"),
        ("", "new", "—"),
        ("not a date", "closing_date_pulled_in", "not a date"),
    ],
)
def test_change_values(value: str, kind: str, shown: str) -> None:
    assert change_value(value, kind) == shown


def _render(source: str, **context: object) -> str:
    return Template("{% load pulse %}" + source).render(Context(context))


def test_sgd_figure_keeps_the_exact_value_for_everyone() -> None:
    html = _render("{% sgd_figure value %}", value=Decimal("1234567.89"))
    assert 'title="S$1,234,567.89"' in html
    assert '<span aria-hidden="true">S$1.2M</span>' in html
    assert '<span class="sr-only">S$1,234,567.89</span>' in html
    assert _render("{% sgd_figure value %}", value=None) == '<span class="muted">—</span>'


def test_ago_has_the_exact_singapore_time_in_its_title() -> None:
    when = datetime(2026, 11, 25, 17, 5, tzinfo=UTC)
    html = _render("{% ago when 'old' %}", when=when)
    assert 'datetime="2026-11-26T01:05:00+08:00"' in html
    assert 'title="26 Nov 2026, 01:05 SGT"' in html
    assert html.endswith(" old</time>")
    assert _render("{% ago when %}", when=None) == '<span class="muted">never</span>'


def test_health_badge_is_labelled() -> None:
    assert _render("{% health_badge 'danger' %}") == (
        '<span class="badge health-danger">Danger</span>'
    )
    assert _render("{% health_badge 'odd' %}") == '<span class="badge health-odd">odd</span>'


def _edit_field(**overrides: object) -> EditField:
    values: dict[str, object] = {
        "name": "probability",
        "label": "Probability (%)",
        "input_type": "text",
        "decimal": True,
        "value": '5"0',
        "errors": [],
        "pending": False,
        "refused": "",
        "choices": None,
    }
    return EditField(**{**values, **overrides})  # type: ignore[arg-type]


def _field_html(field: EditField) -> str:
    html = get_template("opportunities/deal.html#edit-field").render({"field": field})
    return " ".join(html.split())


def test_an_edit_field_is_a_labelled_input_with_its_value_escaped() -> None:
    html = _field_html(_edit_field())
    assert '<label for="edit-probability">Probability (%)</label>' in html
    assert (
        '<input id="edit-probability" name="probability" value="5&quot;0" type="text"'
        ' inputmode="decimal">' in html
    )
    assert "aria-invalid" not in html


def test_an_edit_field_with_errors_points_the_input_at_them() -> None:
    html = _field_html(_edit_field(errors=["Must be 0-100.", "Not <a> number."]))
    assert 'aria-invalid="true" aria-describedby="edit-probability-error"' in html
    assert html.count('id="edit-probability-error"') == 1  # one element the input points at
    assert "Must be 0-100. Not &lt;a&gt; number.</p>" in html


def test_an_edit_field_shows_a_refusal_only_without_errors_and_marks_pending() -> None:
    refused = _field_html(_edit_field(pending=True, refused="Value <too> high"))
    assert "pending</span></label>" in refused
    assert '<p class="field-note">Zoho refused this value: Value &lt;too&gt; high</p>' in refused
    both = _field_html(_edit_field(refused="Value too high", errors=["Must be 0-100."]))
    assert "field-note" not in both
    assert "field-error" in both


def test_an_edit_field_with_choices_is_a_select_with_the_value_chosen() -> None:
    html = _field_html(
        _edit_field(name="currency", label="Currency", value="SGD", choices=["INR", "S<G>D"])
    )
    assert '<select id="edit-currency" name="currency">' in html
    assert '<option value="INR">INR</option>' in html
    assert '<option value="S&lt;G&gt;D">S&lt;G&gt;D</option>' in html
    assert "selected" not in html
    chosen = _field_html(_edit_field(name="currency", value="SGD", choices=["INR", "SGD"]))
    assert '<option value="SGD" selected>SGD</option>' in chosen


def test_a_change_row_reads_as_people_read_it() -> None:
    event = ChangeEvent(
        kind="phase_forward",
        old_value="1",
        new_value="<3>",
        cause="local_edit",
        occurred_at=timezone.now() - timedelta(hours=3),
    )
    html = _render(
        "{{ e.old_value|change_value:e.kind }}|{{ e.new_value|change_value:e.kind }}", e=event
    )
    # A value recorded before its format was fixed is shown as stored, escaped.
    assert html == "1 · Opportunity|&lt;3&gt;"
