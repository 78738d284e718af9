#!/usr/bin/env bash
# `make run`: database, demo data, Redis, one Celery worker (with the beat that resends stale jobs)
# and the web server on http://127.0.0.1:8000. Ctrl-C stops what this script started.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
HOST=${ASSBTRACK_HOST:-127.0.0.1}
PORT=${ASSBTRACK_PORT:-8000}
mkdir -p var

"$PY" manage.py migrate --noinput
"$PY" manage.py demo_data
bash assbtrack/scripts/services.sh redis mdbtools graphviz

started_redis=0
[ -f var/redis.pid ] && kill -0 "$(cat var/redis.pid)" 2>/dev/null && started_redis=1

echo "celery: starting one worker (log: var/worker.log)"
# No -Q: the worker consumes this instance's queues (<ASSBTRACK_INSTANCE>.models, .plots, .imports).
.venv/bin/celery -A assbtrack worker -B -c 2 --loglevel INFO \
  --schedule var/celerybeat-schedule -n "assbtrack@%h" >var/worker.log 2>&1 &
worker=$!

cleanup() {
  trap - INT TERM EXIT
  echo; echo "stopping the worker"
  kill -TERM "$worker" 2>/dev/null || true
  wait "$worker" 2>/dev/null || true
  if [ "$started_redis" = 1 ]; then echo "stopping the redis-server this run started"; kill "$(cat var/redis.pid)" 2>/dev/null || true; fi
}
trap cleanup INT TERM EXIT

echo
echo "assbtrack is at http://$HOST:$PORT/  (admin: /admin/, API docs: /api/docs/). Ctrl-C stops it."
"$PY" manage.py runserver "$HOST:$PORT"
