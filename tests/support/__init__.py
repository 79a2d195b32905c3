"""Test support: local stand-ins for outside services, speaking their real wire protocols."""
