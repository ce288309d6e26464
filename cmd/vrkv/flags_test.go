package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"vrlab/vrnet"
)

// tlsDirs makes the TLS directories of the table: a good one, and one for
// each thing that can be wrong in one.
func tlsDirs(t *testing.T) map[string]string {
	t.Helper()
	root := t.TempDir()
	good, other := filepath.Join(root, "good"), filepath.Join(root, "other")
	for _, d := range []string{good, other} {
		if err := vrnet.GenerateDevCerts(d, nil); err != nil {
			t.Fatal(err)
		}
	}
	dirs := map[string]string{"GOOD": good, "MISSING": filepath.Join(root, "missing"), "FILE": filepath.Join(good, "ca.pem")}
	// broken copies the good directory to name, then changes file to data
	// (nil: removes it).
	broken := func(name, file string, data []byte) {
		d := filepath.Join(root, name)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"ca.pem", "replica.pem", "replica-key.pem", "client.pem", "client-key.pem"} {
			b, err := os.ReadFile(filepath.Join(good, f))
			if err != nil {
				t.Fatal(err)
			}
			if f == file {
				if data == nil {
					continue
				}
				b = data
			}
			if err := os.WriteFile(filepath.Join(d, f), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		dirs[strings.ToUpper(name)] = d
	}
	otherCA, err := os.ReadFile(filepath.Join(other, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	broken("noca", "ca.pem", nil)
	broken("junkca", "ca.pem", []byte("not PEM\n"))
	broken("noclient", "client.pem", nil)
	broken("noclientkey", "client-key.pem", nil)
	broken("junkreplica", "replica.pem", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	broken("otherca", "ca.pem", otherCA)
	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	dirs["EMPTY"] = empty
	return dirs
}

// cliCases is the table: a command line, $VRKV_CLUSTER, and the error it
// must get ("" = accepted). In args, a word in capitals names a directory
// of tlsDirs.
var cliCases = []struct {
	args string
	env  string // $VRKV_CLUSTER
	want string // a regexp the error must match; "" = no error
}{
	// serve
	{"serve --id 0 --cluster a:7000,b:7000,c:7000", "", ""},
	{"serve --id 2 --cluster a:7000,b:7000,c:7000 --listen :7005 --recover --checkpoint 0 --log-level DEBUG --tls GOOD", "", ""},
	{"serve --id 0 --cluster 127.0.0.1:7001,127.0.0.1:7001", "", `^--cluster: "127.0.0.1:7001" is listed twice \(replicas 0 and 1\)$`},
	{"serve --id 0 --cluster A:7000,a:07000", "", `^--cluster: "a:07000" is listed twice`},
	{"serve --id 0 --cluster [::1]:7000,[0:0::1]:7000", "", `^--cluster: "\[0:0::1\]:7000" is listed twice`},
	{"serve --id 0 --cluster bogus", "", `^--cluster: "bogus" is not host:port \(missing port\)$`},
	{"serve --id 0 --cluster a:7000,b", "", `^--cluster: "b" is not host:port \(missing port\)$`},
	{"serve --id 0 --cluster a:0", "", `^--cluster: "a:0" is not host:port \(port "0" is not a number in 1-65535\)$`},
	{"serve --id 0 --cluster a:65536", "", `^--cluster: "a:65536" .*1-65535`},
	{"serve --id 0 --cluster a:http", "", `^--cluster: "a:http" .*1-65535`},
	{"serve --id 0 --cluster :7000", "", `^--cluster: ":7000" has no host$`},
	{"serve --id 0 --cluster a:7000,,b:7000", "", `^--cluster: "a:7000,,b:7000" has an empty address \(entry 1\)$`},
	{"serve --id 0 --cluster a:7000,", "", `^--cluster: "a:7000," has an empty address`},
	{"serve --id 0 --cluster ", "", `^--cluster: "" lists no address$`},
	{"serve --id 0 --cluster a/b:7000", "", `^--cluster: "a/b:7000" has '/' in its host name$`},
	{"serve --id 0 --cluster a:1:2", "", `^--cluster: "a:1:2" is not host:port \(too many colons\)$`},
	{"serve --id 0", "", `^--cluster is required \(or set VRKV_CLUSTER\)$`},
	{"serve --id 1", "a:7000,b:7000", ""},
	{"serve --id 0", "a:7000,a:7000", `^\$VRKV_CLUSTER: "a:7000" is listed twice`},
	{"serve --id 0", "bogus", `^\$VRKV_CLUSTER: "bogus" is not host:port \(missing port\)$`},
	{"serve --id 0 --cluster a:7000", "bogus", ""}, // the flag wins
	{"serve --cluster a:7000", "", `^--id is required$`},
	{"serve --id 3 --cluster a:7000,b:7000,c:7000", "", `^--id: 3 is not an index of --cluster, which has 3 replicas \(0-2\)$`},
	{"serve --id -1 --cluster a:7000", "", `^--id: "-1" is negative$`},
	{"serve --id one --cluster a:7000", "", `^--id: "one" is not an integer$`},
	{"serve --id 0 --cluster a:7000 --listen bogus", "", `^--listen: "bogus" is not host:port \(missing port\)$`},
	{"serve --id 0 --cluster a:7000 --listen :0", "", `^--listen: ":0" .*1-65535`},
	{"serve --id 0 --cluster a:7000 --recover=maybe", "", `^--recover: "maybe" is not true or false$`},
	{"serve --id 0 --cluster a:7000 --checkpoint -5", "", `^--checkpoint: "-5" is negative$`},
	{"serve --id 0 --cluster a:7000 --checkpoint 1e3", "", `^--checkpoint: "1e3" is not an integer$`},
	{"serve --id 0 --cluster a:7000 --lease 20", "", ""},
	{"serve --id 0 --cluster a:7000 --lease 0", "", ""},
	{"serve --id 0 --cluster a:7000 --lease 30", "", `^--lease: "30" is not shorter than the view-change timeout of 30 ticks`},
	{"serve --id 0 --cluster a:7000 --lease 1000", "", `^--lease: "1000" is not shorter than the view-change timeout`},
	{"serve --id 0 --cluster a:7000 --lease -1", "", `^--lease: "-1" is negative$`},
	{"serve --id 0 --cluster a:7000 --log-level loud", "", `^--log-level: "loud" is not a log level \(debug, info, warn or error\)$`},
	{"serve --id 0 --cluster a:7000 --log-level", "", `^flag needs an argument: -log-level$`},
	{"serve --id 0 --cluster a:7000 --tls=", "", `^--tls: "" is empty$`},
	{"serve --id 0 --cluster a:7000 --tls MISSING", "", `^--tls: ".*missing" does not exist \(make it with vrkv certs --dir .*\)$`},
	{"serve --id 0 --cluster a:7000 --tls FILE", "", `^--tls: ".*ca.pem" is not a directory$`},
	{"serve --id 0 --cluster a:7000 --tls EMPTY", "", `^--tls: ".*empty" has no ca.pem \(vrkv certs makes it\)$`},
	{"serve --id 0 --cluster a:7000 --tls NOCA", "", `^--tls: ".*noca" has no ca.pem`},
	{"serve --id 0 --cluster a:7000 --tls JUNKCA", "", `^--tls: ".*junkca" ca.pem holds no PEM certificate$`},
	{"serve --id 0 --cluster a:7000 --tls JUNKREPLICA", "", `^--tls: ".*junkreplica" replica.pem and replica-key.pem: `},
	{"serve --id 0 --cluster a:7000 --tls OTHERCA", "", `^--tls: ".*otherca" replica.pem does not verify against ca.pem: `},
	{"serve --id 0 --cluster a:7000 --tls NOCLIENT", "", ""}, // a replica needs no client.pem
	{"serve --id 0 --cluster a:7000 extra", "", `^unexpected argument "extra": serve takes none$`},
	{"serve --id 4 --cluster a:1,b:1,c:1,d:1,e:1 --members 0,1,2", "", ""}, // a standby
	{"serve --id 0 --cluster a:1,b:1,c:1 --members 2,0,1 --recover", "", ""},
	{"serve --id 0 --cluster a:1,b:1,c:1 --members 0,1,3", "", `^--members: replica 3 is not an index of --cluster, which has 3 replicas \(0-2\)$`},
	{"serve --id 0 --cluster a:1,b:1,c:1 --members 0,1,1", "", `^--members: "1" is listed twice \(entries 1 and 2\)$`},
	{"serve --id 0 --cluster a:1,b:1,c:1 --members 0,-1", "", `^--members: "-1" is negative$`},
	{"serve --id 0 --cluster a:1,b:1,c:1 --members 0,b", "", `^--members: "b" is not a replica index \(0, 1, 2, …\)$`},
	{"serve --id 0 --cluster a:1,b:1,c:1 --members 0,,1", "", `^--members: "0,,1" has an empty replica \(entry 1\)$`},
	{"serve --id 0 --cluster a:1,b:1,c:1 --members ", "", `^--members: "" lists no replica$`},
	{"serve --id 0 --cluster a:7000 --verbose", "", `^unknown flag: -verbose$`},

	// get, put, append
	{"get --cluster a:7000 k", "", ""},
	{"get --cluster a:7000,[::1 k", "", `^--cluster: "\[::1" is not host:port \(missing ']'\)$`},
	{"put --cluster bogus k v", "", `^--cluster: "bogus" is not host:port \(missing port\)$`},
	{"put --cluster a:7000 --timeout 1m --tls GOOD k v", "", ""},
	{"put --cluster a:7000 k -5", "", ""}, // a VALUE may start with "-"
	{"put --cluster a:7000 --timeout 1h1 k v", "", `^--timeout: "1h1" is not a duration`},
	{"put --cluster a:7000 --tls EMPTY k v", "", `^--tls: ".*empty" has no ca.pem`},
	{"append --cluster a:7000 --timeout never k v", "", `^--timeout: "never" is not a duration`},
	{"append --cluster a:7000 --tls OTHERCA k v", "", `^--tls: ".*otherca" client.pem does not verify against ca.pem`},
	{"append --cluster a:7000,a:7000 k v", "", `^--cluster: "a:7000" is listed twice`},
	{"append k v", "", `^--cluster is required`},
	{"append k v", "a:7000", ""},
	{"get k", "a:7000,:1", `^\$VRKV_CLUSTER: ":1" has no host$`},
	{"get --cluster a:7000 --timeout 0s k", "", `^--timeout: "0s" is not positive$`},
	{"get --cluster a:7000 --timeout -1s k", "", `^--timeout: "-1s" is not positive$`},
	{"get --cluster a:7000 --timeout 10 k", "", `^--timeout: "10" is not a duration \(such as 10s or 500ms\)$`},
	{"get --cluster a:7000 --tls NOCLIENT k", "", `^--tls: ".*noclient" has no client.pem`},
	{"get --cluster a:7000 --tls NOCLIENTKEY k", "", `^--tls: ".*noclientkey" has no client-key.pem`},
	{"get --cluster a:7000 --tls OTHERCA k", "", `^--tls: ".*otherca" client.pem does not verify against ca.pem`},
	{"get --cluster a:7000", "", `^missing KEY \(vrkv get \[flags\] KEY\)$`},
	{"get --cluster a:7000 k v", "", `^unexpected argument "v" after KEY$`},
	{"put --cluster a:7000 k", "", `^missing VALUE \(vrkv put \[flags\] KEY VALUE\)$`},
	{"put --cluster a:7000", "", `^missing KEY \(vrkv put \[flags\] KEY VALUE\)$`},
	{"append --cluster a:7000 k v w", "", `^unexpected argument "w" after KEY VALUE$`},
	{"get --cluster a:7000 k --timeout 1s", "", `^"--timeout" after the arguments: flags go first \(vrkv get \[flags\] KEY\)$`},

	// status
	{"status --cluster a:7000,b:7000 --tls GOOD", "", ""},
	{"status", "a:7000", ""},
	{"status --cluster a:7000,[::1]:99999", "", `^--cluster: "\[::1\]:99999" .*1-65535`},
	{"status", "", `^--cluster is required`},
	{"status --cluster a:7000 --tls ", "", `^--tls: "" is empty$`},
	{"status --cluster a:7000 --tls JUNKCA", "", `^--tls: .*ca.pem holds no PEM certificate$`},
	{"status --cluster a:7000 now", "", `^unexpected argument "now": status takes none$`},

	// reconfigure
	{"reconfigure --cluster a:1,b:1,c:1,d:1,e:1 --members 2,3,4", "", ""},
	{"reconfigure --members 0 --timeout 5s --tls GOOD", "a:1,b:1", ""},
	{"reconfigure --cluster a:1,b:1,c:1", "", `^--members is required$`},
	{"reconfigure --members 0,1", "", `^--cluster is required`},
	{"reconfigure --cluster a:1,b:1,c:1 --members 1,3", "", `^--members: replica 3 is not an index of --cluster, which has 3 replicas \(0-2\)$`},
	{"reconfigure --cluster a:1,b:1,c:1 --members 2,2", "", `^--members: "2" is listed twice \(entries 0 and 1\)$`},
	{"reconfigure --cluster a:1,b:1,c:1 --members ", "", `^--members: "" lists no replica$`},
	{"reconfigure --cluster a:1,b:1,c:1 --members 0,x", "", `^--members: "x" is not a replica index`},
	{"reconfigure --cluster a:1,bogus --members 0", "", `^--cluster: "bogus" is not host:port \(missing port\)$`},
	{"reconfigure --cluster a:1 --members 0 --timeout 0s", "", `^--timeout: "0s" is not positive$`},
	{"reconfigure --cluster a:1 --members 0 --tls NOCLIENT", "", `^--tls: ".*noclient" has no client.pem`},
	{"reconfigure --cluster a:1 --members 0 now", "", `^unexpected argument "now": reconfigure takes none$`},

	// cluster
	{"cluster", "", ""},
	{"cluster -n 5 --members 0,1,2", "", ""},
	{"cluster -n 3 --members 1,3", "", `^--members: replica 3 is not an index of -n, which has 3 replicas \(0-2\)$`},
	{"cluster --members 0,0", "", `^--members: "0" is listed twice`},
	{"cluster -n 5 --base-port 9000 --tls GOOD --checkpoint 0 --log-level warn", "", ""},
	{"cluster --tls MISSING", "", ""}, // generated there
	{"cluster --tls EMPTY", "", ""},
	{"cluster -n 0", "", `^-n: "0" is not positive$`},
	{"cluster -n -3", "", `^-n: "-3" is not positive$`},
	{"cluster -n three", "", `^-n: "three" is not an integer$`},
	{"cluster --base-port 0", "", `^--base-port: "0" is not in 1-65535$`},
	{"cluster --base-port 65536", "", `^--base-port: "65536" is not in 1-65535$`},
	{"cluster --base-port 65534", "", `^-n 3 from --base-port 65534: replica 2's port 65536 is above 65535$`},
	{"cluster --tls ", "", `^--tls: "" is empty$`},
	{"cluster --tls FILE", "", `^--tls: ".*ca.pem" is not a directory$`},
	{"cluster --tls JUNKREPLICA", "", `^--tls: ".*junkreplica" replica.pem and replica-key.pem: `},
	{"cluster --checkpoint -1", "", `^--checkpoint: "-1" is negative$`},
	{"cluster --lease 25", "", ""},
	{"cluster --lease 31", "", `^--lease: "31" is not shorter than the view-change timeout`},
	{"cluster --log-level verbose", "", `^--log-level: "verbose" is not a log level`},
	{"cluster 3", "", `^unexpected argument "3": cluster takes none$`},

	// certs
	{"certs --dir MISSING", "", ""},
	{"certs --dir EMPTY --hosts a,b,10.0.0.1,::1", "", ""},
	{"certs", "", `^--dir is required$`},
	{"certs --dir ", "", `^--dir: "" is empty$`},
	{"certs --dir GOOD", "", `^--dir: ".*good" already has a CA \(ca.pem\), which vrkv certs does not overwrite$`},
	{"certs --dir FILE", "", `^--dir: ".*ca.pem" is not a directory$`},
	{"certs --dir MISSING --hosts ", "", `^--hosts: "" lists no host$`},
	{"certs --dir MISSING --hosts a,,b", "", `^--hosts: "a,,b" has an empty host \(entry 1\)$`},
	{"certs --dir MISSING --hosts a:7000,b:7000", "", `^--hosts: "a:7000" has a port: list host names or IP addresses only$`},
	{"certs --dir MISSING --hosts a,A", "", `^--hosts: "A" is listed twice$`},
	{"certs --dir MISSING --hosts ::1,0::1", "", `^--hosts: "0::1" is listed twice$`},
	{"certs --dir MISSING --hosts a/b", "", `^--hosts: "a/b" is not a host name or IP address`},
	{"certs --dir MISSING --hosts fe80::1%eth0", "", `^--hosts: "fe80::1%eth0" has an IPv6 zone`},
	{"certs --dir MISSING dir2", "", `^unexpected argument "dir2": certs takes none$`},

	// bench
	{"bench --cluster a:7000 -c 64 -d 500ms --value-size 0 --tls GOOD", "", ""},
	{"bench", "a:7000", ""},
	{"bench --cluster a:7000,bogus", "", `^--cluster: "bogus" is not host:port`},
	{"bench -c 0 --cluster a:7000", "", `^-c: "0" is not positive$`},
	{"bench -c x --cluster a:7000", "", `^-c: "x" is not an integer$`},
	{"bench -d 0 --cluster a:7000", "", `^-d: "0" is not positive$`},
	{"bench -d 5 --cluster a:7000", "", `^-d: "5" is not a duration`},
	{"bench --value-size -1 --cluster a:7000", "", `^--value-size: "-1" is not in 0-1048576$`},
	{"bench --value-size 1048577 --cluster a:7000", "", `^--value-size: "1048577" is not in 0-1048576$`},
	{"bench --reads 90 --cluster a:7000", "", ""},
	{"bench --shared --cluster a:7000 -c 64", "", ""},
	{"bench --shared=often --cluster a:7000", "", `^--shared: "often" is not true or false$`},
	{"bench --reads 101 --cluster a:7000", "", `^--reads: "101" is not in 0-100$`},
	{"bench --cluster a:7000 --tls NOCLIENT", "", `^--tls: .*has no client.pem`},
	{"bench --cluster a:7000 64", "", `^unexpected argument "64": bench takes none$`},

	{"frobnicate", "", `^unknown command "frobnicate"`},
}

// splitArgs splits a table line into arguments; "--flag " at the end of the
// line or before another flag gives the flag an empty value.
func splitArgs(line string, dirs map[string]string) []string {
	var args []string
	for _, f := range strings.Split(line, " ") {
		if d, ok := dirs[f]; ok {
			f = d
		}
		args = append(args, f)
	}
	return args
}

// TestCLIFlags runs every line of the table through parseCommand, in
// process: a mistake is one line naming the flag and its value; a good
// command line is accepted. Nothing is dialled: parseCommand only parses.
func TestCLIFlags(t *testing.T) {
	dirs := tlsDirs(t)
	for _, tc := range cliCases {
		args := splitArgs(tc.args, dirs)
		t.Run(tc.args, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "VRKV_CLUSTER" {
					return tc.env
				}
				return ""
			}
			run, err := parseCommand(args[0], args[1:], getenv, io.Discard)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("vrkv %q (VRKV_CLUSTER=%q): %v, expected it accepted", args, tc.env, err)
			case tc.want == "" && run == nil:
				t.Fatalf("vrkv %q: accepted, but nothing to run", args)
			case tc.want == "":
			case err == nil:
				t.Fatalf("vrkv %q (VRKV_CLUSTER=%q) was accepted, expected an error matching %s", args, tc.env, tc.want)
			case strings.Contains(err.Error(), "\n"):
				t.Fatalf("vrkv %q: the error is more than one line: %q", args, err)
			case !regexp.MustCompile(tc.want).MatchString(err.Error()):
				t.Fatalf("vrkv %q (VRKV_CLUSTER=%q): error\n\t%s\nexpected it to match\n\t%s", args, tc.env, err, tc.want)
			}
		})
	}
	// certs --dir MISSING was only checked: nothing was written.
	if _, err := os.Stat(dirs["MISSING"]); err == nil {
		t.Errorf("%s exists: a parse wrote it", dirs["MISSING"])
	}
}

// TestCLIFlagsCoverage: every flag of every command has a line of the
// table with a bad value, and every command accepts -h.
func TestCLIFlagsCoverage(t *testing.T) {
	for name := range commands {
		var help bytes.Buffer
		c := newCmdline(name, func(string) string { return "" }, &help)
		if _, err := commands[name](c, []string{"-h"}); !errors.Is(err, errHelp) {
			t.Errorf("vrkv %s -h: %v, expected help", name, err)
		}
		if !strings.Contains(help.String(), "vrkv "+name) {
			t.Errorf("vrkv %s -h printed no synopsis:\n%s", name, help.String())
		}
		c.fs.VisitAll(func(f *flag.Flag) {
			for _, tc := range cliCases {
				var args []string
				for _, a := range strings.Fields(tc.args) {
					a, _, _ = strings.Cut(a, "=")
					args = append(args, a)
				}
				if args[0] == name && tc.want != "" && slices.Contains(args, dashed(f.Name)) &&
					strings.Contains(tc.want, dashed(f.Name)) {
					return
				}
			}
			t.Errorf("vrkv %s %s: no line of the table gives it a bad value", name, dashed(f.Name))
		})
	}
}

// TestCLIUsageErrors runs the binary on a few bad command lines: each must
// exit with status 2 and one line on stderr, at once.
func TestCLIUsageErrors(t *testing.T) {
	bin := vrkvBinary(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		env  string
		want string // the whole of stderr
	}{
		{[]string{"put", "--cluster", "bogus", "k", "v"}, "", `vrkv put: --cluster: "bogus" is not host:port (missing port)`},
		{[]string{"serve", "--id", "0", "--cluster", "127.0.0.1:7001,127.0.0.1:7001"}, "", `vrkv serve: --cluster: "127.0.0.1:7001" is listed twice (replicas 0 and 1)`},
		{[]string{"get", "k"}, "bogus:x", `vrkv get: $VRKV_CLUSTER: "bogus:x" is not host:port (port "x" is not a number in 1-65535)`},
		{[]string{"get", "--cluster", "127.0.0.1:1", "--timeout", "0s", "k"}, "", `vrkv get: --timeout: "0s" is not positive`},
		{[]string{"status", "--cluster", "127.0.0.1:1", "--tls", dir}, "", `vrkv status: --tls: "` + dir + `" has no ca.pem (vrkv certs makes it)`},
		{[]string{"cluster", "-n", "0"}, "", `vrkv cluster: -n: "0" is not positive`},
		{[]string{"reconfigure", "--cluster", "127.0.0.1:1,127.0.0.1:2", "--members", "0,2"}, "",
			`vrkv reconfigure: --members: replica 2 is not an index of --cluster, which has 2 replicas (0-1)`},
		{[]string{"serve", "--id", "0", "--cluster", "127.0.0.1:1", "--members", "0,0"}, "", `vrkv serve: --members: "0" is listed twice (entries 0 and 1)`},
		{[]string{"bogus"}, "", `vrkv: unknown command "bogus" (vrkv help lists them)`},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = append(os.Environ(), "VRKV_CLUSTER="+tc.env)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("vrkv %q: %v, expected exit status 2", tc.args, err)
		}
		if got := stderr.String(); got != tc.want+"\n" {
			t.Errorf("vrkv %q: stderr\n\t%q\nexpected\n\t%q", tc.args, got, tc.want+"\n")
		}
		if stdout.Len() != 0 {
			t.Errorf("vrkv %q: printed %q on stdout", tc.args, stdout.String())
		}
		if took > time.Second {
			t.Errorf("vrkv %q took %v to fail, expected it at once", tc.args, took)
		}
		t.Logf("vrkv %q: exit 2 in %v", tc.args, took.Round(time.Millisecond))
	}
}
