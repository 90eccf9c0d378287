package sandbox

import (
	"fmt"
	"sync"
	"time"

	"github.com/berth-dev/berth/cni"
	"github.com/berth-dev/berth/internal/proc"
	"github.com/berth-dev/berth/internal/trace"
	"github.com/berth-dev/berth/spec"
	"github.com/sirupsen/logrus"
)

// State is a sandbox's CRI state.
type State string

const (
	Ready    State = "ready"
	NotReady State = "notready"
)

// Config is what a pod sandbox is made from (the CRI PodSandboxConfig, as
// plain Go).
type Config struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	UID         string            `json:"uid"`
	Attempt     uint32            `json:"attempt"`
	Hostname    string            `json:"hostname,omitempty"`
	LogDir      string            `json:"log_dir,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	DNS         DNSConfig         `json:"dns"`
	Ports       []cni.PortMapping `json:"ports,omitempty"`

	CgroupParent string            `json:"cgroup_parent,omitempty"`
	Sysctls      map[string]string `json:"sysctls,omitempty"`
	Namespaces   Namespaces        `json:"namespaces"`
	Privileged   bool              `json:"privileged,omitempty"`
	// RuntimeHandler is the handler asked for; "" means the default one.
	RuntimeHandler string `json:"runtime_handler,omitempty"`
}

// DNSConfig is the pod's resolv.conf; empty means the host's.
type DNSConfig struct {
	Servers  []string `json:"servers,omitempty"`
	Searches []string `json:"searches,omitempty"`
	Options  []string `json:"options,omitempty"`
}

// Namespaces says which host namespaces the pod uses instead of its own.
type Namespaces struct {
	HostNetwork bool `json:"host_network,omitempty"`
	HostPID     bool `json:"host_pid,omitempty"`
	HostIPC     bool `json:"host_ipc,omitempty"`
	// SharedPID: the pod's containers share one PID namespace, the pause
	// process's (CRI NamespaceMode POD).
	SharedPID bool `json:"shared_pid,omitempty"`
	// UserNS, when set, gives the pod a user namespace of its own with
	// these mappings; pause creates it and every container joins it.
	UserNS *UserNS `json:"user_ns,omitempty"`
}

// UserNS is a pod user namespace's ID mappings.
type UserNS struct {
	UIDs []IDMap `json:"uids"`
	GIDs []IDMap `json:"gids"`
}

// IDMap maps Size IDs from Container (inside) to Host.
type IDMap struct {
	Container uint32 `json:"container"`
	Host      uint32 `json:"host"`
	Size      uint32 `json:"size"`
}

// Record is everything berth knows about a sandbox; it is persisted, so it
// names every resource the sandbox holds.
type Record struct {
	ID        string    `json:"id"`
	Config    Config    `json:"config"`
	Handler   string    `json:"handler"` // the runtime handler that runs it
	CreatedAt time.Time `json:"created_at"`
	State     State     `json:"state"`
	// Complete is false while RunPodSandbox is still at work; a record left
	// incomplete by a crash is rolled back at start-up.
	Complete bool `json:"complete"`

	Dir     string         `json:"dir"`             // hostname, hosts, resolv.conf, the pause bundle
	NetNS   string         `json:"netns,omitempty"` // pinned network namespace; "" for host network
	Network cni.Attachment `json:"network"`         // CNI network and IPs; Network "" when not attached
	// CgroupParent is the config's cgroup parent resolved for the driver
	// (oci.CgroupParent): the pod's containers' cgroups go under it too.
	CgroupParent string `json:"cgroup_parent,omitempty"`
	CgroupsPath  string `json:"cgroups_path"`
	// Startup is when each step of the pod's creation began and ended.
	Startup trace.Steps `json:"startup,omitempty"`
	ShmPath string      `json:"shm_path,omitempty"` // tmpfs mount point; "" with host IPC
	// Holder is what holds the pod's IPC, UTS and PID namespaces:
	// HolderBerth, berth's own pins (and, for a pod that shares its PID
	// namespace, the init berth started, PausePID); "" a pause process the
	// OCI runtime runs (a pod with a user namespace, which only a process
	// can make, and records from before berth pinned them itself).
	Holder string `json:"holder,omitempty"`
	// PausePID is the pause process, or the pod init berth started; 0 for
	// a pod without either.
	PausePID   int    `json:"pause_pid,omitempty"`
	PauseStart uint64 `json:"pause_start,omitempty"` // start time of PausePID, against pid reuse
	// PauseNS are the pinned namespaces that the pod's containers join, by
	// kind ("ipc", "uts", "pid", "user"); the netns pin is NetNS.
	PauseNS map[string]string `json:"pause_ns,omitempty"`
	// UsernsDir, for a pod with a user namespace, is its own dir below the
	// userns root, owned by the pod's mapped root: the pause rootfs and the
	// containers' rootfs mount points, which the runtime must reach as that
	// user, are there. Everything else stays in the private Dir.
	UsernsDir string `json:"userns_dir,omitempty"`
	// BootID is the host's boot the sandbox was made in: after a reboot
	// its pause process and pinned namespaces are gone, whatever its pid
	// now names (proc.EarlierBoot).
	BootID string `json:"boot_id,omitempty"`
}

// reconcileReboot makes a record of an earlier boot say what is true now:
// the pod is not ready and its pause process is nobody to signal. What the
// reboot did not take (its IP in the CNI plugins' store, its files in the
// root) stays for the stop and remove kubelet sends. It reports whether it
// changed rec.
func (r *Record) reconcileReboot() bool {
	if !proc.EarlierBoot(r.BootID) {
		return false
	}
	r.State, r.PausePID, r.PauseStart = NotReady, 0, 0
	r.BootID = proc.BootID()
	return true
}

// RecordID and IsComplete make a Record recoverable (store.Recover).
func (r Record) RecordID() string { return r.ID }
func (r Record) IsComplete() bool { return r.Complete }

// Sandbox is one pod sandbox in memory.
type Sandbox struct {
	// op serialises the slow operations (stop, remove) on this sandbox only.
	op sync.Mutex
	// removed, guarded by op, says the sandbox is gone: a stop that waited
	// for its removal must not save the record back (a restart would bring
	// the pod back, its name reserved).
	removed bool
	// id and created are rec's, copied at creation: read without mu (a
	// list sorts by created), while a stop or remove rewrites all of rec.
	id      string
	created time.Time
	// mu guards rec and pause; held only to read or update them, never
	// across slow work.
	mu  sync.RWMutex
	rec Record
	// pause watches the pause process of a ready sandbox (nil: not
	// watched, its liveness is read from /proc on each snapshot).
	pause *proc.Watch
}

// Snapshot returns a copy of the sandbox's record. A ready sandbox whose
// pause process has died reads NotReady at once: the pod lost the
// namespaces its containers join, and kubelet must see that to recreate
// it. The state is derived on each read rather than stored when noticed,
// so nothing writes a record behind a stop or remove at work.
func (s *Sandbox) Snapshot() Record {
	s.mu.RLock()
	rec, w := s.rec, s.pause
	s.mu.RUnlock()
	if rec.State != Ready {
		return rec
	}
	if !pauseRuns(&rec, w) {
		rec.State = NotReady
	}
	return rec
}

// HolderBerth: berth pinned the pod's namespaces itself (Record.Holder).
const HolderBerth = "berth"

// pauseRuns says whether what holds the pod's namespaces is there: for a
// pod with no process of its own, its pins, which live until it is
// removed; otherwise its pause process or init, by the watch's answer, or
// /proc's for one not watched.
func pauseRuns(rec *Record, w *proc.Watch) bool {
	if rec.Holder == HolderBerth && rec.PausePID == 0 {
		return true
	}
	if w != nil {
		return !w.Exited()
	}
	return proc.Alive(rec.PausePID, rec.PauseStart)
}

// watchPause watches a ready sandbox's pause process, so that snapshots
// (every list and status call) need not read /proc.
func (s *Sandbox) watchPause() {
	rec := s.Snapshot()
	if rec.State != Ready || rec.PausePID == 0 {
		return
	}
	w, err := proc.WatchExit(rec.PausePID, rec.PauseStart, nil)
	if err != nil {
		logrus.WithError(err).WithField("sandbox", rec.ID).Debug("pause process not watched; its liveness is read on each status call")
		return
	}
	s.mu.Lock()
	s.pause = w
	s.mu.Unlock()
}

// unwatchPause ends the watch of a stopped or removed sandbox's pause.
func (s *Sandbox) unwatchPause() {
	s.mu.Lock()
	w := s.pause
	s.pause = nil
	s.mu.Unlock()
	if w != nil {
		w.Stop()
	}
}

// newSandbox is the sandbox of rec in memory.
func newSandbox(rec Record) *Sandbox {
	return &Sandbox{id: rec.ID, created: rec.CreatedAt, rec: rec}
}

// ID returns the sandbox ID.
func (s *Sandbox) ID() string { return s.id }

// createdAt returns when the sandbox was created.
func (s *Sandbox) createdAt() time.Time { return s.created }

func (s *Sandbox) update(fn func(r *Record)) Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(&s.rec)
	return s.rec
}

// Paths containers of the pod join or mount.
func (r *Record) HostnamePath() string   { return r.Dir + "/hostname" }
func (r *Record) HostsPath() string      { return r.Dir + "/hosts" }
func (r *Record) ResolvConfPath() string { return r.Dir + "/resolv.conf" }

// NamespacePaths are the pod's namespaces its containers join, by kind.
// Records written before berth pinned them name the pause process's
// /proc entries instead, checked against its start time by the caller.
func (r *Record) NamespacePaths() map[string]string {
	if r.PauseNS != nil || r.PausePID <= 0 {
		return r.PauseNS
	}
	paths := map[string]string{}
	for _, kind := range pauseNamespaces(r.Config.Namespaces) {
		paths[kind] = fmt.Sprintf("/proc/%d/ns/%s", r.PausePID, kind)
	}
	return paths
}

// ContainerPod is what the spec of a container of the pod needs of it.
func (r *Record) ContainerPod() spec.Pod {
	ns := r.Config.Namespaces
	return spec.Pod{
		ID:             r.ID,
		NetNS:          r.NetNS,
		Namespaces:     r.NamespacePaths(),
		HostNetwork:    ns.HostNetwork,
		HostIPC:        ns.HostIPC,
		HostPID:        ns.HostPID,
		SharedPID:      ns.SharedPID,
		UserNS:         ns.UserNS != nil,
		HostnamePath:   r.HostnamePath(),
		HostsPath:      r.HostsPath(),
		ResolvConfPath: r.ResolvConfPath(),
		ShmPath:        r.ShmPath,
		Privileged:     r.Config.Privileged,
	}
}

// RootfsDir is where the pod's containers get their rootfs mount points:
// "" for their own (private) bundles.
func (r *Record) RootfsDir() string { return r.UsernsDir }

// PrimaryIP is the pod's first IP, or "".
func (r *Record) PrimaryIP() string {
	if len(r.Network.IPs) == 0 {
		return ""
	}
	return r.Network.IPs[0]
}

// FullName is the name reserved for the sandbox: unique per pod and attempt,
// in the form kubelet's other runtimes use.
func (c *Config) FullName() string {
	return fmt.Sprintf("k8s_POD_%s_%s_%s_%d", c.Name, c.Namespace, c.UID, c.Attempt)
}
