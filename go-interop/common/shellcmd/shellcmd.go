// Package shellcmd starts a plugin the way go-plugin's examples do,
// `sh -c CMDLINE`, without letting the shell wrapper hang the host.
//
// go-plugin only ever kills the process it started: here the shell. A shell
// that did not exec its command (dash does not, for `sh -c CMD`) leaves the
// real plugin running when it is killed; the plugin keeps the stdout/stderr
// pipes open and go-plugin's Client.Kill() then waits for them forever. So
// the shell runs in its own process group, and Kill removes what is left of
// that group once the shell itself is gone.
package shellcmd

import (
	"os/exec"
	"syscall"

	"github.com/hashicorp/go-plugin"
)

// Command returns `sh -c cmdline`, leading a new process group.
func Command(cmdline string) *exec.Cmd {
	cmd := exec.Command("sh", "-c", cmdline)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// Kill is client.Kill() for a client whose ClientConfig.Cmd is cmd (from
// Command): as soon as the shell has exited, gracefully or killed by
// go-plugin, its process group gets SIGKILL. Call it from the goroutine that
// called client.Client() (it reads cmd.Process).
func Kill(client *plugin.Client, cmd *exec.Cmd) {
	if cmd != nil && cmd.Process != nil {
		go killGroupAfterExit(cmd.Process.Pid)
	}
	client.Kill()
}
