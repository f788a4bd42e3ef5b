"""docker-compose.yml starts PostgreSQL 15 with a named volume and a health check, and .env.example points
ktlab at it (the file is checked as written; tests themselves use the local server)."""

from __future__ import annotations

import yaml
from dotenv import dotenv_values
from sqlalchemy.engine import make_url

from .helpers import REPO_ROOT


def test_compose_service_and_env_example_agree() -> None:
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["postgres"]
    assert service["image"] == "postgres:15"
    volume, target = service["volumes"][0].split(":")
    assert volume in compose["volumes"] and target == "/var/lib/postgresql/data"  # a named volume
    assert "pg_isready" in " ".join(service["healthcheck"]["test"])
    url = make_url(dotenv_values(REPO_ROOT / ".env.example")["KTLAB_DATABASE_URL"])
    assert url.drivername == "postgresql+psycopg2"
    env = service["environment"]
    assert (url.username, url.database) == (env["POSTGRES_USER"], env["POSTGRES_DB"])
    assert url.password == env["POSTGRES_PASSWORD"].split(":-")[1].rstrip("}")
    host_port = service["ports"][0].rsplit(":", 1)[0]  # "127.0.0.1:${KTLAB_POSTGRES_PORT:-5433}"
    assert host_port.startswith(f"{url.host}:") and host_port.endswith(f"-{url.port}}}")
