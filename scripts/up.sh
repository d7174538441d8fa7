#!/usr/bin/env bash
# Start a Prefect server on 127.0.0.1, create the work pool and the warehouse-writer concurrency
# limit, deploy prefect.yaml, and start worker(s). `make up` runs it; scripts/down.sh stops what
# it started (the pids are kept in $INFLUENCERS_RUN_DIR).
#
# Environment (all optional):
#   PREFECT_PORT            port of the server                       (default 4200)
#   PREFECT_HOST            address the server listens on            (default 127.0.0.1;
#                           0.0.0.0 lets workers on other machines in, see docs/scale-out.md)
#   INFLUENCERS_WORKERS     how many workers to start on this machine (default 1)
#   INFLUENCERS_WORKER_LIMIT  flow runs one worker runs at once       (default 4)
#   INFLUENCERS_RUN_DIR     where pids and logs go                    (default .prefect/run)
#   PREFECT_UI_API_URL      the API's address as browsers reach it   (default the local one)
#   PREFECT_API_DATABASE_CONNECTION_URL  PostgreSQL instead of SQLite (docs/scale-out.md)
#   INFLUENCERS_LAKE_CATALOG, INFLUENCERS_LAKE_DATA_PATH, PGPASSWORD  the lake the workers write
#                           (default data/lake.sqlite; PostgreSQL for several writers, same doc)
set -euo pipefail
cd "$(dirname "$0")/.."

port=${PREFECT_PORT:-4200}
host=${PREFECT_HOST:-127.0.0.1}
workers=${INFLUENCERS_WORKERS:-1}
worker_limit=${INFLUENCERS_WORKER_LIMIT:-4}
run_dir=${INFLUENCERS_RUN_DIR:-.prefect/run}
prefect=${PREFECT_BIN:-.venv/bin/prefect}
python=${PYTHON_BIN:-.venv/bin/python}
mkdir -p "$run_dir"

export PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1
export PREFECT_API_URL="http://127.0.0.1:${port}/api"
# The UI looks for its API on port 4200 unless told otherwise; browsers on other machines need
# the server's network address here (docs/scale-out.md).
export PREFECT_UI_API_URL="${PREFECT_UI_API_URL:-$PREFECT_API_URL}"
export INFLUENCERS_NIGHTLY_CRON=${INFLUENCERS_NIGHTLY_CRON:-"0 2 * * *"}
export INFLUENCERS_WEEKLY_CRON=${INFLUENCERS_WEEKLY_CRON:-"0 6 * * 1"}
export INFLUENCERS_MAINTENANCE_CRON=${INFLUENCERS_MAINTENANCE_CRON:-"0 4 * * 0"}
export INFLUENCERS_SCHEDULE_TIMEZONE=${INFLUENCERS_SCHEDULE_TIMEZONE:-UTC}
# The warehouse package's warnings (a load retried after a commit conflict) in the runs' logs.
export PREFECT_LOGGING_EXTRA_LOGGERS=${PREFECT_LOGGING_EXTRA_LOGGERS:-warehouse}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if alive "$run_dir/server.pid"; then
  echo "Prefect server already running (pid $(cat "$run_dir/server.pid"))"
else
  setsid "$prefect" server start --host "$host" --port "$port" \
    >"$run_dir/server.log" 2>&1 < /dev/null &
  echo $! > "$run_dir/server.pid"
fi

"$python" - "$PREFECT_API_URL" <<'PY'
import sys, time, urllib.request
url = sys.argv[1] + "/health"
deadline = time.monotonic() + 120
while True:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            if answer.status == 200:
                break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit(f"the Prefect server did not answer {url} within 120 s; see its log")
    time.sleep(1)
PY

"$prefect" work-pool inspect influencers >/dev/null 2>&1 \
  || "$prefect" work-pool create influencers --type process >/dev/null
# One slot: runs writing a lake whose catalog is a SQLite file take turns for it. The limit lives
# on the server and the catalog is each worker's setting, so it is always created; runs writing a
# PostgreSQL catalog never take it.
"$prefect" global-concurrency-limit inspect warehouse-writer >/dev/null 2>&1 \
  || "$prefect" global-concurrency-limit create warehouse-writer --limit 1 >/dev/null
"$prefect" --no-prompt deploy --all >"$run_dir/deploy.log" 2>&1 \
  || { cat "$run_dir/deploy.log"; exit 1; }

for number in $(seq 1 "$workers"); do
  pid_file="$run_dir/worker-$number.pid"
  if alive "$pid_file"; then
    continue
  fi
  setsid "$prefect" worker start --pool influencers --name "$(hostname)-worker-$number" \
    --limit "$worker_limit" \
    >"$run_dir/worker-$number.log" 2>&1 < /dev/null &
  echo $! > "$pid_file"
done

echo "Prefect UI: http://127.0.0.1:${port}  (deployments: nightly, weekly-reports, backfill)"
echo "Workers: $workers on pool 'influencers'; logs in $run_dir; stop with: make down"
