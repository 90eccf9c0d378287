#!/usr/bin/env bash
# run.sh: runs critest against a private berth and the local test registry.
#
#   test/critest/run.sh [--skip-file FILE] [--expect FILE] [--focus REGEX] [--keep]
#
# Starts the test registry on 127.0.0.1 (a free port), a berth ($BERTH, else
# $BIN/berth) on its own socket and state dirs whose config mirrors
# registry.k8s.io, k8s.gcr.io, gcr.io and public.ecr.aws to that registry,
# runs critest with its real image names, stops both and prints the
# per-group table. It fails when critest fails, when the counts differ from
# --expect's, when berth leaves anything behind (mounts, pods, containers,
# processes), when berth does not exit cleanly on SIGTERM, or when its log
# has a race report. critest binds host ports 12000-12003 and host-wide IPC
# objects: never run two at once on one machine.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/test/patterns.sh"
bin=${BIN:-$top/_output/bin}
berth=${BERTH:-$bin/berth}
skip_file=""
expect_file=""
focus=""
keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--skip-file) skip_file=$2; shift 2 ;;
	--expect) expect_file=$2; shift 2 ;;
	--focus) focus=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

work=$(mktemp -d /tmp/berth-critest.XXXXXX)
# Containers in a user namespace run as an unprivileged host user that
# must be able to pass through this dir to their rootfs (userns_root).
chmod 0711 "$work"
registry_pid=""
berth_pid=""
cleanup() {
	[ -n "$berth_pid" ] && kill -TERM "$berth_pid" 2>/dev/null && wait "$berth_pid" 2>/dev/null || true
	[ -n "$registry_pid" ] && kill -TERM "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null || true
	ip link delete berthcritest 2>/dev/null || true
	rm -rf /var/lib/cni/networks/berth-critest
	if [ "$keep" = 1 ]; then
		echo "run.sh: kept $work (berth.log, registry.log, report.json)" >&2
	else
		umount -l "$work/run/ns/pod-init-mnt" 2>/dev/null || true
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT

# wait_for CMD...: retries CMD for up to 60 s.
wait_for() {
	for _ in $(seq 1 600); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# 1. The registry: it prints "ready ADDR" once every image is pushed.
"$bin/testregistry" --addr 127.0.0.1:0 >"$work/registry.out" 2>"$work/registry.log" &
registry_pid=$!
wait_for grep -q '^ready ' "$work/registry.out" || { cat "$work/registry.log" >&2; echo "run.sh: registry did not start" >&2; exit 1; }
addr=$(awk '/^ready /{print $2; exit}' "$work/registry.out")

# 2. berth, configured for the bench.
# The default network, but its own name, bridge and subnet: host-local's
# allocations and the bridge of a real berth on this machine stay apart
# (and an earlier run's, if it crashed, go first).
ip link delete berthcritest 2>/dev/null || true
rm -rf /var/lib/cni/networks/berth-critest
mkdir -p "$work/cni"
sed -e 's/"name": "berth"/"name": "berth-critest"/' -e 's/"bridge": "berth0"/"bridge": "berthcritest"/' \
	-e 's|10\.85\.0\.0/16|10.86.0.0/16|' "$top/hack/cni/10-berth.conflist" >"$work/cni/10-berth-critest.conflist"
grep -q '"berth-critest"' "$work/cni/10-berth-critest.conflist" && grep -q berthcritest "$work/cni/10-berth-critest.conflist" &&
	grep -q 10.86.0.0/16 "$work/cni/10-berth-critest.conflist" || { echo "run.sh: could not derive the test network" >&2; exit 1; }
{
	echo "root = \"$work/root\""
	echo "runroot = \"$work/run\""
	echo "userns_root = \"$work/userns\""
	echo "listen = \"$work/berth.sock\""
	echo "log_level = \"debug\""
	echo "[cni]"
	echo "conf_dir = \"$work/cni\""
	for host in registry.k8s.io k8s.gcr.io gcr.io public.ecr.aws; do
		echo "[registries.\"$host\"]"
		echo "mirrors = [\"$addr/$host\"]"
	done
} >"$work/berth.toml"
"$berth" --config "$work/berth.toml" --config-dir "$work/berth.toml.d" >"$work/berth.log" 2>&1 &
berth_pid=$!
wait_for test -S "$work/berth.sock" || { cat "$work/berth.log" >&2; echo "run.sh: berth did not start" >&2; exit 1; }

# 3. critest.
args=(
	-runtime-endpoint "unix://$work/berth.sock"
	-image-endpoint "unix://$work/berth.sock"
	-ginkgo.no-color
	-ginkgo.json-report "$work/report.json"
)
[ -n "$focus" ] && args+=(-ginkgo.focus "$focus")
if [ -n "$skip_file" ]; then
	while IFS= read -r re; do args+=(-ginkgo.skip "$re"); done < <(patterns "$skip_file")
fi
status=0
(cd "$work" && "$bin/critest" "${args[@]}") >"$work/critest.log" 2>&1 || status=$?
grep -E '^(Ran [0-9]+ of|SUCCESS!|FAIL!)' "$work/critest.log" || true
if [ "$status" != 0 ]; then
	echo "run.sh: critest failed (exit $status); last lines of its log:" >&2
	tail -n 60 "$work/critest.log" >&2
	echo "run.sh: last lines of berth's log:" >&2
	tail -n 30 "$work/berth.log" >&2
fi
report=(--expect "$expect_file")
[ -n "$expect_file" ] || report=()
if [ ! -f "$work/report.json" ]; then
	echo "run.sh: critest wrote no report" >&2
	status=1
elif ! "$bin/critestreport" "${report[@]}" "$work/report.json"; then
	status=1
fi

# 4. What critest made, it removed: berth lists nothing and left nothing.
leftovers=()
for d in run/ns run/sandboxes run/containers; do
	for e in "$work/$d"/*; do
		# pod-init-mnt is berth's own (the pod inits' mount namespace), not a pod's.
		[ -e "$e" ] && [ "$e" != "$work/run/ns/pod-init-mnt" ] && leftovers+=("$d/${e##*/}")
	done
done
while read -r mnt; do
	leftovers+=("mount $mnt")
done < <(awk -v w="$work/" -v own="$work/run/ns/pod-init-mnt" 'index($5, w) == 1 && $5 != own {print $5}' /proc/self/mountinfo)
for ip in /var/lib/cni/networks/berth-critest/[0-9]*; do
	[ -e "$ip" ] && leftovers+=("host-local allocation ${ip##*/}")
done

# 5. berth exits cleanly on SIGTERM (its containers, if any, would stay).
kill -TERM "$berth_pid"
berth_status=0
wait "$berth_pid" || berth_status=$?
berth_pid=""
if [ "$berth_status" != 0 ]; then
	echo "run.sh: berth exited with status $berth_status on SIGTERM; last lines of its log:" >&2
	tail -n 30 "$work/berth.log" >&2
	status=1
fi
for p in /proc/[0-9]*; do
	if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$work/"; then
		leftovers+=("process ${p#/proc/}: $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-120)")
	fi
done
if [ "${#leftovers[@]}" != 0 ]; then
	echo "run.sh: berth left these behind after critest:" >&2
	printf '  %s\n' "${leftovers[@]}" >&2
	status=1
fi
if grep -q 'WARNING: DATA RACE' "$work/berth.log"; then
	echo "run.sh: the race detector reported races in berth:" >&2
	grep -A 40 'WARNING: DATA RACE' "$work/berth.log" | head -n 200 >&2
	status=1
fi
exit "$status"
