package main

import (
	"bufio"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// ipcFacility is one kind of System V IPC object as /proc/sysvipc lists it.
type ipcFacility struct {
	file    string   // under /proc/sysvipc
	title   string   // section title, as util-linux prints it
	idCol   string   // column of the object ID in the /proc file
	columns []string // extra columns shown after key, id, owner and perms
	headers []string // their headings
}

var (
	ipcMsg = ipcFacility{"msg", "Message Queues", "msqid",
		[]string{"cbytes", "qnum"}, []string{"used-bytes", "messages"}}
	ipcShm = ipcFacility{"shm", "Shared Memory Segments", "shmid",
		[]string{"size", "nattch"}, []string{"bytes", "nattch"}}
	ipcSem = ipcFacility{"sem", "Semaphore Arrays", "semid",
		[]string{"nsems"}, []string{"nsems"}}
)

// ipcsMain implements `ipcs [-a] [-m] [-q] [-s]` in util-linux's default
// output format, reading the IPC namespace of the caller from /proc/sysvipc:
// -m shared memory segments, -q message queues, -s semaphore arrays, all three
// by default or with -a.
func ipcsMain(args []string) int {
	var want []ipcFacility
	for _, arg := range args {
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			fmt.Fprintf(os.Stderr, "ipcs: unexpected argument %q\n", arg)
			return 1
		}
		for _, c := range arg[1:] {
			switch c {
			case 'a':
				want = append(want, ipcMsg, ipcShm, ipcSem)
			case 'q':
				want = append(want, ipcMsg)
			case 'm':
				want = append(want, ipcShm)
			case 's':
				want = append(want, ipcSem)
			default:
				fmt.Fprintf(os.Stderr, "ipcs: unsupported option -%c (have -a -m -q -s)\n", c)
				return 1
			}
		}
	}
	if len(want) == 0 {
		want = []ipcFacility{ipcMsg, ipcShm, ipcSem}
	}
	status := 0
	for _, f := range want {
		if err := f.print(); err != nil {
			fmt.Fprintf(os.Stderr, "ipcs: %v\n", err)
			status = 1
		}
	}
	return status
}

func (f ipcFacility) print() error {
	rows, err := readSysvipc("/proc/sysvipc/" + f.file)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "\n------ %s --------\n", f.title)
	fmt.Fprintf(w, "%-10s %-10s %-10s %-10s", "key", f.idCol, "owner", "perms")
	for _, h := range f.headers {
		fmt.Fprintf(w, " %-10s", h)
	}
	if f.file == "shm" {
		fmt.Fprintf(w, " %-10s", "status")
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		key, _ := strconv.ParseInt(r["key"], 10, 64)
		mode, _ := strconv.ParseUint(r["perms"], 8, 32)
		fmt.Fprintf(w, "0x%08x %-10s %-10s %-10o", uint32(key), r[f.idCol], ownerName(r["uid"]), mode&0o777)
		for _, c := range f.columns {
			fmt.Fprintf(w, " %-10s", r[c])
		}
		if f.file == "shm" {
			var status []string
			if mode&0o1000 != 0 { // SHM_DEST
				status = append(status, "dest")
			}
			if mode&0o2000 != 0 { // SHM_LOCKED
				status = append(status, "locked")
			}
			fmt.Fprintf(w, " %-10s", strings.Join(status, " "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	return nil
}

// readSysvipc parses a /proc/sysvipc table: a heading line of column names,
// then one line of whitespace-separated values per object.
func readSysvipc(path string) ([]map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	names := strings.Fields(lines[0])
	var rows []map[string]string
	for _, line := range lines[1:] {
		values := strings.Fields(line)
		if len(values) == 0 {
			continue
		}
		row := make(map[string]string, len(names))
		for i, n := range names {
			if i < len(values) {
				row[n] = values[i]
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// ownerName returns the user name for uid from /etc/passwd, or uid itself.
func ownerName(uid string) string {
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return uid
}
