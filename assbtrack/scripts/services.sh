#!/usr/bin/env bash
# Make sure the services assbtrack needs are reachable, starting or installing them when they are not.
#   services.sh redis      Redis at $REDIS_URL (default redis://127.0.0.1:6379/0)
#   services.sh postgres   PostgreSQL at $TEST_DATABASE_URL's server (tests)
#   services.sh chromium   Debian's chromium for the browser tests
#   services.sh mdbtools   Debian's mdbtools (mdb-export), which reading Arbin .res cycler files needs
#   services.sh graphviz   Debian's graphviz (the `dot` layout engine that draws lineage graphs)
#   services.sh netns      iproute2 (`ip netns`) for the multi-host drill (tests/drills/test_multihost_drill.py)
# Each prints what it did, and stops with a message saying exactly what to install when it cannot.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
mkdir -p var

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

apt_install() {
  if [ ! -f var/.apt-updated ]; then apt-get update -qq && touch var/.apt-updated; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

redis_ping() {
  "$PY" - "$1" <<'PYEOF'
import sys, redis
try:
    sys.exit(0 if redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping() else 1)
except redis.RedisError:
    sys.exit(1)
PYEOF
}

ensure_redis() {
  local url=${REDIS_URL:-redis://127.0.0.1:6379/0}
  if redis_ping "$url"; then echo "redis: reachable at $url"; return; fi
  if ! command -v redis-server >/dev/null 2>&1; then
    if can_apt; then echo "redis: installing Debian's redis-server"; apt_install redis-server
    else echo "redis: not reachable at $url and redis-server is not installed."
         echo "       Install it (Debian/Ubuntu: sudo apt-get install redis-server) or set REDIS_URL." >&2; exit 1; fi
  fi
  echo "redis: starting a local redis-server on 127.0.0.1:6379 (log: var/redis.log)"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "$PWD/var" --logfile "$PWD/var/redis.log" --pidfile "$PWD/var/redis.pid"
  for _ in $(seq 50); do redis_ping "$url" && { echo "redis: started"; return; }; sleep 0.2; done
  echo "redis: started but not answering at $url; see var/redis.log" >&2; exit 1
}

pg_ping() {
  "$PY" - "$1" <<'PYEOF'
import sys
from urllib.parse import urlsplit, urlunsplit
import psycopg
parts = urlsplit(sys.argv[1])
admin = urlunsplit((parts.scheme.replace("postgres", "postgresql", 1) if parts.scheme == "postgres" else parts.scheme,
                    parts.netloc, "/postgres", "", ""))
try:
    psycopg.connect(admin, connect_timeout=2).close()
except psycopg.Error as error:
    print(f"postgres: {str(error).strip().splitlines()[0]}", file=sys.stderr)
    sys.exit(1)
PYEOF
}

ensure_postgres() {
  local url=${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/assbtrack}
  if pg_ping "$url" 2>/dev/null; then echo "postgres: reachable"; return; fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    if can_apt; then echo "postgres: installing Debian's postgresql"; apt_install postgresql
    else echo "postgres: not reachable and not installed. Install PostgreSQL (sudo apt-get install postgresql)" >&2
         echo "          or point TEST_DATABASE_URL at a server where the user may create databases." >&2; exit 1; fi
  fi
  local version; version=$(ls /etc/postgresql | sort -V | tail -1)
  echo "postgres: starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || pg_ctlcluster "$version" main start || true
  for _ in $(seq 50); do pg_ping "$url" 2>/dev/null && { echo "postgres: started"; return; }; sleep 0.2; done
  # A fresh Debian cluster asks for a password on TCP: give the postgres role the one in the URL.
  if [ "$(id -u)" = 0 ] && command -v su >/dev/null; then
    su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null 2>&1 || true
  fi
  pg_ping "$url" || { echo "postgres: cannot connect with TEST_DATABASE_URL=$url" >&2; exit 1; }
}

ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then echo "chromium: $(command -v chromium)"; return; fi
  if can_apt; then echo "chromium: installing Debian's chromium"; apt_install chromium; return; fi
  echo "chromium: not installed. Install Debian's chromium (sudo apt-get install chromium) for the browser tests." >&2
  exit 1
}

ensure_mdbtools() {
  if command -v mdb-export >/dev/null 2>&1; then echo "mdbtools: $(command -v mdb-export)"; return; fi
  if can_apt; then echo "mdbtools: installing Debian's mdbtools (Arbin .res files)"; apt_install mdbtools; return; fi
  echo "mdbtools: not installed. Install Debian's mdbtools (sudo apt-get install mdbtools) to import Arbin .res files." >&2
  exit 1
}

ensure_graphviz() {
  if command -v dot >/dev/null 2>&1; then echo "graphviz: $(command -v dot)"; return; fi
  if can_apt; then echo "graphviz: installing Debian's graphviz"; apt_install graphviz; return; fi
  echo "graphviz: the dot layout engine is not installed; lineage graphs need it." >&2
  echo "          Install Debian's graphviz (sudo apt-get install graphviz) or set GRAPHVIZ_DOT to a dot binary." >&2
  exit 1
}

ensure_netns() {
  if command -v ip >/dev/null 2>&1 && ip netns list >/dev/null 2>&1; then echo "netns: $(command -v ip)"; return; fi
  if can_apt; then echo "netns: installing Debian's iproute2"; apt_install iproute2; return; fi
  echo "netns: iproute2 is not installed. Install it (sudo apt-get install iproute2); the multi-host drill needs" >&2
  echo "       \`ip netns\` and root." >&2
  exit 1
}

for service in "$@"; do
  case "$service" in
    redis) ensure_redis ;;
    postgres) ensure_postgres ;;
    chromium) ensure_chromium ;;
    mdbtools) ensure_mdbtools ;;
    graphviz) ensure_graphviz ;;
    netns) ensure_netns ;;
    *) echo "unknown service $service" >&2; exit 2 ;;
  esac
done
