"""Verdicts written for machines that act on them: SARIF, JUnit XML, GitHub annotations.

Every format takes the same input, a list of ``Checked`` (one per file, in the order they
were given) and an optional rule catalogue, so that ``mapgate check`` and ``mapgate audit``
write the same documents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from compliance.outputs.checked import Checked, RuleInfo, rule_catalog

__all__ = ["CI_FORMATS", "Checked", "RuleInfo", "render", "rule_catalog"]

# What each format is for, shown in the commands' help.
CI_FORMATS = {
    "sarif": "SARIF 2.1.0 (code-scanning dashboards)",
    "junit": "JUnit XML (test reports in Jenkins, GitLab, Azure)",
    "github": "GitHub Actions workflow annotations",
}


def render(fmt: str, checked: Sequence[Checked], rules: dict[str, RuleInfo] | None = None) -> str:
    """The document ``fmt`` (one of ``CI_FORMATS``) for ``checked``."""
    return _renderer(fmt)(checked, rules or {})


def _renderer(fmt: str) -> Callable[[Iterable[Checked], dict[str, RuleInfo]], str]:
    if fmt == "sarif":
        from compliance.outputs.sarif import to_sarif

        return to_sarif
    if fmt == "junit":
        from compliance.outputs.junit import to_junit

        return to_junit
    if fmt == "github":
        from compliance.outputs.github import to_github

        return to_github
    raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(CI_FORMATS)}")
