"""Readable text output for the CLI: the profile as a table, the verdict as wrapped text.

Findings are grouped by root cause: a rule held for want of facts that a ``MAPGATE-*``
finding left unknown is listed under that finding, not repeated as a finding of its own.
Every line wraps at the console's width (80 columns when not a terminal): nothing is cut.
"""

from __future__ import annotations

import textwrap

from rich.console import Console
from rich.table import Table
from rich.text import Text

from compliance.dataset_profile import Profile
from compliance.rules.conditions import CONDITIONS
from compliance.rules.fail_closed import by_code
from compliance.verdict import Effect, Finding, InputInfo, Verdict
from compliance.zones.demo import describe_zones

__all__ = ["print_profile", "print_verdict"]

_STYLE = {
    Effect.allow: "bold green",
    Effect.allow_with_conditions: "bold yellow",
    Effect.review: "bold magenta",
    Effect.deny: "bold red",
}


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def print_profile(identity: InputInfo, p: Profile, console: Console) -> None:
    table = Table(
        "fact",
        "value",
        title=f"{identity.name}  ({identity.size:,} bytes, sha256 {identity.sha256[:12]})",
    )
    scale = f"1:{p.scale_denominator:,.0f} ({p.scale_source})" if p.scale_denominator else "-"
    rows = [
        ("kind / format", f"{p.kind} / {p.format}"),
        ("crs", _fmt(p.crs)),
        ("georeferenced", _fmt(p.georeferenced)),
        (
            "bounds (WGS84)",
            ", ".join(f"{v:.5f}" for v in p.bounds_wgs84) if p.bounds_wgs84 else "-",
        ),
        ("area km²", _fmt(p.area_km2)),
        ("resolution m", _fmt(p.resolution_m)),
        ("scale", scale),
        (
            "features / layers",
            f"{_fmt(p.feature_count)} / {_fmt(p.layer_count)}" if p.kind == "vector" else "-",
        ),
        ("size / bands", f"{p.width}x{p.height} / {p.band_count}" if p.kind == "raster" else "-"),
        ("has z", _fmt(p.has_z)),
    ]
    for name, value in rows:
        table.add_row(Text(name), Text(value))
    console.print(table)
    for note in p.notes:
        _line(console, f"note: {note}")


def _line(console: Console, text: str | Text, indent: int = 0) -> None:
    """One paragraph, wrapped at the console's width with no trailing blanks. Never markup:
    messages and citations carry brackets."""
    if isinstance(text, Text):
        console.print(Text(" " * indent) + text, soft_wrap=True)
        return
    width = max(20, console.width - indent)
    for line in textwrap.wrap(text, width, break_on_hyphens=False) or [""]:
        console.print(Text(" " * indent + line), soft_wrap=True)


def _effect(effect: Effect) -> Text:
    return Text(effect.value.upper(), style=_STYLE[effect])


def _missing(finding: Finding) -> list[str]:
    # A null request fact was not given, which the rule may test; it is not missing.
    return sorted(
        name
        for name, value in finding.facts.items()
        if value is None and not name.startswith("request.")
    )


def _print_zones(v: Verdict, console: Console) -> None:
    _line(console, f"zones checked: {describe_zones(v.zones.source, v.zones.fictional)}")
    if v.zones.count is None:
        overlapped = "unknown (location not established)"
    elif v.zones.count:
        overlapped = f"{v.zones.count} zone(s): {', '.join(v.zones.classes)}"
    else:
        overlapped = "none"
    _line(console, f"sensitive zones overlapped: {overlapped}")
    for hit in v.zones.hits or []:
        _line(
            console,
            f"{hit.zone_id} ({hit.zone_class}): {hit.features} feature(s), "
            f"{hit.overlap_km2:.4g} km²",
            indent=2,
        )


def _print_finding(f: Finding, held: list[Finding], console: Console) -> None:
    head = Text.assemble(_effect(f.effect), "  ", f"{f.pack}/{f.rule_id}")
    _line(console, head, indent=2)
    _line(console, f.message, indent=6)
    if f.reference:
        _line(console, f"basis: {f.reference}", indent=6)
    entry = by_code(f.rule_id) if f.pack == "mapgate" else None
    if entry is not None:
        _line(console, f"what it means and what to do: {entry.anchor}", indent=6)
    if held:
        _line(
            console,
            f"held {len(held)} rule(s) for review that need what it leaves unknown:",
            indent=6,
        )
        for h in held:
            _line(console, f"{h.pack}/{h.rule_id} (needs {', '.join(_missing(h))})", indent=8)


def _print_findings(v: Verdict, console: Console) -> None:
    causes = {f.rule_id for f in v.findings if f.pack == "mapgate"}
    shown = [f for f in v.findings if f.held_by is None or f.held_by not in causes]
    shown.sort(key=lambda f: -f.effect.severity)  # the most severe first; stable otherwise
    if not shown:
        return
    _line(console, f"findings ({len(shown)}):")
    for f in shown:
        held = [h for h in v.findings if f.pack == "mapgate" and h.held_by == f.rule_id]
        _print_finding(f, held, console)


def _what_to_do(name: str) -> tuple[str, str]:
    """A condition's meaning and the next step, from the conditions registry."""
    known = CONDITIONS.get(name)
    if known is None:
        return ("a condition of the pack that mapgate has no description for",
                "read the rule's reference for what it asks")  # fmt: skip
    meaning = known.meaning[0].lower() + known.meaning[1:].rstrip(".")
    if known.applicable:
        kinds = " and ".join(sorted(known.applies_to))
        action = (f"`mapgate remediate` applies it to {kinds} data and checks the result "
                  f"again; what meets it: {known.satisfied_by}")  # fmt: skip
    else:
        action = f"no change to the data meets it: {known.satisfied_by}"
    return meaning, action


def _print_conditions(v: Verdict, console: Console) -> None:
    if not v.conditions:
        return
    _line(console, "conditions:")
    for name in v.conditions:
        rules = [f"{f.pack}/{f.rule_id}" for f in v.findings if name in f.conditions]
        _line(console, f"{name} (required by {', '.join(rules)})", indent=2)
        meaning, action = _what_to_do(name)
        _line(console, f"what it means: {meaning}", indent=6)
        _line(console, f"what to do: {action}", indent=6)
        asked = {k: v for f in v.findings for k, v in f.condition_parameters.get(name, {}).items()}
        if asked:
            shown = ", ".join(f"{k}={_fmt(value)}" for k, value in sorted(asked.items()))
            _line(console, f"parameters: {shown}", indent=6)
        if name == "mask_zones" and v.zones.count == 0:
            _line(
                console,
                "why, with no zone overlapped: the rule asks for it whatever the zones "
                "checked show; the zones checked list only some places, so any sensitive "
                "facility the data shows must still be masked",
                indent=6,
            )


def print_verdict(v: Verdict, console: Console) -> None:
    print_profile(v.input, v.profile, console)
    _print_zones(v, console)
    _print_findings(v, console)
    applied = ", ".join(f"{p.name} {p.version}" + ("" if p.applies else " (n/a)") for p in v.packs)
    _line(console, f"packs: {applied}")
    _print_conditions(v, console)
    _line(console, Text.assemble("verdict: ", _effect(v.verdict)))
