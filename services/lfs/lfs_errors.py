"""Errors in the Git LFS API's own shape (docs/api/batch.md "Response Errors"): a JSON body with
`message` (and our `error`), `Content-Type: application/vnd.git-lfs+json`, plus the platform's
`X-Error-Code`/`X-Error-Message` headers."""
from __future__ import annotations

import orjson
from starlette.responses import Response

from hangar_common.errors import HangarError
from hangar_common.http import header_safe
from hangar_common.logs import request_id_var

LFS_JSON = "application/vnd.git-lfs+json"


class LfsError(Exception):
    def __init__(self, status: int, message: str, *, code: str = "BadRequest",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}

    @classmethod
    def from_hangar(cls, exc: HangarError) -> LfsError:
        status = exc.status if 400 <= exc.status < 600 else 500
        if status >= 500 and exc.code == HangarError.code:  # nothing internal reaches the client
            return cls(500, f"Internal error (request id {request_id_var.get()})", code=exc.code)
        return cls(status, exc.message, code=exc.code, headers=exc.headers)

    def response(self) -> Response:
        body = {"message": self.message, "error": self.message, "request_id": request_id_var.get()}
        headers = {"X-Error-Code": self.code, "X-Error-Message": header_safe(self.message), **self.headers}
        return Response(orjson.dumps(body), status_code=self.status, headers=headers, media_type=LFS_JSON)


def lfs_json(body: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=LFS_JSON)
