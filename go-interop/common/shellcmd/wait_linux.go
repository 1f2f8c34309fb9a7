package shellcmd

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// killGroupAfterExit blocks until process pid has exited, without reaping it
// (WNOWAIT: reaping stays go-plugin's job), then SIGKILLs its process group.
// If pid was already reaped (ECHILD) the group is left alone: the pid may
// have been reused.
func killGroupAfterExit(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		return
	}
}
