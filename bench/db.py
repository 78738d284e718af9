"""``python -m bench.db fresh URL``: an empty database at URL (an SQLite file removed, a PostgreSQL one
dropped and created again), for ``make bench BENCH_FRESH=1``. Refuses any database not named for benchmarks."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def fresh(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = Path(parts.path[1:] if parts.path.startswith("//") else parts.path)
        if "bench" not in path.name:
            raise SystemExit(f"refusing to remove {path}: not a benchmark database (its name lacks 'bench')")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"removed {path}"
    if parts.scheme in ("postgres", "postgresql", "pgsql"):
        import psycopg
        from psycopg import sql

        name = parts.path.lstrip("/")
        if "bench" not in name:
            raise SystemExit(f"refusing to drop database {name!r}: not a benchmark database (its name lacks 'bench')")
        admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return f"created an empty database {name}"
    raise SystemExit(f"unknown database URL scheme {parts.scheme!r}")


def ensure(url: str) -> str:
    """Create the PostgreSQL database at URL if it does not exist (SQLite files are made on first use)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        return "sqlite: nothing to create"
    import psycopg
    from psycopg import sql

    name = parts.path.lstrip("/")
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return f"database {name} exists"
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"created database {name}"


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("fresh", "ensure"):
        raise SystemExit("usage: python -m bench.db fresh|ensure DATABASE_URL")
    sys.stdout.write((fresh if sys.argv[1] == "fresh" else ensure)(sys.argv[2]) + "\n")
