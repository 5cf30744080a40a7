#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, combined broker+controller) for local dev and CI,
# without Docker: the broker jars come from Maven Central and run on the local JVM.
set -euo pipefail

usage() {
  cat <<EOF
Usage: deploy/local/kafka.sh start|stop|status|restart|logs [-f]|--help

  start    fetch Kafka on first use, format storage once, start in the background
           and wait until the broker serves on 127.0.0.1:\$KAFKA_PORT
  stop     stop the broker started from this data dir (SIGTERM, then SIGKILL)
  status   exit 0 if running, 3 if not
  restart  stop then start
  logs     print the last 100 lines of the broker log (-f: follow)

Environment (defaults):
  KAFKA_VERSION          ${DEFAULT_VERSION} (4.x; the logging setup is log4j2)
  KAFKA_PORT             19092
  KAFKA_CONTROLLER_PORT  KAFKA_PORT+1
  KAFKA_HOME_DIR         <repo>/.cache/kafka   (jar cache, per version)
  KAFKA_DATA_DIR         \$KAFKA_HOME_DIR/data-\$KAFKA_PORT
  KAFKA_HEAP             -Xmx512m -Xms256m
  KAFKA_START_TIMEOUT    90 (seconds)
  KAFKA_STOP_TIMEOUT     30 (seconds)
EOF
}

# Newest 4.x that kafkajs 2.2.4 was verified against (produce, groups, commits, admin).
DEFAULT_VERSION=4.4.0
# Pinned so the result does not depend on Maven's built-in default plugin version.
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

KAFKA_VERSION=${KAFKA_VERSION:-$DEFAULT_VERSION}
KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
KAFKA_HOME_DIR=${KAFKA_HOME_DIR:-$REPO_ROOT/.cache/kafka}
KAFKA_DATA_DIR=${KAFKA_DATA_DIR:-$KAFKA_HOME_DIR/data-$KAFKA_PORT}
KAFKA_HEAP=${KAFKA_HEAP:--Xmx512m -Xms256m}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
KAFKA_STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}

LIB_DIR=$KAFKA_HOME_DIR/$KAFKA_VERSION/libs
PID_FILE=$KAFKA_DATA_DIR/kafka.pid
LOG_FILE=$KAFKA_DATA_DIR/server.log
OUT_FILE=$KAFKA_DATA_DIR/kafka.out
PROPS=$KAFKA_DATA_DIR/server.properties
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

log() { echo "kafka.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# Maven writes into a scratch dir that is renamed into place only when complete,
# so an interrupted first run never leaves a half-filled cache behind.
fetch_libs() {
  [[ -f $LIB_DIR/.complete ]] && return 0
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch Kafka $KAFKA_VERSION)"
  log "fetching Apache Kafka $KAFKA_VERSION from Maven Central (first run only)"
  mkdir -p "$KAFKA_HOME_DIR"
  # Keeps the jar cache out of `git status` without touching the repo's .gitignore.
  [[ -f $KAFKA_HOME_DIR/.gitignore ]] || echo '*' >"$KAFKA_HOME_DIR/.gitignore"
  local work
  work=$(mktemp -d "$KAFKA_HOME_DIR/.fetch-$KAFKA_VERSION.XXXXXX")
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.sessionwatch</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  maven() {
    mvn -B -q -Dstyle.color=never -f "$work/pom.xml" "$@" >"$work/mvn.log" 2>&1 ||
      { cat "$work/mvn.log" >&2; rm -rf "$work"; die "Maven failed: $*"; }
  }
  maven "$DEP_PLUGIN:copy-dependencies" -DincludeScope=runtime -DoutputDirectory="$work/libs"
  # The broker logs through slf4j, but its pom brings no slf4j binding (and before 4.1
  # no log4j at all); without one every broker log line is silently dropped. Match
  # the log4j the pom chose, else use the one the Kafka 4.0 distribution ships.
  local core log4j=2.24.3 binding='log4j-slf4j2-impl' artifact
  local -a extra=()
  core=$(find "$work/libs" -name 'log4j-core-*.jar' -print -quit)
  if [[ -n $core ]]; then
    log4j=${core##*/log4j-core-}
    log4j=${log4j%.jar}
  else
    extra=(log4j-api log4j-core)
  fi
  [[ -n $(find "$work/libs" -name 'slf4j-api-1.*.jar' -print -quit) ]] && binding='log4j-slf4j-impl'
  for artifact in "${extra[@]}" "$binding"; do
    maven "$DEP_PLUGIN:copy" -Dartifact="org.apache.logging.log4j:$artifact:$log4j" -DoutputDirectory="$work/libs"
  done
  touch "$work/libs/.complete"
  rm -rf "$LIB_DIR"
  mkdir -p "${LIB_DIR%/*}"
  mv "$work/libs" "$LIB_DIR"
  rm -rf "$work"
}

# A pid only counts while it is still this data dir's broker: pids get reused.
running_pid() {
  local pid
  [[ -f $PID_FILE ]] || return 1
  pid=$(<"$PID_FILE")
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F "kafka.Kafka $PROPS" >/dev/null || return 1
  echo "$pid"
}

# A zombie counts as gone: under a PID 1 that never reaps, kill -0 would wait forever.
alive() { local state; state=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [[ $state != Z ]]; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_config() {
  cat >"$PROPS" <<EOF
# Generated by deploy/local/kafka.sh on every start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DATA_DIR/logs
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
}

# Sets JAVA_ARGS: the JVM command line shared by the storage formatter and the broker.
java_args() {
  # shellcheck disable=SC2206  # KAFKA_HEAP is a list of JVM flags
  JAVA_ARGS=("$JAVA" $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true -Dkafka.logs.dir="$KAFKA_DATA_DIR"
    -Dlog4j2.configurationFile="$SCRIPT_DIR/kafka-log4j2.properties"
    -cp "$LIB_DIR/*")
}

print_logs() {
  local f
  for f in "$LOG_FILE" "$OUT_FILE"; do
    [[ -s $f ]] && { log "last 40 lines of $f:"; tail -n 40 "$f" >&2; }
  done
  return 0
}

cmd_start() {
  local pid
  if pid=$(running_pid); then
    log "already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"; return 0
  fi
  rm -f "$PID_FILE"
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_open "$p" && die "port $p on 127.0.0.1 is already in use by another process"
  done
  command -v "$JAVA" >/dev/null || die "java not found (Java 17+ required)"
  fetch_libs
  mkdir -p "$KAFKA_DATA_DIR"
  write_config
  java_args

  if [[ ! -f $KAFKA_DATA_DIR/logs/meta.properties ]]; then
    [[ -s $KAFKA_DATA_DIR/cluster-id ]] ||
      # base64url of 16 random bytes, like Kafka's own ids; never starting with '-', which the storage
      # tool's argument parser would take for an option (Kafka's Uuid.randomUuid avoids it the same way).
      head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | sed 's/^-/A/' >"$KAFKA_DATA_DIR/cluster-id"
    "${JAVA_ARGS[@]}" kafka.tools.StorageTool format --ignore-formatted \
        --cluster-id="$(<"$KAFKA_DATA_DIR/cluster-id")" -c "$PROPS" >"$OUT_FILE" 2>&1 ||
      { print_logs; die "formatting KRaft storage in $KAFKA_DATA_DIR/logs failed"; }
  fi

  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (logs: $LOG_FILE)"
  # setsid: a Ctrl-C aimed at the caller must not take the broker down. Without job
  # control the child leads no process group, so setsid and nohup exec in place and
  # $! is the JVM's own pid.
  setsid nohup "${JAVA_ARGS[@]}" kafka.Kafka "$PROPS" </dev/null >"$OUT_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"

  # Ready means answering real requests with the group coordinator loaded (see KafkaReady.java).
  # The probe starts right away, so its compile and JVM start overlap the broker's; its
  # admin client retries until the listener opens.
  "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 -cp "$LIB_DIR/*" "$SCRIPT_DIR/KafkaReady.java" \
    "127.0.0.1:$KAFKA_PORT" "$((KAFKA_START_TIMEOUT * 1000))" >"$KAFKA_DATA_DIR/ready.out" 2>&1 &
  local probe=$! deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  # alive, not running_pid: right after the fork the child has not exec'd java yet.
  while alive "$pid" && alive "$probe" && ((SECONDS < deadline)); do sleep 0.3; done
  if ! alive "$pid"; then
    kill "$probe" 2>/dev/null || true
    rm -f "$PID_FILE"; print_logs; die "broker exited during startup"
  fi
  if ! alive "$probe"; then
    wait "$probe" && return 0
    cat "$KAFKA_DATA_DIR/ready.out" >&2
  fi
  kill "$probe" 2>/dev/null || true
  print_logs
  # A half-started broker would hold the ports and the data dir lock: leave nothing behind.
  cmd_stop
  die "broker not ready within ${KAFKA_START_TIMEOUT}s (raise KAFKA_START_TIMEOUT on a slow machine)"
}

cmd_stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$PID_FILE"; log "not running"; return 0
  fi
  kill -TERM "$pid"
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT)) signal=TERM
  while alive "$pid"; do
    if [[ $signal == TERM ]] && ((SECONDS >= deadline)); then
      log "still running ${KAFKA_STOP_TIMEOUT}s after SIGTERM, sending SIGKILL to $pid"
      kill -KILL "$pid" 2>/dev/null || true
      signal=KILL
    fi
    sleep 0.3
  done
  rm -f "$PID_FILE"
}

cmd_status() {
  local pid
  if pid=$(running_pid); then
    echo "running (pid $pid) Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT, data $KAFKA_DATA_DIR"
  else
    echo "not running (127.0.0.1:$KAFKA_PORT, data $KAFKA_DATA_DIR)"; exit 3
  fi
}

cmd_logs() {
  [[ -f $LOG_FILE ]] || die "no log yet at $LOG_FILE"
  if [[ ${1:-} == -f ]]; then tail -n 100 -F "$LOG_FILE"; else tail -n 100 "$LOG_FILE"; fi
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  restart) cmd_stop; cmd_start ;;
  logs) shift; cmd_logs "$@" ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
