"""``mapgate keys generate``, ``mapgate verify`` and the signing behind ``check --sign`` and
``audit --sign``.

Registered by ``compliance.cli.main``. ``cryptography`` is imported only when a command signs
or verifies, so the other commands never load it.

Exit codes of ``verify``: 0 every check held; 40 bad signature (a given key's id is on the
envelope but its signature does not hold: altered); 41 wrong file (FILE's sha256 is no
subject); 42 unknown key (no given key signed it, or the key was not in use then);
43 malformed envelope; 44 broken chain (``--original``); 2 usage; 3 unreadable file.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from compliance.attestation import Derivation, VerifiedAttestation
    from compliance.verdict import Verdict

__all__ = [
    "VERIFY_EXIT_CODES",
    "keys_app",
    "load_signing_key",
    "verify_command",
    "write_attestation",
]

EXIT_USAGE = 2
EXIT_UNREADABLE = 3
# Each refusal's exit code, by the name of its error class (the classes load with cryptography).
VERIFY_EXIT_CODES = {
    "BadSignature": 40,
    "WrongFile": 41,
    "UnknownKey": 42,
    "MalformedEnvelope": 43,
    "BrokenChain": 44,
}

keys_app = typer.Typer(no_args_is_help=True, help="Make Ed25519 keys that sign verdicts.")


@keys_app.command("generate")
def keys_generate(
    out: Annotated[Path, typer.Option("--out", help="Folder for the key pair.")],
) -> None:
    """Write a private key (PEM, PKCS8, mode 0600) and its public key; print the key id."""
    from compliance.attestation import AttestationError, generate_key

    try:
        made = generate_key(out)
    except (AttestationError, OSError) as exc:
        typer.echo(f"mapgate keys: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    typer.echo(f"private key: {made.private_path} (keep it secret)", err=True)
    typer.echo(f"public key:  {made.public_path}", err=True)
    typer.echo(made.key_id)


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """The private key of ``--sign``; exit 2 when it cannot be used (before any check runs)."""
    from compliance.attestation import AttestationError, load_private_key

    try:
        return load_private_key(path)
    except AttestationError as exc:
        typer.echo(f"mapgate: --sign: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def write_attestation(
    verdict: Verdict,
    key: Ed25519PrivateKey,
    source: Path,
    out: Path,
    derived_from: Derivation | None = None,
) -> str | None:
    """Sign ``verdict`` for ``source`` and write the envelope to ``out`` (replaced whole, or
    left untouched); the reason when it could not be made, else None. ``derived_from`` links
    a derivative to its original."""
    from compliance.attestation import AttestationError, attest

    try:
        text = attest(verdict, key, source, derived_from=derived_from).to_json()
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (AttestationError, OSError) as exc:
        return str(exc)
    return None


def _describe(result: VerifiedAttestation) -> str:
    verdict = result.verdict
    lines = [f"OK  signed by key {result.key_id}"]
    if result.subject is not None:
        lines.append(f"file     {result.subject.name} (sha256 {result.subject.sha256})")
    lines += [f"subject  {s.name} (sha256 {s.sha256})" for s in result.statement.subject[:20]]
    packs = ", ".join(f"{p.get('name')} {p.get('version')}" for p in verdict.get("packs", []))
    lines += [
        f"verdict  {verdict.get('verdict')}",
        f"checked  {verdict.get('checked_at')} by {verdict.get('engine')}",
        f"packs    {packs or '(none)'}",
    ]
    lines += [f"finding  {f.get('rule_id')} {f.get('effect')}" for f in verdict.get("findings", [])]
    link = result.statement.derived_from
    if link is not None:
        lines.append(f"derived  from sha256 {link.sha256} by {', '.join(link.actions)}")
    return "\n".join(lines) + "\n"


def _refuse(code: int, kind: str, message: str, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps({"ok": False, "error": kind, "message": message}) + "\n")
    typer.echo(f"mapgate verify: {kind}: {message}", err=True)
    raise typer.Exit(code)


def _read(path: Path, what: str, fmt: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        _refuse(EXIT_UNREADABLE, "unreadable", f"{what} {path}: {exc.strerror or exc}", fmt)
        raise  # unreachable: _refuse exits


def verify_command(
    attestation: Annotated[Path, typer.Argument(help="The attestation (DSSE envelope JSON).")],
    file: Annotated[
        Path | None, typer.Argument(help="The file received: its sha256 must be a subject.")
    ] = None,
    key: Annotated[
        list[Path] | None,
        typer.Option("--key", "-k", help="A trusted public key (PEM); repeat for several."),
    ] = None,
    original: Annotated[
        Path | None,
        typer.Option(help="The original's attestation: the chain must lead back to it."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
) -> None:
    """Verify an attestation offline: signature, file and chain; print the verdict."""
    if fmt not in {"text", "json"}:
        raise typer.BadParameter("must be text or json", param_hint="--format")
    if not key:
        raise typer.BadParameter("give at least one trusted public key", param_hint="--key")
    from compliance.attestation import (
        AttestationError,
        load_public_key,
        verify,
        verify_chain,
    )

    try:
        keys = [load_public_key(k) for k in key]
    except AttestationError as exc:
        typer.echo(f"mapgate verify: --key: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    envelope = _read(attestation, "attestation", fmt)
    if file is not None and not file.is_file():
        _refuse(
            EXIT_UNREADABLE, "unreadable", f"{file}: not a file (give each file on its own)", fmt
        )
    try:
        if original is not None:
            result, _ = verify_chain(envelope, _read(original, "original", fmt), keys, file)
        else:
            result = verify(envelope, keys, file)
    except AttestationError as exc:
        kind = type(exc).__name__
        _refuse(VERIFY_EXIT_CODES.get(kind, EXIT_USAGE), kind, str(exc), fmt)
        return
    if fmt == "json":
        doc: dict[str, Any] = {
            "ok": True,
            "key_id": result.key_id,
            "subject": result.subject.model_dump() if result.subject else None,
            "statement": result.statement.model_dump(mode="json", by_alias=True),
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        sys.stdout.write(_describe(result))
