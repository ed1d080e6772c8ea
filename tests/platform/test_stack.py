"""The platform: health through Traefik, gRPC between services, request ids, fail-fast startup."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import grpc
import httpx

from hangar_protos import community_pb2, community_pb2_grpc, lfs_pb2, lfs_pb2_grpc, metadata_pb2, metadata_pb2_grpc
from hangar_stack import infra
from hangar_stack.stack import ROOT


def test_health_through_traefik_reports_every_service_and_dependency(endpoint):
    resp = httpx.get(f"{endpoint}/health")
    assert resp.status_code == 200
    checks = resp.json()["checks"]
    for name in ("auth", "metadata", "lfs", "community", "git", "postgres", "redis", "s3"):
        assert checks[name] == "up", name


def test_every_service_has_health_and_metrics(stack):
    for record in stack.records:
        if record["name"] in ("auth", "metadata", "lfs", "community", "git", "gateway"):
            base = f"http://127.0.0.1:{record['port']}"
            assert httpx.get(f"{base}/health").status_code == 200, record["name"]
            metrics = httpx.get(f"{base}/metrics")
            assert metrics.status_code == 200
            assert "hangar_http_requests_total" in metrics.text


async def test_grpc_call_carries_request_id(stack):
    for name, stub_cls, req in (("metadata", metadata_pb2_grpc.MetadataStub, metadata_pb2.PingRequest()),
                                ("lfs", lfs_pb2_grpc.LfsStub, lfs_pb2.PingRequest()),
                                ("community", community_pb2_grpc.CommunityStub, community_pb2.PingRequest())):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.service_ports[name]['grpc']}") as ch:
            resp = await stub_cls(ch).Ping(req, metadata=[("x-request-id", "req-smoke-1")], timeout=5)
        assert resp.service == name
        assert resp.request_id == "req-smoke-1"


async def test_grpc_health_service_is_standard(stack):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.service_ports['auth']['grpc']}") as ch:
        resp = await health_pb2_grpc.HealthStub(ch).Check(
            health_pb2.HealthCheckRequest(service="hangar.auth.v1.Auth"), timeout=5)
    assert resp.status == health_pb2.HealthCheckResponse.SERVING


def test_request_id_is_echoed_and_logged_as_json(stack, endpoint):
    resp = httpx.get(f"{endpoint}/api/does-not-exist", headers={"X-Request-Id": "req-log-42"})
    assert resp.headers["x-request-id"] == "req-log-42"
    time.sleep(0.2)
    lines = (stack.state / "logs" / "gateway.log").read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(e.get("request_id") == "req-log-42" and e.get("service") == "gateway" for e in entries)


def test_stopped_service_turns_health_503_naming_it(stack, endpoint):
    stack.stop_service("git")
    try:
        resp = httpx.get(f"{endpoint}/health", timeout=10)
        assert resp.status_code == 503
        assert resp.json()["down"] == ["git"]
    finally:
        stack.start_service("git")
    deadline = time.monotonic() + 30
    while httpx.get(f"{endpoint}/health").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def _launcher_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANGAR_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "libs"), str(ROOT)])
    env.update(extra)
    return env


def test_up_fails_fast_when_port_is_taken(tmp_path, endpoint):
    port = endpoint.rsplit(":", 1)[1]
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "hangar_stack", "up"], capture_output=True, text=True,
                            env=_launcher_env(HANGAR_PORT=port, HANGAR_STATE_DIR=str(tmp_path)), timeout=60)
    assert result.returncode != 0
    assert f"port {port} is already in use" in result.stderr
    assert time.monotonic() - started < 15


def test_service_fails_fast_when_database_is_unreachable(tmp_path):
    closed = infra.free_port()
    result = subprocess.run(
        [sys.executable, "-m", "services.metadata"], capture_output=True, text=True, timeout=60, cwd=ROOT,
        env=_launcher_env(HANGAR_DATABASE_URL=f"postgresql://hangar@127.0.0.1:{closed}/hangar",
                          HANGAR_HTTP_PORT=str(infra.free_port()), HANGAR_GRPC_PORT=str(infra.free_port())))
    assert result.returncode != 0
    assert f"PostgreSQL unreachable (127.0.0.1:{closed})" in result.stdout + result.stderr


def test_service_refuses_taken_port(stack):
    taken = stack.service_ports["gateway"]["http"]
    result = subprocess.run([sys.executable, "-m", "services.git"], capture_output=True, text=True, timeout=60,
                            cwd=ROOT, env=_launcher_env(HANGAR_HTTP_PORT=str(taken)))
    assert result.returncode != 0
    assert f"port {taken}" in result.stderr and "already in use" in result.stderr


def test_s3_is_served_on_its_own_origin(stack, endpoint):
    s3_public = stack.env["HANGAR_S3_PUBLIC_URL"]
    assert s3_public.split("//")[1] != endpoint.split("//")[1]


def test_make_up_twice_then_down_leaves_nothing_behind():
    import uuid
    tmp_path = ROOT / ".hangar" / "scratch" / uuid.uuid4().hex[:8]
    port = infra.free_port()
    env = _launcher_env(HANGAR_PORT=str(port), HANGAR_STATE_DIR=str(tmp_path / "hub"))
    up = subprocess.run([sys.executable, "-m", "hangar_stack", "up"], capture_output=True, text=True, env=env,
                        timeout=300)
    assert up.returncode == 0, up.stderr
    assert f"http://127.0.0.1:{port}" in up.stdout
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
        again = subprocess.run([sys.executable, "-m", "hangar_stack", "up"], capture_output=True, text=True,
                               env=env, timeout=60)
        assert again.returncode == 0 and "already running" in again.stdout
        saved = json.loads((tmp_path / "hub" / "stack.json").read_text())
    finally:
        down = subprocess.run([sys.executable, "-m", "hangar_stack", "down"], capture_output=True, text=True,
                              env=env, timeout=120)
    assert down.returncode == 0
    assert saved["supervisor"] and not infra.pid_alive(saved["supervisor"])
    for record in saved["processes"]:
        assert not infra.pid_alive(record["pid"]), record["name"]
        assert infra.port_is_free(record["port"]), record["name"]
    assert infra.port_is_free(port)
    # Graceful shutdown: services ran their lifespan teardown on SIGTERM.
    assert "Finished server process" in (tmp_path / "hub" / "logs" / "metadata.log").read_text()
    import shutil
    shutil.rmtree(tmp_path, ignore_errors=True)


async def test_migrations_from_replicas_starting_together_do_not_race(stack, tmp_path):
    import asyncio

    from hangar_common import db
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "0001_probe.py").write_text(
        "from alembic import op\nrevision = '0001'\ndown_revision = None\nbranch_labels = None\n"
        "depends_on = None\n\ndef upgrade():\n    op.execute('CREATE TABLE probe (id int primary key)')\n"
        "    op.execute('SELECT pg_sleep(0.3)')\n")
    engines = [db.create_engine(stack.env["HANGAR_DATABASE_URL"], "migration_probe") for _ in range(4)]
    try:
        await asyncio.gather(*(db.migrate(e, "migration_probe", tmp_path / "migrations") for e in engines))
    finally:
        for e in engines:
            await e.dispose()
