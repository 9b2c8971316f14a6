#!/usr/bin/env bash
# A local Elasticsearch cluster of several nodes on 127.0.0.1, for the cluster tests and for
# trying node loss: scripts/es-cluster.sh start|stop|kill NODE|status
#
#   start       start every node that is not running (all at once), wait until the cluster
#               has them all and is green (yellow is enough with ES_CLUSTER_WAIT=yellow)
#   stop        stop every node (SIGTERM, then SIGKILL after 60 s)
#   kill NODE   SIGKILL one node (1, 2, ... or es1, es2, ...): a crash, for tests
#   status      each node's pid and the cluster's health
#
# Same distribution and JDK as scripts/es-node.sh (shared code in scripts/es-lib.sh). Each
# node is master-eligible and holds data; discovery is discovery.seed_hosts over the
# transport ports; the first start bootstraps with cluster.initial_master_nodes.
#
# Environment (defaults keep clear of es-node.sh's 9200/9300 and CI's 9201):
#   ES_CLUSTER_NAME        cluster name, also its folder under FEDSEARCH_ES_HOME (default fedsearch-cluster)
#   ES_CLUSTER_NODES       number of nodes (default 3)
#   ES_CLUSTER_HTTP_PORT   HTTP port of node 1; node N uses this + N - 1 (default 9211)
#   ES_CLUSTER_TRANSPORT_PORT  transport port of node 1, likewise (default 9311)
#   ES_CLUSTER_HEAP        JVM heap per node (default 384m)
#   ES_CLUSTER_PROCESSORS  processors each node sizes its thread pools for (default 1: small machines)
#   ES_CLUSTER_REPO        snapshot repository folder (path.repo); shared by every cluster started
#                          with the same value, so a snapshot restores into a fresh cluster
#                          (default FEDSEARCH_ES_HOME/snapshots)
#   ES_CLUSTER_WAIT        green (default) or yellow: what `start` waits for
#   ES_START_TIMEOUT       seconds to wait (default 300: a busy 2-core machine starts three JVMs slowly)
#   and ES_VERSION, ES_JAVA_HOME, FEDSEARCH_ES_HOME, M2_REPO as for es-node.sh.
set -euo pipefail

say() { echo "es-cluster: $*"; }
die() { echo "es-cluster: error: $*" >&2; exit 1; }
# shellcheck source=scripts/es-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/es-lib.sh"

NAME=${ES_CLUSTER_NAME:-fedsearch-cluster}
NODES=${ES_CLUSTER_NODES:-3}
HTTP_PORT=${ES_CLUSTER_HTTP_PORT:-9211}
TRANSPORT_PORT=${ES_CLUSTER_TRANSPORT_PORT:-9311}
HEAP=${ES_CLUSTER_HEAP:-384m}
PROCESSORS=${ES_CLUSTER_PROCESSORS:-1}
REPO=${ES_CLUSTER_REPO:-$WORK/snapshots}
WAIT_FOR=${ES_CLUSTER_WAIT:-green}
ES_START_TIMEOUT=${ES_START_TIMEOUT:-300}
CLUSTER_DIR="$WORK/cluster-$NAME"

[[ $NAME =~ ^[a-z0-9][a-z0-9_-]*$ ]] || die "ES_CLUSTER_NAME=$NAME: use lower-case letters, digits, - and _"
[[ $NODES =~ ^[1-9][0-9]?$ ]] || die "ES_CLUSTER_NODES=$NODES: give a number of nodes from 1 to 99"
[[ $WAIT_FOR == green || $WAIT_FOR == yellow ]] || die "ES_CLUSTER_WAIT=$WAIT_FOR: use green or yellow"
for port in 9200 9300; do  # the shared development node's ports
  (( HTTP_PORT > port || HTTP_PORT + NODES <= port )) || die "ES_CLUSTER_HTTP_PORT=$HTTP_PORT would take port $port"
  (( TRANSPORT_PORT > port || TRANSPORT_PORT + NODES <= port )) || die "ES_CLUSTER_TRANSPORT_PORT=$TRANSPORT_PORT would take port $port"
done

node_dir() { echo "$CLUSTER_DIR/es$1"; }
http_url() { echo "http://127.0.0.1:$((HTTP_PORT + $1 - 1))"; }

running_pid() {  # the live pid of node $1, or failure
  local file pid
  file="$(node_dir "$1")/es.pid"
  [[ -f $file ]] || return 1
  pid=$(cat "$file" 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

health() {  # the cluster's health as any live node reports it
  local n
  for ((n = 1; n <= NODES; n++)); do
    running_pid "$n" >/dev/null || continue
    curl -fsS --max-time 5 "$(http_url "$n")/_cluster/health" 2>/dev/null && return 0
  done
  return 1
}

ready() {  # all nodes joined, status at least $WAIT_FOR
  local h
  h=$(health) || return 1
  [[ $h == *"\"number_of_nodes\":$NODES,"* ]] || return 1
  if [[ $WAIT_FOR == green ]]; then [[ $h == *'"status":"green"'* ]]; else [[ $h =~ \"status\":\"(green|yellow)\" ]]; fi
}

node_args() {  # the settings of node $1
  local n=$1 seeds=() masters=() i
  for ((i = 1; i <= NODES; i++)); do
    seeds+=("127.0.0.1:$((TRANSPORT_PORT + i - 1))")
    masters+=("es$i")
  done
  local dir
  dir=$(node_dir "$n")
  printf '%s\n' \
    -E "cluster.name=$NAME" -E "node.name=es$n" -E network.host=127.0.0.1 \
    -E "http.port=$((HTTP_PORT + n - 1))" -E "transport.port=$((TRANSPORT_PORT + n - 1))" \
    -E "discovery.seed_hosts=$(IFS=,; echo "${seeds[*]}")" \
    -E "node.processors=$PROCESSORS" -E xpack.security.enabled=false \
    -E cluster.routing.allocation.disk.threshold_enabled=false \
    -E "path.data=$dir/data" -E "path.logs=$dir/logs" -E "path.repo=$REPO"
  # Bootstrapping is for a cluster's very first start only; a node with data already belongs to one.
  if [[ -z $(ls -A "$dir/data" 2>/dev/null) ]]; then
    printf '%s\n' -E "cluster.initial_master_nodes=$(IFS=,; echo "${masters[*]}")"
  fi
}

start() {
  local n java started pid to_start=()
  for ((n = 1; n <= NODES; n++)); do
    if pid=$(running_pid "$n"); then
      say "es$n already running: pid $pid, $(http_url "$n")"
      continue
    fi
    port_busy $((HTTP_PORT + n - 1)) && die "port $((HTTP_PORT + n - 1)) (es$n's HTTP) is in use by another process"
    port_busy $((TRANSPORT_PORT + n - 1)) && die "port $((TRANSPORT_PORT + n - 1)) (es$n's transport) is in use by another process"
    to_start+=("$n")
  done
  if (( ${#to_start[@]} )); then
    java=$(find_java)
    fetch
    mkdir -p "$REPO"
    for n in "${to_start[@]}"; do mkdir -p "$(node_dir "$n")/data" "$(node_dir "$n")/logs"; rm -f "$(node_dir "$n")/es.pid"; done
    prepare_user
    say "starting ${#to_start[@]} of $NODES nodes of $NAME (Elasticsearch $ES_VERSION, JDK $(java_major "$java"), heap $HEAP each, HTTP from $HTTP_PORT)"
    started=$(date +%s%3N)
    # All at once: a node waits for the others to elect a master, so one-by-one would stall.
    for n in "${to_start[@]}"; do
      local dir args
      dir=$(node_dir "$n")
      mapfile -t args < <(node_args "$n")
      "${RUN_AS[@]}" env ES_JAVA_HOME="$java" ES_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP" \
        "$ES_HOME/bin/elasticsearch" -d -p "$dir/es.pid" "${args[@]}" >"$dir/start.log" 2>&1 &
    done
  fi
  started=${started:-$(date +%s%3N)}
  until ready; do
    for n in "${to_start[@]}"; do
      # The launcher writes the pid file once the node runs; no pid file and no launcher: it died.
      if ! running_pid "$n" >/dev/null && [[ -f $(node_dir "$n")/es.pid || -z $(jobs -pr) ]]; then
        tail -n 30 "$(node_dir "$n")/start.log" "$(node_dir "$n")/logs/$NAME.log" >&2 2>/dev/null || true
        die "es$n exited during start-up (log tail above; logs in $(node_dir "$n")/logs)"
      fi
    done
    if (( $(ms_since "$started") > ES_START_TIMEOUT * 1000 )); then
      health >&2 || true
      die "the cluster was not $WAIT_FOR with $NODES nodes within ${ES_START_TIMEOUT}s (logs in $CLUSTER_DIR/es*/logs)"
    fi
    sleep 1
  done
  wait  # the launchers, which exit once their node runs
  say "ready: $NAME, $NODES nodes, $WAIT_FOR, HTTP $(http_url 1) .. $(http_url "$NODES"), in $(seconds "$(ms_since "$started")") s"
}

stop_node() {
  local n=$1 pid
  pid=$(running_pid "$n") || return 0
  stop_pid "$pid" "es$n (pid $pid)"
  rm -f "$(node_dir "$n")/es.pid"
  say "stopped es$n (pid $pid)"
}

stop() {
  local n
  for ((n = 1; n <= NODES; n++)); do stop_node "$n" & done
  wait
}

kill_node() {
  local n=${1#es} pid
  [[ $n =~ ^[0-9]+$ ]] && (( n >= 1 && n <= NODES )) || die "no node '$1': give 1..$NODES or es1..es$NODES"
  pid=$(running_pid "$n") || die "es$n is not running"
  kill -9 "$pid"
  rm -f "$(node_dir "$n")/es.pid"
  say "killed es$n (pid $pid) with SIGKILL"
}

status() {
  local n pid h
  for ((n = 1; n <= NODES; n++)); do
    if pid=$(running_pid "$n"); then say "es$n: pid $pid, $(http_url "$n")"; else say "es$n: not running"; fi
  done
  h=$(health) || { say "no node of $NAME answers"; return 1; }
  echo "$h"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  kill) [[ -n ${2:-} ]] || die "usage: $0 kill NODE"; kill_node "$2" ;;
  status) status ;;
  *) echo "usage: $0 start|stop|kill NODE|status" >&2; exit 2 ;;
esac
