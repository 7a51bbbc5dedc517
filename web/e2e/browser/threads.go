package browser

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// poolNumber is the "#12" a browser gives each thread of a pool.
var poolNumber = regexp.MustCompile(`\s*#\d+$`)

// ThreadCPU is the CPU time the threads of the processes in group pgid have used so far, by
// "process / thread" name, the numbered threads of a pool counted together: where a browser spends
// its time (Firefox's IndexedDB I/O runs in the parent, its service workers in another process).
func ThreadCPU(pgid int) map[string]time.Duration {
	out := map[string]time.Duration{}
	eachProcessInGroup(pgid, func(pid string, _ []string) {
		process, _ := os.ReadFile("/proc/" + pid + "/comm")
		tasks, _ := os.ReadDir("/proc/" + pid + "/task")
		for _, t := range tasks {
			stat, err := os.ReadFile("/proc/" + pid + "/task/" + t.Name() + "/stat")
			open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
			if err != nil || open < 0 || end < open {
				continue
			}
			f := strings.Fields(string(stat[end+1:]))
			if len(f) <= 12 {
				continue
			}
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			name := strings.TrimSpace(string(process)) + " / " + poolNumber.ReplaceAllString(string(stat[open+1:end]), "")
			out[name] += time.Duration(u+s) * time.Second / 100 // USER_HZ is 100 on Linux
		}
	})
	return out
}
