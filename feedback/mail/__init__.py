"""Mail: what to tell whom, written to the outbox in the caller's transaction, and sent
from the outbox afterwards.

``headers`` keeps reader text out of mail headers and makes the links' tokens;
``render`` turns a report into what the templates show; ``outbox`` writes a mail;
``mailer`` sends what the outbox holds; ``instant``, ``digests`` and ``readers`` decide
who hears of what, and when.

Every function here that writes does so in the caller's transaction and never commits
(the digest run, which commits per batch, says so): a notice exists exactly when the
event that causes it was committed. Each outbox row has a unique key naming the notice,
so the same notice (or the same digest period) cannot be queued twice, even by two
processes at once.
"""
