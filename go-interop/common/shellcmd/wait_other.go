//go:build !linux

package shellcmd

// killGroupAfterExit is Linux-only (waitid with WNOWAIT); elsewhere a plugin
// that survives its shell can still make Client.Kill() hang.
func killGroupAfterExit(int) {}
