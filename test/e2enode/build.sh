#!/usr/bin/env bash
# build.sh: builds kubelet, e2e_node.test, agnhost and ginkgo of Kubernetes $K8S_VERSION
# from the Go module proxy, offline from anything else, into a cache outside
# the clone keyed by version. A warm cache makes this a no-op.
#
# The proxy's k8s.io/kubernetes module has no staging/ tree (module zips
# leave nested modules out), and its go.work points every k8s.io/* staging
# module at ./staging/src/k8s.io/<name>: the tree is filled from the
# published k8s.io/<name>@v0.<minor>.<patch> modules and built in workspace
# mode.
#
# Prints the bin directory on stdout (agnhost's image content is in ../agnhost);
# progress goes to stderr.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
STAGING_VERSION=v0.${K8S_VERSION#v1.}
CACHE=${BERTH_E2E_CACHE:-/var/cache/berth/e2e-node}/$K8S_VERSION
SRC=$CACHE/src
BIN=$CACHE/bin
export PATH=/usr/local/go/bin:$PATH
export CGO_ENABLED=0
# go mod download runs outside any module; the build runs in workspace
# mode, which refuses -mod=mod.
unset GOFLAGS

log() { echo "e2enode/build: $*" >&2; }

# agnhost's image content: the binary and porter's TLS pair (netexec's
# --tls-cert-file /localhost.crt).
AGNHOST=$CACHE/agnhost
have() { [ -x "$BIN/kubelet" ] && [ -x "$BIN/e2e_node.test" ] && [ -x "$AGNHOST/agnhost" ] && [ -x "$BIN/ginkgo" ] && [ -f "$BIN/.complete" ]; }
if have; then
	echo "$BIN"
	exit 0
fi

mkdir -p "$CACHE"
# One build at a time per cache (make test and make e2e-node may race).
exec 9>"$CACHE/.lock"
flock 9
if have; then
	echo "$BIN"
	exit 0
fi

modcache=$(go env GOMODCACHE)
if [ ! -f "$SRC/.filled" ]; then
	log "downloading k8s.io/kubernetes@$K8S_VERSION"
	dir=$(cd /tmp && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	[ -d "$dir" ] || { log "k8s.io/kubernetes@$K8S_VERSION did not download"; exit 1; }
	rm -rf "$SRC"
	cp -r "$dir" "$SRC"
	chmod -R u+w "$SRC"

	# The staging modules go.work names, less the two never published.
	mapfile -t staging < <(sed -n 's|^\t\./staging/src/k8s.io/\(.*\)$|\1|p' "$SRC/go.work")
	keep=()
	for name in "${staging[@]}"; do
		case "$name" in
		sample-cli-plugin | sample-controller) sed -i "\|\./staging/src/k8s.io/$name\$|d" "$SRC/go.work" ;;
		*) keep+=("$name") ;;
		esac
	done
	log "filling staging/ from ${#keep[@]} published modules at $STAGING_VERSION"
	mods=()
	for name in "${keep[@]}"; do mods+=("k8s.io/$name@$STAGING_VERSION"); done
	(cd /tmp && go mod download "${mods[@]}")
	for name in "${keep[@]}"; do
		dst=$SRC/staging/src/k8s.io/$name
		rm -rf "$dst"
		mkdir -p "$(dirname "$dst")"
		cp -r "$modcache/k8s.io/$name@$STAGING_VERSION" "$dst"
		chmod -R u+w "$dst"
	done
	touch "$SRC/.filled"
fi

minor=${K8S_VERSION#v1.}
minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
	ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

mkdir -p "$BIN"
cd "$SRC"
export GOWORK=$SRC/go.work
if [ ! -x "$BIN/kubelet" ]; then
	log "building kubelet (about 10 minutes on 2 cores, cold)"
	go build -trimpath -ldflags "$ldflags" -o "$BIN/kubelet.new" ./cmd/kubelet
	mv "$BIN/kubelet.new" "$BIN/kubelet"
fi
if [ ! -x "$AGNHOST/agnhost" ]; then
	log "building agnhost"
	mkdir -p "$AGNHOST"
	cp test/images/agnhost/porter/localhost.crt test/images/agnhost/porter/localhost.key "$AGNHOST/"
	go build -trimpath -ldflags "-s -w" -o "$AGNHOST/agnhost.new" ./test/images/agnhost
	mv "$AGNHOST/agnhost.new" "$AGNHOST/agnhost"
fi
if [ ! -x "$BIN/e2e_node.test" ]; then
	log "building e2e_node.test (about 7 minutes more)"
	go test -c -trimpath -ldflags "$ldflags" -o "$BIN/e2e_node.test.new" ./test/e2e_node
	mv "$BIN/e2e_node.test.new" "$BIN/e2e_node.test"
fi
if [ ! -x "$BIN/ginkgo" ]; then
	# The suite's own ginkgo version runs it on several processes.
	log "building ginkgo"
	go build -trimpath -o "$BIN/ginkgo.new" github.com/onsi/ginkgo/v2/ginkgo
	mv "$BIN/ginkgo.new" "$BIN/ginkgo"
fi
touch "$BIN/.complete"
log "ok: $BIN"
echo "$BIN"
