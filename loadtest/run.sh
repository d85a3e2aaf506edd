#!/usr/bin/env bash
# A bounded load test of the product running on this machine (`make run`, or gunicorn):
#
#   loadtest/run.sh [URL]        default URL: http://127.0.0.1:8000
#
# USERS (50), SPAWN_RATE (5 a second) and DURATION (60s) bound it; see loadtest/locustfile.py
# for the logins and pages. Prints requests per second, median and p95 latency and the error
# count; exits 1 on any error or when the pages' p95 is over LOADTEST_P95_MS (300).
set -euo pipefail
cd "$(dirname "$0")/.."

URL="${1:-${LOADTEST_URL:-http://127.0.0.1:8000}}"
URL="${URL%/}"
case "$URL" in
  http://127.0.0.1:*|http://127.0.0.1|http://localhost:*|http://localhost) ;;
  *) echo "loadtest: only a product running on this machine (http://127.0.0.1:PORT), not $URL" >&2
     exit 2 ;;
esac
USERS="${USERS:-50}"
SPAWN_RATE="${SPAWN_RATE:-5}"
DURATION="${DURATION:-60s}"
LOCUST="${LOCUST:-.venv/bin/locust}"

if ! curl -fsS -o /dev/null "$URL/login/"; then
  echo "loadtest: nothing answers at $URL/login/ (start the product first: make run)" >&2
  exit 2
fi
echo "loadtest: $USERS users (spawning $SPAWN_RATE a second) for $DURATION against $URL"
exec "$LOCUST" -f loadtest/locustfile.py --headless --users "$USERS" \
  --spawn-rate "$SPAWN_RATE" --run-time "$DURATION" --host "$URL" --only-summary \
  --stop-timeout 5 --loglevel WARNING
