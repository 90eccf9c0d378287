#!/usr/bin/env bash
# run.sh: runs Kubernetes' node e2e suite (a real kubelet, with its own
# etcd and kube-apiserver in process) against a private berth, offline.
#
#   test/e2enode/run.sh [--focus REGEX] [--skip-file FILE] [--subset FILE] [--keep]
#
# --focus: the specs to run (default: [NodeConformance]).
# --subset FILE: one regex a line; the run focuses on their union instead
#   (the bounded subset `make test` runs).
# --skip-file FILE: one regex a line, with the reason after " # ".
#
# berth runs on its default configuration, with drop-ins that mirror
# registry.k8s.io (and the other upstreams) to the test registry and add the
# runtime handler the suite's RuntimeClass specs name, on the
# CNI network `make cni-config` installs in /etc/cni/net.d. Its socket and
# state live in a work dir, so a berth of `make run` is left alone. Prints
# ginkgo's summary and a line per failed spec; the exit status is the
# suite's. kubelet binds host ports (10250, 10255): never run two at once.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/test/patterns.sh"
bin=${BIN:-$top/_output/bin}
focus='\[NodeConformance\]'
skip_file=""
subset_file=""
keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--focus) focus=$2; shift 2 ;;
	--skip-file) skip_file=$2; shift 2 ;;
	--subset) subset_file=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

k8s_bin=$("$top/test/e2enode/build.sh")

work=$(mktemp -d /tmp/berth-e2enode.XXXXXX)
# User-namespaced pods' runtimes pass through it to their rootfs (userns_root).
chmod 0711 "$work"
chmod 0711 "$work"
registry_pid=""
berth_pid=""
cleanup() {
	local status=$?
	# kubelet is gone; the pods it left are removed through berth itself,
	# and then nothing of theirs may be left: a leftover fails the run.
	if [ -n "$berth_pid" ] && kill -0 "$berth_pid" 2>/dev/null; then
		timeout 300 "$bin/crictl" --runtime-endpoint "unix://$work/berth.sock" rmp --all --force >"$work/rmp.log" 2>&1 ||
			{ echo "run.sh: removing the pods left behind failed:" >&2; tail -n 5 "$work/rmp.log" >&2; status=1; }
	fi
	[ -n "$berth_pid" ] && kill -TERM "$berth_pid" 2>/dev/null && wait "$berth_pid" 2>/dev/null || true
	[ -n "$registry_pid" ] && kill -TERM "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null || true
	local left
	# pod-init-mnt is berth's own (the pod inits' mount namespace), not a pod's.
	umount -l "$work/run/ns/pod-init-mnt" 2>/dev/null && rm -f "$work/run/ns/pod-init-mnt"
	left=$(grep -o " $work/[^ ]*" /proc/self/mountinfo || true)
	left+=$(ls "$work/run/ns" "$work/run/sandboxes" "$work/run/containers" 2>/dev/null | grep -v ':$' | grep . || true)
	if [ -n "$left" ] && [ "$status" = 0 ]; then
		echo "run.sh: berth left mounts or state behind after removing every pod:" >&2
		echo "$left" | head -n 20 >&2
		status=1
	fi
	if [ "$keep" = 1 ]; then
		echo "run.sh: kept $work (berth.log, registry.log, e2e.log, report/kubelet.log)" >&2
	else
		echo "$left" | grep '^ ' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
		rm -rf --one-file-system "$work"
	fi
	exit "$status"
}
trap cleanup EXIT

# wait_for PID CMD...: retries CMD for up to 2 minutes while PID lives.
wait_for() {
	local pid=$1
	shift
	for _ in $(seq 1 1200); do
		"$@" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# 1. The registry, serving critest's images and the suite's.
"$bin/testregistry" --addr 127.0.0.1:0 --agnhost "$k8s_bin/../agnhost" >"$work/registry.out" 2>"$work/registry.log" &
registry_pid=$!
wait_for "$registry_pid" grep -q '^ready ' "$work/registry.out" || { cat "$work/registry.log" >&2; echo "run.sh: registry did not start" >&2; exit 1; }
addr=$(awk '/^ready /{print $2; exit}' "$work/registry.out")

# 2. berth: default config, the mirror drop-in, private socket and state.
mkdir -p "$work/berth.toml.d"
for host in registry.k8s.io k8s.gcr.io gcr.io public.ecr.aws; do
	echo "[registries.\"$host\"]"
	echo "mirrors = [\"$addr/$host\"]"
done >"$work/berth.toml.d/50-test-registry.toml"
# The RuntimeClass handler the suite expects a node to have configured
# ("test-handler", the PodOverhead spec), as its containerd jobs do: runc.
cat >"$work/berth.toml.d/60-test-handler.toml" <<EOF
[runtime.handlers.test-handler]
path = "/usr/local/sbin/runc"
root = "/run/berth/runc"
EOF
# An empty config file: every key at its default.
: >"$work/berth.toml"
"$bin/berth" --config "$work/berth.toml" --config-dir "$work/berth.toml.d" \
	--root "$work/root" --runroot "$work/run" --userns-root "$work/userns" --listen "$work/berth.sock" \
	--log-level "${BERTH_LOG_LEVEL:-info}" >"$work/berth.log" 2>&1 &
berth_pid=$!
echo "$berth_pid" >"$work/berth.pid"
wait_for "$berth_pid" test -S "$work/berth.sock" || { cat "$work/berth.log" >&2; echo "run.sh: berth did not start" >&2; exit 1; }

# 3. The suite. It starts kubelet through systemd-run when it finds one,
# and systemd is not PID 1 here: every PATH dir holding systemd-run (/usr/bin
# and /bin, its merged-usr alias) is replaced by a shadow dir without it.
suite_path=""
n=0
IFS=: read -ra path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
	if [ -e "$d/systemd-run" ]; then
		n=$((n + 1))
		shadow=$work/path$n
		mkdir -p "$shadow"
		for f in "$d"/*; do
			case "$(basename "$f")" in systemd-run | systemctl) continue ;; esac
			ln -s "$f" "$shadow/"
		done
		d=$shadow
	fi
	suite_path=${suite_path:+$suite_path:}$d
done
skips=()
[ -n "$skip_file" ] && mapfile -t skips < <(patterns "$skip_file")
focuses=("$focus")
[ -n "$subset_file" ] && mapfile -t focuses < <(patterns "$subset_file")
# Ginkgo's flags, then the suite's after "--". Specs run on $E2E_PROCS
# processes against the one kubelet, as upstream's node e2e job does for
# specs that are not [Serial]; most of a spec's time is waiting (probes,
# grace periods), so 8 suit even 2 cores.
ginkgo_args=(
	--procs "${E2E_PROCS:-8}"
	--no-color
	--timeout 2h
	--json-report "$work/report.json"
)
for f in "${focuses[@]}"; do ginkgo_args+=(--focus "$f"); done
for s in "${skips[@]}"; do ginkgo_args+=(--skip "$s"); done
# What needs other hardware, a disruption of the node or a feature gate
# runs only when asked for by name.
ginkgo_args+=(--skip '\[Serial\]|\[Slow\]|\[Disruptive\]|\[Flaky\]|\[Feature:[^]]*\]|\[Alpha\]|\[Beta\]')
suite_args=(
	--container-runtime-endpoint "unix://$work/berth.sock"
	--container-runtime-process-name berth
	--container-runtime-pid-file "$work/berth.pid"
	--kubelet-config-file "$top/test/e2enode/kubelet-config.yaml"
	--prepull-images=false
	--report-dir "$work/report"
)
mkdir -p "$work/report"
status=0
# kubelet is found next to e2e_node.test.
(cd "$work" && PATH=$suite_path "$k8s_bin/ginkgo" "${ginkgo_args[@]}" "$k8s_bin/e2e_node.test" -- "${suite_args[@]}") >"$work/e2e.log" 2>&1 || status=$?
grep -a -E '^(Ran [0-9]+ of|SUCCESS!|FAIL!)' "$work/e2e.log" || true
grep -a -E '^\s*\[FAIL\]' "$work/e2e.log" | sort -u || true
if [ "$status" != 0 ]; then
	echo "run.sh: the suite failed (exit $status); last lines of its log:" >&2
	tail -n 40 "$work/e2e.log" >&2
	echo "run.sh: last lines of berth's log:" >&2
	tail -n 20 "$work/berth.log" >&2
fi
exit "$status"
