# Shared by scripts/es-node.sh and scripts/es-cluster.sh (sourced, not run): where the
# distribution lives, finding a JDK, fetching and unpacking the Maven zip, and running
# as a system user when started as root.
#
# The caller sets `say` and `die` first. Environment: ES_VERSION, ES_JAVA_HOME,
# FEDSEARCH_ES_HOME, M2_REPO (see scripts/es-node.sh).

ES_VERSION=${ES_VERSION:-9.5.4}
ES_USER=fedsearch-es
MIN_JAVA=21
if [[ $(id -u) == 0 ]]; then
  WORK=${FEDSEARCH_ES_HOME:-/var/lib/fedsearch-es}
else
  WORK=${FEDSEARCH_ES_HOME:-$HOME/.cache/fedsearch/es}
fi
ES_HOME="$WORK/elasticsearch-$ES_VERSION"
ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip"
M2_REPO=${M2_REPO:-$HOME/.m2/repository}
ZIP="$M2_REPO/org/elasticsearch/distribution/integ-test-zip/elasticsearch/$ES_VERSION/elasticsearch-$ES_VERSION.zip"

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

# Elasticsearch refuses to run as root: as root, sets RUN_AS to run it as a system user of
# its own (created once) and hands it WORK; otherwise RUN_AS is empty.
prepare_user() {
  RUN_AS=()
  [[ $(id -u) == 0 ]] || return 0
  if ! id "$ES_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
  fi
  chown -R "$ES_USER:" "$WORK"
  RUN_AS=(runuser -u "$ES_USER" --)
  "${RUN_AS[@]}" test -x "$ES_HOME/bin/elasticsearch" \
    || die "user $ES_USER can't reach $ES_HOME; put FEDSEARCH_ES_HOME somewhere it can enter (not under /root)"
}

ms_since() { echo $(( $(date +%s%3N) - $1 )); }
seconds() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }  # milliseconds as "12.345"
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_pid() {  # SIGTERM pid $1 ($2 names it) and wait; SIGKILL after 60 s
  local pid=$1 waited=0
  kill "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    if (( waited >= 60 )); then
      say "$2 still running after 60 s; killing it"
      kill -9 "$pid" 2>/dev/null || true
      break
    fi
    sleep 1
    waited=$((waited + 1))
  done
}
