#!/usr/bin/env bash
# Times a whole boot, the path that runs on every boot of every instance, three ways:
#   1. flow run --local workflows/boot.yaml      (the embedded emulator, in-process)
#   2. flow run workflows/boot.yaml               (the real-AWS code path, against flow emulate
#                                                  over loopback through AWS_ENDPOINT_URL)
#   3. reference-boot.sh                          (the bash + AWS CLI boot scripts flow replaces, IMDSv2,
#                                                  one get-parameters call per key, same endpoint)
# Each boot reads 10 parameters (2 SecureString) and finds the DNS record already right.
# Uses hyperfine when it is installed, else a loop of its own (the same warm-up and runs, the
# mean and standard deviation of wall time, nothing run through a shell); 3 needs the AWS CLI,
# curl and jq (skipped without them).
set -euo pipefail

# bench WARMUP RUNS COMMAND...: hyperfine's figures, or the loop's when there is no hyperfine.
bench() {
  local warmup=$1 runs=$2
  shift 2
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup "$warmup" --runs "$runs" "$*"
    return
  fi
  local i t0 t1
  for ((i = 0; i < warmup; i++)); do "$@" >/dev/null; done
  for ((i = 0; i < runs; i++)); do
    t0=$(date +%s%N)
    "$@" >/dev/null
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000))
  done | awk -v cmd="$*" '{ s += $1; q += $1 * $1; n++ }
    END { m = s / n; sd = sqrt((q - n * m * m) / (n - 1)); printf "%s\n  Time (mean ± σ): %.1f ms ± %.1f ms    [%d runs, no hyperfine: a loop]\n", cmd, m / 1000, sd / 1000, n }'
}
top=$(cd "$(dirname "$0")/.." && pwd)
export WORKDIR=$(mktemp -d)
trap 'kill $emu 2>/dev/null || true; rm -rf "$WORKDIR"' EXIT
go build -o "$WORKDIR/flow" "$top/cmd/flow"
cp -r "$top/workflows" "$WORKDIR/"
cd "$WORKDIR"
./flow run --local workflows/provision.yaml -v client=acme \
  -v 'params={DB_HOST: db.internal, DB_PORT: "5432", A: "1", B: "2", C: "3", D: "4", E: "5", F: "6"}' \
  -v 'secure_params={DB_PASSWORD: s3cret, API_KEY: k3y}' >/dev/null
./flow run --local workflows/boot.yaml >/dev/null   # the first boot; the timed ones are later boots

bench 3 30 ./flow run --local workflows/boot.yaml

./flow emulate --listen 127.0.0.1:0 --addr-file addr >/dev/null 2>&1 &
emu=$!
for _ in $(seq 50); do [ -s addr ] && break; sleep 0.1; done
EP=$(cat addr)
export AWS_ENDPOINT_URL=$EP AWS_EC2_METADATA_SERVICE_ENDPOINT=$EP AWS_ACCESS_KEY_ID=test \
  AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
mkdir -p root
bench 3 30 ./flow run workflows/boot.yaml --root root
if command -v aws >/dev/null && command -v jq >/dev/null && command -v curl >/dev/null; then
  bench 1 5 "$top/bench/reference-boot.sh"
fi
