#!/usr/bin/env bash
# One local Elasticsearch node for development and CI: scripts/es-node.sh start|stop|status
#
# The node is Elasticsearch's integration-test distribution, fetched from Maven
# Central with Maven (cached in ~/.m2), run on 127.0.0.1 as a single-node
# cluster without security. It lacks the analysis-common module, which is fine:
# fedsearch analyzes text itself (docs/engines.md).
#
# Environment:
#   ES_VERSION        version to run (default 9.5.4; the Python client's major must match)
#   ES_PORT           HTTP port (default 9200); each port is its own node with its own data
#   ES_HEAP           JVM heap (default 512m)
#   ES_JAVA_HOME      a JDK >= 21 (default: the newest one found under /usr/lib/jvm)
#   FEDSEARCH_ES_HOME work directory (default ~/.cache/fedsearch/es; as root
#                     /var/lib/fedsearch-es, since the node then runs as the system
#                     user fedsearch-es, which can't enter /root)
#   ES_START_TIMEOUT  seconds to wait for the node to be ready (default 120)
set -euo pipefail

ES_PORT=${ES_PORT:-9200}
ES_HEAP=${ES_HEAP:-512m}
ES_START_TIMEOUT=${ES_START_TIMEOUT:-120}

say() { echo "es-node: $*"; }
die() { echo "es-node: error: $*" >&2; exit 1; }
# shellcheck source=scripts/es-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/es-lib.sh"
NODE_DIR="$WORK/node-$ES_PORT"
PID_FILE="$NODE_DIR/es.pid"
URL="http://127.0.0.1:$ES_PORT"

healthy() {  # the cluster answers with status yellow or green
  curl -fsS --max-time 5 "$URL/_cluster/health" 2>/dev/null | grep -Eq '"status":"(green|yellow)"'
}

running_pid() {
  [[ -f $PID_FILE ]] || return 1
  local pid
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

log_tail() {  # this start's lines of the node's log, if it wrote any
  local log="$NODE_DIR/logs/fedsearch-dev.log"
  if [[ -f $log && $log -nt $NODE_DIR/start.log ]]; then tail -n 40 "$log" >&2; else cat "$NODE_DIR/start.log" >&2; fi
}

start() {
  if pid=$(running_pid); then
    healthy || die "a node (pid $pid) is running from $NODE_DIR but $URL is not healthy; see $NODE_DIR/logs"
    say "already running: pid $pid, $URL"
    return 0
  fi
  port_busy "$ES_PORT" && die "port $ES_PORT is already in use by another process; stop it or choose another ES_PORT"
  local java started elapsed
  java=$(find_java)
  fetch
  mkdir -p "$NODE_DIR/data" "$NODE_DIR/logs"
  rm -f "$PID_FILE"
  prepare_user
  say "starting Elasticsearch $ES_VERSION on $URL (JDK $(java_major "$java") at $java, heap $ES_HEAP)"
  started=$(date +%s%3N)
  if ! "${RUN_AS[@]}" env ES_JAVA_HOME="$java" ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP" \
      "$ES_HOME/bin/elasticsearch" -d -p "$PID_FILE" \
      -E cluster.name=fedsearch-dev \
      -E node.name="fedsearch-dev-$ES_PORT" \
      -E network.host=127.0.0.1 \
      -E http.port="$ES_PORT" \
      -E discovery.type=single-node \
      -E xpack.security.enabled=false \
      -E cluster.routing.allocation.disk.threshold_enabled=false \
      -E path.data="$NODE_DIR/data" \
      -E path.logs="$NODE_DIR/logs" \
      >"$NODE_DIR/start.log" 2>&1; then
    cat "$NODE_DIR/start.log" >&2
    die "Elasticsearch did not start (output above; logs in $NODE_DIR/logs)"
  fi
  until healthy; do
    elapsed=$(( $(date +%s%3N) - started ))
    if ! running_pid >/dev/null; then
      log_tail
      die "Elasticsearch exited during start-up (log tail above; logs in $NODE_DIR/logs)"
    fi
    if (( elapsed > ES_START_TIMEOUT * 1000 )); then
      log_tail
      die "Elasticsearch was not ready within ${ES_START_TIMEOUT}s (log tail above)"
    fi
    sleep 0.5
  done
  elapsed=$(( $(date +%s%3N) - started ))
  say "ready: Elasticsearch $ES_VERSION, pid $(running_pid), $URL, started in $((elapsed / 1000)).$(printf '%03d' $((elapsed % 1000))) s"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    say "not running (no live pid in $PID_FILE)"
    return 0
  fi
  stop_pid "$pid" "pid $pid"
  rm -f "$PID_FILE"
  say "stopped pid $pid"
}

status() {
  local health
  if ! health=$(curl -fsS --max-time 5 "$URL/_cluster/health?pretty" 2>/dev/null); then
    say "no node answers at $URL"
    return 1
  fi
  if pid=$(running_pid); then say "pid $pid, $URL"; else say "$URL answers, but not a node this script started from $NODE_DIR"; fi
  echo "$health"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
