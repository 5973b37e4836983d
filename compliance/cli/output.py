"""Readable text output for the CLI (rich tables)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from compliance.dataset_profile import Profile
from compliance.verdict import Effect, InputInfo, Verdict

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
        table.add_row(name, value)
    console.print(table)
    for note in p.notes:
        console.print(f"note: {note}")


def print_verdict(v: Verdict, console: Console) -> None:
    print_profile(v.input, v.profile, console)
    zones = (
        "unknown (location not established)"
        if v.zones.count is None
        else (f"{v.zones.count} zone(s): {', '.join(v.zones.classes)}" if v.zones.count else "none")
    )
    console.print(f"sensitive zones overlapped: {zones}")
    if v.zones.hits:
        for hit in v.zones.hits:
            console.print(
                f"  {hit.zone_id} ({hit.zone_class}): {hit.features} feature(s), {hit.overlap_km2:.4g} km²"
            )
    findings = Table(title="findings")
    findings.add_column("effect", no_wrap=True)
    findings.add_column("rule", no_wrap=True)
    findings.add_column("reason")
    for f in v.findings:
        reason = f.message + (f" [dim]({f.reference})[/]" if f.reference else "")
        findings.add_row(
            f"[{_STYLE[f.effect]}]{f.effect.value}[/]", f"{f.pack}/{f.rule_id}", reason
        )
    if v.findings:
        console.print(findings)
    applied = ", ".join(f"{p.name} {p.version}" + ("" if p.applies else " (n/a)") for p in v.packs)
    console.print(f"packs: {applied}")
    if v.conditions:
        console.print(f"conditions: {', '.join(v.conditions)}")
    console.print(f"verdict: [{_STYLE[v.verdict]}]{v.verdict.value.upper()}[/]")
