"""Shared analysis: name resolution, scopes and value classification. Rules use these; none re-parses."""
