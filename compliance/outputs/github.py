"""GitHub Actions workflow commands: one annotation per finding, on the file's page.

``deny`` is an ``::error``, ``review`` a ``::warning`` and ``allow_with_conditions`` a
``::notice``; ``allow`` findings are left out (nothing to act on). A file that could not
be checked is an ``::error``. Values are escaped as the runner expects (``%``, CR, LF,
and in properties also ``:`` and ``,``).
"""

from __future__ import annotations

from collections.abc import Iterable

from compliance.outputs.checked import Checked, RuleInfo
from compliance.verdict import Effect

__all__ = ["COMMANDS", "to_github"]

COMMANDS = {Effect.deny: "error", Effect.review: "warning", Effect.allow_with_conditions: "notice"}


def to_github(checked: Iterable[Checked], rules: dict[str, RuleInfo]) -> str:
    """The annotations for ``checked``, one line each, and one summary line per file."""
    lines = []
    for item in checked:
        if item.verdict is None:
            lines.append(_command("error", item.uri, "mapgate: unreadable",
                                  f"The file could not be checked: {item.error}"))  # fmt: skip
            continue
        for finding in item.verdict.findings:
            command = COMMANDS.get(finding.effect)
            if command is None:
                continue
            rule_id = f"{finding.pack}/{finding.rule_id}"
            info = rules.get(rule_id)
            title = f"{rule_id}: {info.title}" if info else rule_id
            text = finding.message + (f" ({finding.reference})" if finding.reference else "")
            lines.append(_command(command, item.uri, title, text))
        lines.append(f"{item.uri}: {item.verdict.verdict.value}")
    return "".join(line + "\n" for line in lines)


def _command(command: str, file: str, title: str, message: str) -> str:
    return f"::{command} file={_property(file)},title={_property(title)}::{_data(message)}"


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")
