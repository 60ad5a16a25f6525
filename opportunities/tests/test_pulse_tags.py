"""How the screens write figures, dates and ages (style rules in docs/screens.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.safestring import SafeString

from opportunities.models import ChangeEvent
from opportunities.templatetags import pulse


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
    assert pulse.sgd(value) == full
    assert pulse.sgd_short(value) == short


def test_sgd_figure_keeps_the_exact_value_for_everyone() -> None:
    html = pulse.sgd_figure(Decimal("1234567.89"))
    assert 'title="S$1,234,567.89"' in html
    assert '<span class="sr-only">S$1,234,567.89</span>' in html
    assert pulse.sgd_figure(None) == '<span class="muted">—</span>'


def test_local_money_dates_and_percent() -> None:
    assert pulse.local_money(Decimal("125000.5"), "USD") == "USD 125,000.50"
    assert pulse.local_money(None, "USD") == "—"
    assert pulse.day(date(2026, 11, 26)) == "26 Nov 2026"
    assert pulse.day(datetime(2026, 11, 25, 17, 0, tzinfo=UTC)) == "26 Nov 2026"  # SGT
    assert pulse.moment(datetime(2026, 11, 25, 17, 5, tzinfo=UTC)) == "26 Nov 2026, 01:05"
    assert pulse.day(None) == pulse.moment(None) == "—"
    assert pulse.percent(Decimal("0.4567")) == "45.7%"
    assert pulse.percent(None) == "—"


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (10, "just now"),
        (4 * 60, "4 min ago"),
        (3 * 3600, "3 h ago"),
        (5 * 86400, "5 days ago"),
        (-300, "in 5 min"),
    ],
)
def test_ages(seconds: int, words: str) -> None:
    now = timezone.now()
    assert pulse.age_words(now - timedelta(seconds=seconds), now=now) == words


def test_ago_has_the_exact_time_in_its_title() -> None:
    html = pulse.ago(timezone.now() - timedelta(days=9), "old")
    assert "9 days old</time>" in html
    assert 'title="' in html
    assert " SGT" in html
    assert pulse.ago(None) == '<span class="muted">never</span>'


def test_health_badge_is_labelled() -> None:
    assert pulse.health_badge("danger") == '<span class="badge health-danger">Danger</span>'
    assert pulse.health_badge("odd") == '<span class="badge health-odd">odd</span>'


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
    assert pulse.change_value(value, kind) == shown


def test_select_options_marks_the_chosen_value_and_escapes_every_choice() -> None:
    html = str(pulse.select_options(["Closed Won", 'Won <"big">', "Lost"], 'Won <"big">'))
    assert html == (
        '<option value="Closed Won">Closed Won</option>'
        '<option value="Won &lt;&quot;big&quot;&gt;" selected>Won &lt;&quot;big&quot;&gt;</option>'
        '<option value="Lost">Lost</option>'
    )
    assert "selected" not in str(pulse.select_options(["A", "B"], "C"))


def test_field_rows_escape_each_label_and_value_and_mark_pending_ones() -> None:
    html = str(
        pulse.field_rows(
            [
                {"label": "Deal name", "value": "Tom & Jerry <Ltd>", "pending": False},
                {"label": 'Stage "now"', "value": SafeString("<b>kept</b>"), "pending": True},
            ]
        )
    )
    assert html == (
        "<dt>Deal name</dt><dd>Tom &amp; Jerry &lt;Ltd&gt;</dd>"
        "<dt>Stage &quot;now&quot;</dt><dd><b>kept</b>"
        ' <span class="badge badge-pending plain">pending</span></dd>'
    )


def _edit_field(**overrides: object) -> dict[str, object]:
    field: dict[str, object] = {
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
    return {**field, **overrides}


def test_an_edit_field_is_a_labelled_input_with_its_value_escaped() -> None:
    assert str(pulse.edit_field(_edit_field())) == (
        '<div class="field"><label for="edit-probability">Probability (%)</label>'
        '<input id="edit-probability" name="probability" value="5&quot;0" type="text"'
        ' inputmode="decimal"></div>'
    )


def test_an_edit_field_with_errors_points_the_input_at_them() -> None:
    html = str(pulse.edit_field(_edit_field(errors=["Must be 0-100.", "Not <a> number."])))
    assert 'aria-invalid="true" aria-describedby="edit-probability-error"' in html
    assert html.count('id="edit-probability-error"') == 1  # one element the input points at
    assert (
        '<p class="field-error" id="edit-probability-error">'
        "Must be 0-100. Not &lt;a&gt; number.</p>" in html
    )


def test_an_edit_field_shows_a_refusal_only_without_errors_and_marks_pending() -> None:
    refused = str(pulse.edit_field(_edit_field(pending=True, refused="Value <too> high")))
    assert "pending</span></label>" in refused
    assert '<p class="field-note">Zoho refused this value: Value &lt;too&gt; high</p>' in refused
    both = str(pulse.edit_field(_edit_field(refused="Value too high", errors=["Must be 0-100."])))
    assert "field-note" not in both
    assert "field-error" in both


def test_an_edit_field_with_choices_is_a_select_with_the_value_chosen() -> None:
    html = str(
        pulse.edit_field(
            _edit_field(name="currency", label="Currency", value="SGD", choices=["INR", "SGD"])
        )
    )
    assert html == (
        '<div class="field"><label for="edit-currency">Currency</label>'
        '<select id="edit-currency" name="currency"><option value="INR">INR</option>'
        '<option value="SGD" selected>SGD</option></select></div>'
    )


def test_change_rows_write_each_change_as_people_read_it() -> None:
    when = timezone.now() - timedelta(hours=3)
    events = [
        ChangeEvent(
            kind="amount_up",
            old_value="USD 1000.00",
            new_value="USD 2500.50",
            cause="sync",
            occurred_at=when,
        ),
        ChangeEvent(kind="phase_forward", old_value="1", new_value="<3>", cause="local_edit"),
    ]
    html = str(pulse.change_rows(events))
    assert html.count("<tr>") == 2
    first, second = html.split("</tr>")[:2]
    assert f"{pulse.ago(when)}</td>" in first
    assert ">3 h ago</time>" in first
    assert "<td>Amount up</td>" in first
    assert '<td class="tabular">USD 1,000.00</td><td class="tabular">USD 2,500.50</td>' in first
    assert "<td>Zoho sync</td>" in first
    # A value recorded before its format was fixed is shown as stored, escaped.
    assert '<td class="tabular">1 · Opportunity</td><td class="tabular">&lt;3&gt;</td>' in second
    assert str(pulse.change_rows([])) == ""
