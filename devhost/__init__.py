"""A local stand-in for the Azure Functions host (Core Tools cannot be installed here).

It serves the same ``function_app.py``: HTTP triggers through uvicorn, queue triggers with the
host.json ``extensions.queues`` semantics, and timer triggers, all read from the registered
functions' own metadata. ``python -m devhost --help`` lists the commands.
"""
