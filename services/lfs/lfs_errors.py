"""The hub's errors (hangar_common.errors.HangarError, codes in hangar_common.codes) rendered in the
Git LFS API's own shape (docs/api/batch.md "Response Errors"): a JSON body with `message` (and our
`error` and `request_id`), `Content-Type: application/vnd.git-lfs+json`, plus the platform's
`X-Error-Code`/`X-Error-Message` headers. An unexpected failure says only "Internal error" and the
request id, as everywhere."""
from __future__ import annotations

import orjson
from starlette.responses import Response

from hangar_common.errors import INTERNAL_MESSAGE, HangarError
from hangar_common.http import header_safe
from hangar_common.logs import request_id_var

LFS_JSON = "application/vnd.git-lfs+json"


def lfs_error_response(exc: HangarError) -> Response:
    status = exc.status if 400 <= exc.status < 600 else 500
    message, headers = exc.message, exc.headers
    if status >= 500 and exc.code == HangarError.code:  # nothing internal reaches the client
        message, headers = f"{INTERNAL_MESSAGE} (request id {request_id_var.get()})", {}
    body = {"message": message, "error": message, "request_id": request_id_var.get()}
    return Response(orjson.dumps(body), status_code=status, media_type=LFS_JSON,
                    headers={"X-Error-Code": exc.code, "X-Error-Message": header_safe(message), **headers})


def lfs_json(body: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=LFS_JSON)
