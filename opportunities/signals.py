"""What the opportunities app announces to the apps built on it (opportunities imports none).

`local_edits_saved` is sent after the commit of local edits that are waiting to be pushed to
the CRM, with `ids` (the deals' primary keys); the sync app listens and queues a push.
"""

from django.dispatch import Signal

local_edits_saved = Signal()
