package proc

import (
	"os"
	"strings"
	"sync"
)

// bootIDFile changes with every boot of the kernel.
const bootIDFile = "/proc/sys/kernel/random/boot_id"

var bootID = sync.OnceValue(func() string {
	data, err := os.ReadFile(bootIDFile)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
})

// BootID identifies this boot of the host ("" if the kernel does not say).
// A pid and start time name a process only within one boot: after a
// reboot, a recorded pid may be any process, with any start time.
func BootID() string { return bootID() }

// EarlierBoot says whether something recorded with boot ID id was made
// before the host last booted. Records without one (from before berth
// kept it) cannot tell, and count as this boot's.
func EarlierBoot(id string) bool {
	return id != "" && BootID() != "" && id != BootID()
}
