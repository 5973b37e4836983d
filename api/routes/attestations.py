"""GET /v1/checks/{id}/attestation and GET /v1/keys: signed verdicts and the keys to verify them."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from api.deps import CallerDep, StoreDep
from api.problems import Problem, problem_responses
from api.signing import ServiceSigner

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["attestations"])

DSSE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json"


class KeyOut(BaseModel):
    """One public key that signs, or signed, this service's verdicts."""

    key_id: str = Field(description="Hex sha256 of the raw 32-byte Ed25519 public key.")
    algorithm: Literal["ed25519"] = "ed25519"
    status: Literal["current", "retired"]
    public_key_pem: str
    not_before: datetime | None = Field(description="In use from (UTC); null: from the start.")
    not_after: datetime | None = Field(description="In use until (UTC); null: still in use.")


class KeysOut(BaseModel):
    keys: list[KeyOut]


@router.get(
    "/checks/{check_id}/attestation",
    summary="The signed verdict (a DSSE envelope of an in-toto statement)",
    responses=problem_responses(401, 404, 422),
)
async def get_attestation(
    caller: CallerDep,
    store: StoreDep,
    check_id: Annotated[str, Path(max_length=64)],
) -> Response:
    """As ``GET /v1/checks/{id}``: a submitter gets 404 for verdicts not its own; 404 too
    when the verdict was stored unsigned. No attestation holds zone ids or geometry."""
    get = partial(store.attestation, check_id, caller=None if caller.is_auditor else caller.name)
    envelope = await anyio.to_thread.run_sync(get)
    if envelope is None:
        raise Problem(404, f"no attestation for verdict {check_id!r}")
    return Response(envelope, media_type=DSSE_MEDIA_TYPE)


@router.get(
    "/keys", summary="Public keys that verify this service's verdicts", response_model=KeysOut
)
async def list_keys(request: Request) -> KeysOut:
    """Current and retired signing keys with their periods of use. No API key needed: a
    public key is public, and the receivers who verify attestations have no account here."""
    signer: ServiceSigner = request.app.state.signer
    return KeysOut(
        keys=[
            KeyOut(
                key_id=k.key_id,
                status="current" if k.status == "current" else "retired",
                public_key_pem=k.pem,
                not_before=k.not_before,
                not_after=k.not_after,
            )
            for k in signer.published
        ]
    )
