"""Helpers for LFS tests: batch calls with httpx, S3 access with the stack's credentials, repos."""
from __future__ import annotations

import base64
import hashlib
import os
import uuid
from urllib.parse import urlsplit

import httpx
from minio import Minio

LFS_HEADERS = {"Accept": "application/vnd.git-lfs+json", "Content-Type": "application/vnd.git-lfs+json"}


def payload(size: int) -> tuple[bytes, str]:
    data = os.urandom(size)
    return data, hashlib.sha256(data).hexdigest()


def bearer(token: str | None) -> dict:
    return {"Authorization": f"Bearer {token}"} if token else {}


def basic(name: str, token: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{token}".encode()).decode()}


def batch_url(endpoint: str, repo_id: str, repo_type: str = "model") -> str:
    prefix = {"model": "", "dataset": "datasets/", "space": "spaces/"}[repo_type]
    return f"{endpoint}/{prefix}{repo_id}.git/info/lfs/objects/batch"


def batch(endpoint: str, repo_id: str, operation: str, objects: list[tuple[str, int]], *,
          headers: dict | None = None, transfers=("basic",), repo_type: str = "model") -> httpx.Response:
    body = {"operation": operation, "transfers": list(transfers), "hash_algo": "sha256",
            "objects": [{"oid": oid, "size": size} for oid, size in objects]}
    return httpx.post(batch_url(endpoint, repo_id, repo_type), json=body,
                      headers={**LFS_HEADERS, **(headers or {})}, timeout=60)


def upload_basic(endpoint: str, repo_id: str, data: bytes, oid: str, token: str) -> httpx.Response:
    """Batch upload, PUT the bytes to the presigned URL, POST verify: the verify response."""
    resp = batch(endpoint, repo_id, "upload", [(oid, len(data))], headers=bearer(token))
    assert resp.status_code == 200, resp.text
    obj = resp.json()["objects"][0]
    if "actions" not in obj:
        return resp
    put = httpx.put(obj["actions"]["upload"]["href"], content=data, timeout=120)
    assert put.status_code == 200, put.text
    verify = obj["actions"]["verify"]
    return httpx.post(verify["href"], json={"oid": oid, "size": len(data)},
                      headers={**LFS_HEADERS, **verify.get("header", {})}, timeout=120)


def create_repo(endpoint: str, token: str, *, private: bool = False, repo_type: str = "model",
                namespace: str | None = None) -> str:
    from huggingface_hub import HfApi
    api = HfApi(endpoint=endpoint, token=token)
    ns = namespace or api.whoami()["name"]
    repo_id = f"{ns}/lfs-{uuid.uuid4().hex[:8]}"
    api.create_repo(repo_id, private=private, repo_type=repo_type)
    return repo_id


class S3:
    """The stack's bucket, seen with its own credentials (what is really stored)."""

    def __init__(self, env: dict) -> None:
        url = urlsplit(env["HANGAR_S3_ENDPOINT"])
        self.bucket = env.get("HANGAR_S3_BUCKET", "hangar")
        self.client = Minio(url.netloc, access_key=env["HANGAR_S3_ACCESS_KEY"],
                            secret_key=env["HANGAR_S3_SECRET_KEY"], secure=url.scheme == "https",
                            region=env.get("HANGAR_S3_REGION", "us-east-1"))

    def keys(self, prefix: str) -> list[str]:
        return [o.object_name for o in self.client.list_objects(self.bucket, prefix=prefix, recursive=True)]

    def canonical(self, oid: str) -> str:
        """Where objects verified before uploads stayed in place (and Xet-rebuilt ones) lie."""
        return f"lfs/{oid[:2]}/{oid[2:4]}/{oid}"

    def object_keys(self, oid: str) -> list[str]:
        """Every key holding bytes for `oid`: the canonical key and the upload attempts' own keys
        (`lfs/<aa>/<bb>/<oid>.<upload id>`)."""
        return self.keys(self.canonical(oid))

    def has(self, oid: str) -> bool:
        return bool(self.object_keys(oid))

    def read(self, key: str) -> bytes:
        resp = self.client.get_object(self.bucket, key)
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()
