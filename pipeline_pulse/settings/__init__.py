"""Settings for every environment, read from environment variables only.

.env.example lists every variable and docs/configuration.md explains each. One module per
concern, composed here in order: a later module may read what an earlier one set (each
imports what it needs by name).
"""

from pipeline_pulse.settings.api import *  # noqa: F403
from pipeline_pulse.settings.backing import *  # noqa: F403
from pipeline_pulse.settings.core import *  # noqa: F403
from pipeline_pulse.settings.database import *  # noqa: F403
from pipeline_pulse.settings.email import *  # noqa: F403
from pipeline_pulse.settings.environment import *  # noqa: F403
from pipeline_pulse.settings.integrations import *  # noqa: F403
from pipeline_pulse.settings.observability import *  # noqa: F403
from pipeline_pulse.settings.product import *  # noqa: F403
from pipeline_pulse.settings.security import *  # noqa: F403
from pipeline_pulse.settings.tasks import *  # noqa: F403
