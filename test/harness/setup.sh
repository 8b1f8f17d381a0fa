#!/usr/bin/env bash
# Installs and caches every engine the harness runs, and nothing that is already there:
#   - Debian packages: nats-server (2.9.10), zookeeper (3.8) and the log4j/SLF4J jars its members log with,
#     a Java 17 runtime and Maven (apt-get update only when something must be installed);
#   - Maven Central jars, one small pom per engine in test/harness/maven/, resolved with
#     `mvn dependency:copy-dependencies` into ~/.cache/drover/lib/<engine>-<version> (downloads cached in ~/.m2);
#   - the current nats-server and versitygw (an S3-compatible server, for log shipping), built once with
#     `go install` from the Go module proxy into ~/.cache/drover/bin.
# Versions come from test/harness/versions.env. A second run downloads nothing and takes about a second.
set -euo pipefail
cd "$(dirname "$0")"
HARNESS_DIR="$(pwd)"
# shellcheck source=versions.env
source "$HARNESS_DIR/versions.env"

CACHE_DIR="${DROVER_CACHE_DIR:-$HOME/.cache/drover}"
JAVA_HOME_17="${DROVER_JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
started=$(date +%s)
did=()
log() { echo "harness setup: $*"; }
elapsed() { echo "$(($(date +%s) - $1))s"; }

# --- Debian packages ------------------------------------------------------------------------------
apt_missing=()
[ -x /usr/sbin/nats-server ] || apt_missing+=(nats-server)
[ -f /usr/share/java/zookeeper.jar ] || apt_missing+=(zookeeper)
[ -f /usr/share/java/slf4j-log4j12.jar ] || apt_missing+=(libslf4j-java)
[ -f /usr/share/java/log4j-1.2.jar ] || apt_missing+=(liblog4j1.2-java)
[ -x "$JAVA_HOME_17/bin/java" ] || apt_missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || apt_missing+=(maven)
if [ ${#apt_missing[@]} -gt 0 ]; then
  t=$(date +%s)
  log "installing Debian packages: ${apt_missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${apt_missing[@]}" >/dev/null
  did+=("apt: ${apt_missing[*]} ($(elapsed "$t"))")
fi

# --- Go-built servers: the current nats-server and versitygw (S3), built in the background ----------
# while Maven downloads, each once per machine into ~/.cache/drover/bin.
go_pids=()
go_names=()
go_build() { # name module version
  local name=$1 module=$2 version=$3
  local bin="$CACHE_DIR/bin/$name-$version"
  [ -x "$bin" ] && return
  GO="$(command -v go || echo /usr/local/go/bin/go)"
  if [ ! -x "$GO" ]; then
    log "FAILED: Go is needed to build $name $version (looked for go on PATH and /usr/local/go/bin/go)" >&2
    exit 1
  fi
  log "building $name $version with $("$GO" version | cut -d' ' -f3) (1-2 minutes, once per machine)"
  mkdir -p "$CACHE_DIR/bin"
  local gobin
  gobin="$(mktemp -d)"
  (t=$(date +%s) && cd "$gobin" && GOBIN="$gobin" GOFLAGS=-mod=mod "$GO" install "$module@$version" &&
    mv "$gobin/$(basename "${module%/v2}")" "$bin" && rm -rf "$gobin" &&
    echo "go: $name $version ($(elapsed "$t"))" >"$bin.built") >"$bin.build.log" 2>&1 &
  go_pids+=($!)
  go_names+=("$name-$version")
}
go_build nats-server github.com/nats-io/nats-server/v2 "$NATS_CURRENT_VERSION"
go_build versitygw github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION"
[ ${#go_pids[@]} -gt 0 ] && trap 'kill "${go_pids[@]}" 2>/dev/null || true' EXIT

# --- Maven Central jars ---------------------------------------------------------------------------
# A lib dir is complete when its .complete file holds the sha256 of the pom that filled it.
fetch_jars() { # name version
  local name=$1 version=$2
  local pom="$HARNESS_DIR/maven/$name.pom.xml"
  local dest="$CACHE_DIR/lib/$name-$version"
  local want
  want="$(sha256sum "$pom" | cut -d' ' -f1) $version"
  if [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$want" ]; then return; fi
  local t
  t=$(date +%s)
  log "resolving $name $version from Maven Central into $dest"
  local tmp="$dest.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$dest")"
  local mvn_log="$CACHE_DIR/lib/$name-$version.mvn.log"
  if ! JAVA_HOME="$JAVA_HOME_17" mvn -B -q -f "$pom" dependency:copy-dependencies \
      -Dengine.version="$version" -DincludeScope=runtime -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    tail -40 "$mvn_log" >&2
    log "FAILED: mvn for $name $version (full log: $mvn_log)" >&2
    exit 1
  fi
  rm -rf "$dest"
  mv "$tmp" "$dest"
  echo "$want" >"$dest/.complete"
  did+=("maven: $name $version, $(find "$dest" -name '*.jar' | wc -l) jars ($(elapsed "$t"))")
}
fetch_jars kafka-zk "$KAFKA_ZK_VERSION"
fetch_jars kafka-kraft "$KAFKA_KRAFT_VERSION"
fetch_jars cassandra "$CASSANDRA_VERSION"

for i in "${!go_pids[@]}"; do
  bin="$CACHE_DIR/bin/${go_names[$i]}"
  if ! wait "${go_pids[$i]}"; then
    tail -40 "$bin.build.log" >&2
    log "FAILED: go install ${go_names[$i]} (full log: $bin.build.log)" >&2
    exit 1
  fi
  did+=("$(cat "$bin.built")")
done
trap - EXIT

if [ ${#did[@]} -eq 0 ]; then
  log "everything already cached ($(elapsed "$started")): nats-server $(/usr/sbin/nats-server --version | cut -d' ' -f2) and $NATS_CURRENT_VERSION, ZooKeeper 3.8 (Debian), Kafka $KAFKA_ZK_VERSION and $KAFKA_KRAFT_VERSION, Cassandra $CASSANDRA_VERSION, versitygw $VERSITYGW_VERSION"
else
  for line in "${did[@]}"; do log "did $line"; done
  log "done in $(elapsed "$started")"
fi
