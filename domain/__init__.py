"""The pure core of SkillSync Lessons: models, the lesson status state machine and services.

Nothing here imports an SDK or does I/O of its own; the services reach the world through the
ports in :mod:`domain.ports`.
"""
