"""Rule packs: loading, CEL, evaluation, pack tests, and mapgate's own fail-closed findings."""

__all__: list[str] = []  # a package of modules: import names from them
