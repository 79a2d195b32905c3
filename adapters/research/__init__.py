"""Research sources: one adapter per public API (official docs, Stack Overflow, GitHub, DEV and
YouTube), each implementing ``domain.research.ResearchSource``.

Every adapter takes an injected ``httpx.AsyncClient``, sends one request with an explicit timeout,
obeys the API's backoff and quota signals by resting (no request until the instant passes), and
turns everything it returns into plain text. None of them raises: trouble is logged once and the
answer is ``[]``. The search skeleton they share is ``source.JsonSearchSource``; each source
declares only its URL, its query string, how its API throttles and how an item becomes a finding.
"""
