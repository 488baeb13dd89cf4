//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	_ "github.com/gonsproject/gons/early"
	"github.com/gonsproject/gons/status"
)

const (
	roleVar  = "GONS_DEMO_ROLE" // "holder" or "joiner"; not gons_*: early would refuse it
	hostname = "gons-demo"
)

func main() {
	switch os.Getenv(roleVar) {
	case "holder":
		hold()
	case "joiner":
		if err := status.Err(); err != nil {
			fmt.Println("joiner:", err)
			os.Exit(1)
		}
		describe(fmt.Sprintf("joiner (joined %v)", status.Joined()))
	default:
		if err := demo(); err != nil {
			fmt.Fprintln(os.Stderr, "gons-demo:", err)
			os.Exit(1)
		}
	}
}

// describe prints which namespaces the process is in and its hostname.
func describe(who string) {
	host, _ := os.Hostname()
	var links []string
	for _, typ := range []string{"user", "mnt", "uts"} {
		l, _ := os.Readlink("/proc/self/ns/" + typ)
		links = append(links, l)
	}
	fmt.Printf("%-34s %v hostname %q\n", who+":", links, host)
}

// hold sets the hostname in its new UTS namespace, says so, and waits for
// its stdin to close.
func hold() {
	if err := unix.Sethostname([]byte(hostname)); err != nil {
		fmt.Println("holder:", err)
		os.Exit(1)
	}
	describe(fmt.Sprintf("holder (pid %d)", os.Getpid()))
	bufio.NewReader(os.Stdin).ReadByte()
}

func demo() error {
	if err := needCgo(); err != nil {
		return err
	}
	describe("this process")
	holder := exec.Command("/proc/self/exe")
	holder.Env = append(os.Environ(), roleVar+"=holder")
	holder.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWUTS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	stdin, err := holder.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := holder.StdoutPipe()
	if err != nil {
		return err
	}
	holder.Stderr = os.Stderr
	if err := holder.Start(); err != nil {
		return fmt.Errorf("creating a throwaway user namespace (does the kernel allow it?): %w", err)
	}
	defer holder.Wait()
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("holder: %w", err)
	}
	fmt.Print(line)

	ns := fmt.Sprintf("/proc/%d/ns/", holder.Process.Pid)
	joiner := exec.Command("/proc/self/exe")
	joiner.Env = append(os.Environ(), roleVar+"=joiner",
		"gons_user="+ns+"user", "gons_mnt="+ns+"mnt", "gons_uts="+ns+"uts")
	joiner.Stdout, joiner.Stderr = os.Stdout, os.Stderr
	return joiner.Run()
}

// needCgo says why the demo cannot work when it was built without cgo,
// whose constructor in early joins the namespaces: with CGO_ENABLED=0, or
// (what a user who never set it meets) on a machine without a C compiler,
// where go builds without cgo by default.
func needCgo() error {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	for _, s := range info.Settings {
		if s.Key != "CGO_ENABLED" || s.Value != "0" {
			continue
		}
		cc := "gcc" // go's default on Linux
		if f := strings.Fields(os.Getenv("CC")); len(f) > 0 {
			cc = f[0]
		}
		if _, err := exec.LookPath(cc); err != nil {
			return fmt.Errorf("built without cgo: there is no C compiler here (%s: %v), and go builds without cgo when it finds none; install one (Debian: apt-get install gcc) and run the demo again", cc, err)
		}
		return fmt.Errorf("built without cgo (CGO_ENABLED=0), which early's constructor needs; build with CGO_ENABLED=1")
	}
	return nil
}
