"""Rule packs: loading, CEL, evaluation, pack tests, and mapgate's own fail-closed findings."""
