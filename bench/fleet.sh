#!/usr/bin/env bash
# Boots a fleet at once against one `flow emulate --limits aws` and reports: time to converge,
# failures, API calls per boot, the emulator's peak RSS, and the floor Route 53's quotas set.
#   bench/fleet.sh [N] [PARALLEL]      N instances (default 60); at most PARALLEL boots in flight
#                                      (default N: all at once)
#   REBOOT=1 bench/fleet.sh [N]        boot the fleet once, untimed, then measure it rebooting at
#                                      once: every boot a later boot (env file and record right)
# Each boot is `flow run workflows/boot.yaml` with AWS_ENDPOINT_URL and its own
# AWS_EC2_METADATA_SERVICE_ENDPOINT from `flow local -o json`, its files under its own --root.
# The instances are provisioned first without limits (flow run --local: the same state
# directory), so the time measured is the boots'. REFERENCE=1 also times bench/reference-boot.sh
# (the bash + AWS CLI sequence) for every instance under the same limits; it needs aws, curl, jq.
set -euo pipefail
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
N=${1:-60}
PAR=${2:-$N}
top=$(cd "$(dirname "$0")/.." && pwd)
export WORKDIR=$(mktemp -d)
emu=
trap '[ -n "$emu" ] && kill $emu 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORKDIR"' EXIT
go build -o "$WORKDIR/flow" "$top/cmd/flow"
cp -r "$top/workflows" "$WORKDIR/"
cd "$WORKDIR"
export FLOW_EMULATOR_SEED=fleet

seq -w 1 "$N" | xargs -P 4 -I{} ./flow run --local workflows/provision.yaml -v client=c{} \
  -v 'params={DB_HOST: db.internal, DB_PORT: "5432", A: "1", B: "2", C: "3", D: "4", E: "5", F: "6"}' \
  -v 'secure_params={DB_PASSWORD: s3cret, API_KEY: k3y}' >/dev/null

./flow emulate --limits aws --listen 127.0.0.1:0 --addr-file addr >emu.out 2>emu.log &
emu=$!
for _ in $(seq 100); do [ -s addr ] && break; sleep 0.1; done
export AWS_ENDPOINT_URL=$(cat addr) AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
  AWS_DEFAULT_REGION=us-east-1 AWS_RETRY_MODE=${AWS_RETRY_MODE:-adaptive}
# Every instance has its own metadata address once the emulator has seen it.
for _ in $(seq 100); do
  ./flow local -o json >local.json
  [ "$(jq '[.instances[] | select(.imds_endpoint != "")] | length' local.json)" -ge "$N" ] && break
  sleep 0.2
done
jq -r '.instances[] | "\(.id) \(.imds_endpoint)"' local.json >endpoints

boot() { # ID ENDPOINT
  mkdir -p "roots/$1"
  AWS_EC2_METADATA_SERVICE_ENDPOINT=$2 ./flow run workflows/boot.yaml --root "roots/$1" >"roots/$1.out${ROUND:-}" 2>&1 \
    || echo "$1" >>"failed${ROUND:-}"
}
# why ROUND's boots failed (the last line of each), counted
causes() {
  while read -r id; do tail -n 1 "roots/$id.out${1:-}" | sed -E 's/i-[0-9a-f]+/i-…/g; s/C[0-9A-Z]{20}/C…/g; s/c[0-9]+\.local/c….local/g'; done <"failed${1:-}" | sort | uniq -c | sort -rn
}
export -f boot causes
if [ "${REBOOT:-}" = 1 ]; then # boot once untimed; what is measured is the fleet rebooting at once
  ROUND=.first xargs -P "$PAR" -L 1 bash -c 'boot "$@"' _ <endpoints
  if [ -f failed.first ]; then
    echo "the first boots, before the measured ones: $(wc -l <failed.first) failed, why:"
    causes .first
  fi
  sleep 20 # Route 53's bucket full again, and the emulator's idle connections gone
fi
before=$(wc -l <emu.log)
start=$(date +%s.%N)
xargs -P "$PAR" -L 1 bash -c 'boot "$@"' _ <endpoints
end=$(date +%s.%N)
log=$(tail -n +"$((before + 1))" emu.log)
count() { grep -c "$1" <<<"$log" || true; }
calls=$(grep -vc ' imds ' <<<"$log" || true)
throttled=$(count ' Throttling \| RequestLimitExceeded \| ThrottlingException ')
r53=$(count ' route53 ')
r53ok=$(grep ' route53 ' <<<"$log" | grep -vc ' Throttling ' || true)
rss=$(awk '/VmHWM/ {print $2}' /proc/$emu/status)

./flow local -o json >after.json
wrong=$(jq -r '(.instances | map({key: .tags.ClientId, value: .private_ip}) | from_entries) as $ip
  | [.hosted_zones[] | (.records // [])[] | select(.type == "A") | select(($ip[.name | rtrimstr(".local.")] // "") != .values[0])] | length' after.json)
records=$(jq '[.hosted_zones[] | (.records // [])[] | select(.type == "A")] | length' after.json)
nfailed=$( [ -f failed ] && wc -l <failed || echo 0)
printf 'boots: %d (%d at most at once), failed: %d, records: %d (%d pointing elsewhere)\n' "$N" "$PAR" "$nfailed" "$records" "$wrong"
printf 'time to converge: %.1f s\n' "$(echo "$end - $start" | bc)"
printf 'API calls (AWS APIs, not instance metadata): %d, %.1f per boot; %d of them throttled; Route 53: %d, %d accepted\n' "$calls" "$(echo "$calls / $N" | bc -l)" "$throttled" "$r53" "$r53ok"
# A throttled request takes no token, so the floor is the accepted calls'.
printf "Route 53's floor for the accepted calls (burst 50, then 10 a second): %.1f s\n" "$(echo "x = ($r53ok - 50) / 10; if (x < 0) x = 0; x" | bc -l)"
printf "the emulator's peak RSS: %d MiB\n" "$((rss / 1024))"
printf 'load average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
echo 'calls by service, operation, status and error code:'
grep -v ' imds ' <<<"$log" | awk '{print "  " $2, $3, $4, $5}' | sort | uniq -c | sort -rn
if [ "$nfailed" -gt 0 ]; then
  echo 'why the boots failed (the last line of each):'
  causes
fi

if [ "${REFERENCE:-}" = 1 ]; then
  start=$(date +%s.%N)
  pids=()
  while read -r id ep; do
    (AWS_EC2_METADATA_SERVICE_ENDPOINT=$ep "$top/bench/reference-boot.sh" >/dev/null 2>&1 || echo "$id" >>ref-failed) &
    pids+=($!)
  done <endpoints
  wait "${pids[@]}"   # the boots only: a bare wait would wait for the emulator too, for ever
  end=$(date +%s.%N)
  printf 'reference boots: %d, failed: %d, time: %.1f s\n' "$N" "$( [ -f ref-failed ] && wc -l <ref-failed || echo 0)" "$(echo "$end - $start" | bc)"
fi
