"""Inbound e-mail: intake, parsing, reply stripping, routing."""
