"""Offline checks of infra/: the Bicep parses, agrees with the code, and passes checkov."""
