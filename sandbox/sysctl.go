package sandbox

import (
	"fmt"
	"os"
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
		if _, err := sysctlPath(key); err != nil {
			return err
		}
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

// sysctlPath is the /proc/sys file of a sysctl: "net.ipv4.ip_forward" is
// net/ipv4/ip_forward; a name with "/" is already a path, so that a dot
// can be part of an element ("net/ipv4/conf/eth0.100/forwarding").
func sysctlPath(key string) (string, error) {
	rel := key
	if !strings.Contains(key, "/") {
		rel = strings.ReplaceAll(key, ".", "/")
	}
	for _, elem := range strings.Split(rel, "/") {
		if elem == "" || elem == "." || elem == ".." {
			return "", invalidf("sysctl %q is not a sysctl name", key)
		}
	}
	return "/proc/sys/" + rel, nil
}

// applySysctls writes a pod's sysctls from a thread in its network and
// IPC namespaces (joins, by kind): the kernel applies a namespaced sysctl
// to the namespace of the thread that writes it.
func applySysctls(sysctls map[string]string, joins map[string]string) error {
	if len(sysctls) == 0 {
		return nil
	}
	files, err := sysctlFiles(sysctls)
	if err != nil {
		return err
	}
	return inNamespaces("", joins, func() error { return writeSysctls(files) })
}

// sysctlFiles maps each sysctl's /proc/sys file to its value.
func sysctlFiles(sysctls map[string]string) (map[string]string, error) {
	files := make(map[string]string, len(sysctls))
	for key, value := range sysctls {
		path, err := sysctlPath(key)
		if err != nil {
			return nil, err
		}
		files[path] = value
	}
	return files, nil
}

// writeSysctls writes the files of sysctlFiles, from the calling thread's
// namespaces.
func writeSysctls(files map[string]string) error {
	for path, value := range files {
		if err := os.WriteFile(path, []byte(value), 0); err != nil {
			return fmt.Errorf("set sysctl %s=%q: %w", strings.TrimPrefix(path, "/proc/sys/"), value, err)
		}
	}
	return nil
}
