"""Language-model providers behind the ``LlmProvider`` port.

Imported only by the generation path and the planner, never by a plain ``GET``.
"""
