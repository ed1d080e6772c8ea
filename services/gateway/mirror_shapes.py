"""JSON shapes of the mirror service's records: an import's status and progress (docs/mirror.md
"Imports")."""
from __future__ import annotations

from hangar_protos import mirror_pb2


def _ref(report: mirror_pb2.RefReport) -> dict:
    return {"ref": report.ref, "local": report.local or None, "upstream": report.upstream or None,
            **({"reason": report.reason} if report.reason else {})}


def import_json(s: mirror_pb2.ImportStatus, repo_url: str) -> dict:
    """`repo_url`: the absolute URL of the repository the import fills."""
    repo_id = f"{s.target.namespace}/{s.target.name}"
    return {
        "id": s.id, "kind": s.kind, "state": s.state,
        "source": {"type": s.source_type, "id": s.source_id},
        "repo": {"type": s.target.type, "id": repo_id, "url": repo_url},
        "revisions": list(s.revisions) or "all",
        "private": s.private, "gated": s.gated or False,
        "progress": {"objectsTotal": s.objects_total, "objectsDone": s.objects_done, "bytesTotal": s.bytes_total,
                     "bytesDone": s.bytes_done, "gitBytes": s.git_bytes},
        "updated": [_ref(r) for r in s.updated], "diverged": [_ref(r) for r in s.diverged],
        "error": {"code": s.error_code, "message": s.error} if s.error_code else None,
        "createdBy": s.created_by, "createdAt": s.created_at, "updatedAt": s.updated_at,
        "finishedAt": s.finished_at or None, "syncedAt": s.synced_at or None,
    }
