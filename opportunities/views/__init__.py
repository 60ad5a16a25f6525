"""The deal screens: dashboard, health board, what changed, pipeline review and the deal page.

One view per page; an HTMX request gets the page's named partial, any other the whole page
(pipeline_pulse.web.fragments.render_page). Every view reads through opportunities.access, so a
rep sees only their own deals and gets 404 for anyone else's.
"""

from opportunities.views.board import board
from opportunities.views.changes import changes
from opportunities.views.dashboard import dashboard
from opportunities.views.deal import conflict_decide, deal_detail, deal_history, refused_decide
from opportunities.views.pipeline_review import forecast_page, waterfall_page

__all__ = [
    "board",
    "changes",
    "conflict_decide",
    "dashboard",
    "deal_detail",
    "deal_history",
    "forecast_page",
    "refused_decide",
    "waterfall_page",
]
