"""The pipeline review pages' and API's parameters, checked once for both."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms

from currency.codes import is_iso_code
from opportunities.pipeline_review.quarters import (
    parse_quarter,
)
from opportunities.pipeline_review.waterfall import (
    STEPS,
)
from opportunities.pipeline_review.what_if import (
    MAX_WHATIF_PERCENT,
)
from pipeline_pulse.dates import (
    quarter_bounds,
    validate_business_date,
)

# The review's own parameters; every other one is a board filter (DealFilter).
# (The what-if's are fx_currency and fx_percent: `currency` is the board's currency filter.)
REVIEW_PARAMS = ("quarter", "start", "end", "step", "fx_currency", "fx_percent", "page")


class ReviewForm(forms.Form):
    """The review's query string, for pages, exports and the API alike (errors name the
    parameter). Defaults: this quarter; the waterfall from the quarter's first day (or today,
    for a quarter still to come) to today."""

    quarter = forms.CharField(required=False, max_length=16)
    start = forms.DateField(required=False, validators=[validate_business_date])
    end = forms.DateField(required=False, validators=[validate_business_date])
    step = forms.ChoiceField(required=False, choices=[(s, s) for s in (*STEPS, "unexplained")])
    fx_currency = forms.CharField(required=False, max_length=3)
    fx_percent = forms.DecimalField(
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("-99.99"),
        max_value=MAX_WHATIF_PERCENT,
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_quarter(self) -> tuple[date, date]:
        text = self.cleaned_data.get("quarter") or ""
        if not text.strip():
            return quarter_bounds(self.today)
        try:
            return parse_quarter(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None

    def clean_fx_currency(self) -> str:
        code = (self.cleaned_data.get("fx_currency") or "").strip().upper()
        if code and not is_iso_code(code):
            raise forms.ValidationError("Not an ISO 4217 currency code.", code="invalid")
        if code == "SGD":
            raise forms.ValidationError(
                "SGD is the currency everything is shown in; choose another.", code="invalid"
            )
        return code

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        quarter = cleaned.get("quarter")
        if quarter is None:
            return cleaned
        if not cleaned.get("start") and "start" not in self.errors:
            cleaned["start"] = min(quarter[0], self.today)
        if not cleaned.get("end") and "end" not in self.errors:
            cleaned["end"] = self.today
        start, end = cleaned.get("start"), cleaned.get("end")
        if end and end > self.today:
            self.add_error("end", "The end cannot be after today: there is no history yet.")
        elif start and end and end < start:
            self.add_error("end", "The end is before the start.")
        currency, percent = cleaned.get("fx_currency"), cleaned.get("fx_percent")
        if currency and percent is None and "fx_percent" not in self.errors:
            self.add_error("fx_percent", "Say by how many percent the rate moves, e.g. -5.")
        if percent is not None and not currency and "fx_currency" not in self.errors:
            self.add_error("fx_currency", "Choose the currency whose rate moves.")
        return cleaned
