"""Background workers (RQ). ``python -m workers`` starts one on the app's configuration.

The jobs live here (``workers.summaries``, ``workers.imports``), thin adapters over
``review_app``; the app enqueues them by name through ``review_app.queues``. Queues are named
by purpose so operators can run separate workers for slow and quick work.
"""

from review_app.queues import QUEUES, queue

__all__ = ["QUEUES", "queue"]
