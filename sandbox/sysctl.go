package sandbox

import (
	"strings"
)

// ipcSysctls are the namespaced sysctls of the IPC namespace (besides
// fs.mqueue.*), as the kernel and kubelet define them.
var ipcSysctls = map[string]bool{
	"kernel.shmmax": true, "kernel.shmall": true, "kernel.shmmni": true,
	"kernel.shm_rmid_forced": true, "kernel.msgmax": true, "kernel.msgmnb": true,
	"kernel.msgmni": true, "kernel.sem": true,
}

// checkSysctls accepts only sysctls of a namespace the pod owns: setting one
// of the host's from a pod would change it for the whole node.
func checkSysctls(sysctls map[string]string, ns Namespaces) error {
	for key := range sysctls {
		name := strings.ReplaceAll(key, "/", ".")
		switch {
		case strings.HasPrefix(name, "net."):
			if ns.HostNetwork {
				return invalidf("sysctl %q is in the network namespace, which a host-network pod shares with the node", key)
			}
		case ipcSysctls[name] || strings.HasPrefix(name, "fs.mqueue."):
			if ns.HostIPC {
				return invalidf("sysctl %q is in the IPC namespace, which a host-IPC pod shares with the node", key)
			}
		default:
			return invalidf("sysctl %q is not namespaced; a pod may set only net.*, fs.mqueue.* and kernel IPC sysctls", key)
		}
	}
	return nil
}
