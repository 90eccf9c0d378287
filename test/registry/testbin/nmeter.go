package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// nmeterMain stands in for busybox's nmeter (not in Debian's build) for the
// one use the node e2e suite makes of it: `nmeter -d0 '%3t' | head -n1`, the
// time of day with milliseconds. It prints FORMAT every -d milliseconds
// until its output is closed. Only the %[N]t conversion (HH:MM:SS with N
// fraction digits) and plain text are supported.
func nmeterMain(args []string) int {
	delay := time.Second
	var format string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-d" && i+1 < len(args):
			i++
			a = "-d" + args[i]
			fallthrough
		case strings.HasPrefix(a, "-d"):
			ms, err := strconv.Atoi(strings.TrimPrefix(a, "-d"))
			if err != nil || ms < 0 {
				fmt.Fprintf(os.Stderr, "nmeter: bad delay %q\n", a)
				return 1
			}
			delay = time.Duration(ms) * time.Millisecond
		default:
			format = a
		}
	}
	if format == "" {
		fmt.Fprintln(os.Stderr, "usage: nmeter [-d MSEC] FORMAT")
		return 1
	}
	w := bufio.NewWriter(os.Stdout)
	for {
		fmt.Fprintln(w, nmeterLine(format, time.Now()))
		if w.Flush() != nil {
			return 0 // the reader is gone (head -n1)
		}
		time.Sleep(delay)
	}
}

// nmeterLine expands %[N]t in format at now.
func nmeterLine(format string, now time.Time) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 >= len(format) {
			b.WriteByte(format[i])
			continue
		}
		j := i + 1
		digits := 0
		if format[j] >= '0' && format[j] <= '9' {
			digits = int(format[j] - '0')
			j++
		}
		if j < len(format) && format[j] == 't' {
			b.WriteString(now.Format("15:04:05"))
			if digits > 0 {
				frac := fmt.Sprintf("%09d", now.Nanosecond())
				b.WriteString("." + frac[:min(digits, 9)])
			}
			i = j
			continue
		}
		b.WriteByte(format[i])
	}
	return b.String()
}
