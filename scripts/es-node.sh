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

ES_VERSION=${ES_VERSION:-9.5.4}
ES_PORT=${ES_PORT:-9200}
ES_HEAP=${ES_HEAP:-512m}
ES_START_TIMEOUT=${ES_START_TIMEOUT:-120}
ES_USER=fedsearch-es
MIN_JAVA=21
if [[ $(id -u) == 0 ]]; then
  WORK=${FEDSEARCH_ES_HOME:-/var/lib/fedsearch-es}
else
  WORK=${FEDSEARCH_ES_HOME:-$HOME/.cache/fedsearch/es}
fi
ES_HOME="$WORK/elasticsearch-$ES_VERSION"
NODE_DIR="$WORK/node-$ES_PORT"
PID_FILE="$NODE_DIR/es.pid"
URL="http://127.0.0.1:$ES_PORT"
ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip"
M2_REPO=${M2_REPO:-$HOME/.m2/repository}
ZIP="$M2_REPO/org/elasticsearch/distribution/integ-test-zip/elasticsearch/$ES_VERSION/elasticsearch-$ES_VERSION.zip"

say() { echo "es-node: $*"; }
die() { echo "es-node: error: $*" >&2; exit 1; }

java_major() {  # the feature version of the JDK at $1, or nothing
  local release="$1/release" v
  [[ -x "$1/bin/java" ]] || return 0
  if [[ -f $release ]]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
  fi
  echo "$v"
}

find_java() {
  local candidates=() dir best="" best_v=0 v
  [[ -n ${ES_JAVA_HOME:-} ]] && candidates+=("$ES_JAVA_HOME")
  [[ -n ${JAVA_HOME:-} ]] && candidates+=("$JAVA_HOME")
  for dir in /usr/lib/jvm/*; do [[ -L $dir ]] || candidates+=("$dir"); done
  if command -v java >/dev/null; then candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"); fi
  for dir in "${candidates[@]}"; do
    v=$(java_major "$dir")
    if [[ -n ${ES_JAVA_HOME:-} && $dir == "$ES_JAVA_HOME" ]]; then
      [[ -n $v && $v -ge $MIN_JAVA ]] || die "ES_JAVA_HOME=$ES_JAVA_HOME is not a JDK >= $MIN_JAVA (found '${v:-none}')"
      echo "$dir"; return
    fi
    if [[ -n $v && $v -ge $MIN_JAVA && $v -gt $best_v ]]; then best=$dir; best_v=$v; fi
  done
  [[ -n $best ]] || die "Elasticsearch $ES_VERSION needs a JDK >= $MIN_JAVA; none found under /usr/lib/jvm, \$JAVA_HOME or PATH (set ES_JAVA_HOME)"
  echo "$best"
}

fetch() {
  if [[ ! -f $ZIP ]]; then
    command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch $ARTIFACT"
    say "fetching $ARTIFACT with Maven"
    mvn -q -B dependency:get -Dartifact="$ARTIFACT" -Dtransitive=false -Dmaven.repo.local="$M2_REPO" \
      || die "Maven could not fetch $ARTIFACT (is $ES_VERSION published to Maven Central? 9.5.4 is)"
    [[ -f $ZIP ]] || die "Maven reported success but $ZIP is missing (is M2_REPO right?)"
  fi
  if [[ ! -x $ES_HOME/bin/elasticsearch ]]; then
    say "unpacking into $ES_HOME"
    mkdir -p "$WORK"
    rm -rf "$ES_HOME.partial"
    mkdir "$ES_HOME.partial"
    if command -v unzip >/dev/null; then
      unzip -q "$ZIP" -d "$ES_HOME.partial"
    else  # keep the files' modes (bin/ must stay executable)
      python3 - "$ZIP" "$ES_HOME.partial" <<'EOF'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        path = z.extract(info, sys.argv[2])
        mode = info.external_attr >> 16
        if mode:
            os.chmod(path, mode & 0o7777)
EOF
    fi
    mv "$ES_HOME.partial/elasticsearch-$ES_VERSION" "$ES_HOME"
    rm -rf "$ES_HOME.partial"
  fi
}

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

port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$ES_PORT") 2>/dev/null
}

start() {
  if pid=$(running_pid); then
    healthy || die "a node (pid $pid) is running from $NODE_DIR but $URL is not healthy; see $NODE_DIR/logs"
    say "already running: pid $pid, $URL"
    return 0
  fi
  port_busy && die "port $ES_PORT is already in use by another process; stop it or choose another ES_PORT"
  local java started elapsed
  java=$(find_java)
  fetch
  mkdir -p "$NODE_DIR/data" "$NODE_DIR/logs"
  rm -f "$PID_FILE"
  local run=()
  if [[ $(id -u) == 0 ]]; then
    # Elasticsearch refuses to run as root: run it as a system user of its own.
    if ! id "$ES_USER" >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
    fi
    chown -R "$ES_USER:" "$WORK"
    run=(runuser -u "$ES_USER" --)
    "${run[@]}" test -x "$ES_HOME/bin/elasticsearch" \
      || die "user $ES_USER can't reach $ES_HOME; put FEDSEARCH_ES_HOME somewhere it can enter (not under /root)"
  fi
  say "starting Elasticsearch $ES_VERSION on $URL (JDK $(java_major "$java") at $java, heap $ES_HEAP)"
  started=$(date +%s%3N)
  if ! "${run[@]}" env ES_JAVA_HOME="$java" ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP" \
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
  local pid waited=0
  if ! pid=$(running_pid); then
    say "not running (no live pid in $PID_FILE)"
    return 0
  fi
  kill "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    if (( waited >= 60 )); then
      say "pid $pid still running after 60 s; killing it"
      kill -9 "$pid" 2>/dev/null || true
      break
    fi
    sleep 1
    waited=$((waited + 1))
  done
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
