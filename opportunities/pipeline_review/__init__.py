"""Pipeline review reads: a quarter's forecast by category, owner and territory, the waterfall
of a quarter's open pipeline over a period (from the pipeline ledger), and the FX what-if.

Each takes the deals a login may see (access.deals_visible_to, through the board's filters)
and answers in exact SGD: sums of two-decimal amounts, never rounded twice, so rows add up to
their totals and the waterfall's steps to its two ends, to the cent.
"""

from __future__ import annotations

from opportunities.pipeline_review.categories import (
    CATEGORY_ORDER,
    OPEN_CATEGORY_VALUES,
    ZOHO_OPEN_CATEGORIES,
    category_by_probability,
    forecast_category_expression,
    forecast_category_of,
    stage_categories,
    with_forecast_category,
)
from opportunities.pipeline_review.forecast import (
    CENT,
    ZERO,
    Cell,
    Forecast,
    ForecastRow,
    forecast,
)
from opportunities.pipeline_review.params import (
    REVIEW_PARAMS,
    ReviewForm,
)
from opportunities.pipeline_review.quarters import (
    parse_quarter,
    quarter_code,
    quarter_label,
)
from opportunities.pipeline_review.waterfall import (
    FIRST_SYNC_WINDOW,
    STEP_LABELS,
    STEPS,
    LedgerState,
    Waterfall,
    waterfall,
)
from opportunities.pipeline_review.what_if import (
    MAX_WHATIF_PERCENT,
    Figure,
    WhatIf,
    deals_of,
    fx_what_if,
)

__all__ = [
    "CATEGORY_ORDER",
    "CENT",
    "FIRST_SYNC_WINDOW",
    "MAX_WHATIF_PERCENT",
    "OPEN_CATEGORY_VALUES",
    "REVIEW_PARAMS",
    "STEPS",
    "STEP_LABELS",
    "ZERO",
    "ZOHO_OPEN_CATEGORIES",
    "Cell",
    "Figure",
    "Forecast",
    "ForecastRow",
    "LedgerState",
    "ReviewForm",
    "Waterfall",
    "WhatIf",
    "category_by_probability",
    "deals_of",
    "forecast",
    "forecast_category_expression",
    "forecast_category_of",
    "fx_what_if",
    "parse_quarter",
    "quarter_code",
    "quarter_label",
    "stage_categories",
    "waterfall",
    "with_forecast_category",
]
