"""Rule packs: loading, CEL, evaluation, pack policy and mapgate's own fail-closed findings."""
