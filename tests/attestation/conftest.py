"""Signed verdicts: DSSE and in-toto per their specs, keys, chains, the CLI and the service."""
