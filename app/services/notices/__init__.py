"""Who is told what (README "Notifications"): the notices every workflow sends through app.services.notifications.

`receivers` holds the receivers app.reactions connects (each records its notices' jobs in the change's
transaction); the builders that turn a job into recipients and words live by domain — `wishes`, `reports`
(a resident's 随手拍), `queues` (staff: reviews, events, dispatches, supervisions, callbacks) and `members`
(certificates, visits falling due). Importing this package registers every builder.
"""

from app.services.notices import members, queues, reports, wishes  # noqa: F401  (register the builders)
from app.services.notices.receivers import (  # noqa: F401
    on_certificate_issued,
    on_event_changed,
    on_sla_swept,
    on_wish_changed,
)
from app.services.notices.wishes import claimed_with_step  # noqa: F401
