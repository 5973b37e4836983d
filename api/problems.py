"""RFC 9457 problem details: the one error shape the service answers with."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

__all__ = ["Problem", "problem_response", "problem_responses"]

PROBLEM_JSON = "application/problem+json"


class ProblemDetail(BaseModel):
    """The body of every error response (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None


class Problem(Exception):
    """Raised anywhere in the service to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        type_: str = "about:blank",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.type = type_
        self.headers = headers

    def response(self) -> JSONResponse:
        return problem_response(
            self.status, self.title, self.detail, type_=self.type, headers=self.headers
        )


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type_: str = "about:blank",
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """A JSON response with the problem media type."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem answers for ``statuses``."""
    return {
        s: {
            "model": ProblemDetail,
            "description": HTTPStatus(s).phrase,
            "content": {PROBLEM_JSON: {}},
        }
        for s in statuses
    }
