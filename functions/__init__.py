"""Triggers: one blueprint per module; each decodes input, calls a service, encodes the result."""
