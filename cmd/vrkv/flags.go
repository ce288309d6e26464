package main

// Checking the command line. Every command parses and checks all of its
// flags and arguments before it does anything else: no dial, no listen, no
// wait. A mistake is one line on stderr that names the flag and the bad
// value, for example
//
//	vrkv put: --cluster: "bogus" is not host:port (missing port)
//
// and exit status 2. Each kind of flag value (a list of addresses, a port,
// a positive count, a duration, a log level, a TLS directory, host names)
// has one parse function here, which every command that has such a flag
// uses; the checks that relate two flags (--id against --cluster) are in
// the command.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"vrlab/vr"
	"vrlab/vrnet"
)

// errHelp: the command line asked for the command's help (-h), which has
// been printed.
var errHelp = errors.New("help requested")

// badValue is a flag value (or one element of a list) that failed its
// check; why says what is wrong with it.
type badValue struct{ value, why string }

func (b badValue) Error() string { return fmt.Sprintf("%q %s", b.value, b.why) }

func bad(value, format string, a ...any) error { return badValue{value, fmt.Sprintf(format, a...)} }

// cmdline is one command's flags and arguments.
type cmdline struct {
	name   string              // the command: serve, get, …
	fs     *flag.FlagSet       // its flags, each of them a checked value
	getenv func(string) string // os.Getenv; the tests pass their own
	help   io.Writer           // where -h prints the flags
	failed error               // the first flag whose value failed its check
	checks []func() error      // run after parsing, in order (required flags, $VRKV_CLUSTER)
}

func newCmdline(name string, getenv func(string) string, help io.Writer) *cmdline {
	c := &cmdline{name: name, fs: flag.NewFlagSet(name, flag.ContinueOnError), getenv: getenv, help: help}
	c.fs.SetOutput(io.Discard) // errors come back from parse, as one line
	c.fs.Usage = func() {}     // and -h is answered by parse
	return c
}

// synopsis is the line of usage (main.go) for command name.
func synopsis(name string) string {
	for _, l := range strings.Split(usage, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "vrkv" && f[1] == name {
			return l
		}
	}
	return "  vrkv " + name
}

// dashed is a flag's name as the usage text spells it: -n, --cluster.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// value is a flag.Value that keeps what parse makes of the text it is set
// to; a bad value is recorded in its cmdline, named by its flag.
type value[T any] struct {
	c     *cmdline
	name  string
	p     *T
	text  string // as set, or the default
	isSet bool
	parse func(string) (T, error)
}

func (v *value[T]) String() string { return v.text }

func (v *value[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		if v.c.failed == nil {
			v.c.failed = fmt.Errorf("%s: %w", dashed(v.name), err)
		}
		return err
	}
	*v.p, v.text, v.isSet = x, s, true
	return nil
}

type boolValue struct{ value[bool] }

func (*boolValue) IsBoolFlag() bool { return true }

func define[T any](c *cmdline, name string, def T, defText, help string, parse func(string) (T, error)) *value[T] {
	v := &value[T]{c: c, name: name, p: new(T), text: defText, parse: parse}
	*v.p = def
	c.fs.Var(v, name, help)
	return v
}

// The flag kinds.

// Dir is a directory's path; given, it must not be empty (--tls= from an
// unset variable in a script would otherwise mean plain TCP).
func (c *cmdline) Dir(name, help string) *string {
	return define(c, name, "", "", help, func(s string) (string, error) {
		if s == "" {
			return "", bad(s, "is empty")
		}
		return s, nil
	}).p
}

func (c *cmdline) Bool(name, help string) *bool {
	v := &boolValue{value[bool]{c: c, name: name, p: new(bool), parse: func(s string) (bool, error) {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return false, bad(s, "is not true or false")
		}
		return b, nil
	}}}
	c.fs.Var(v, name, help)
	return v.p
}

// Int is an integer of at least min (0 for a count where 0 means
// something, 1 for one where it doesn't).
func (c *cmdline) Int(name string, def, min int, help string) *int {
	return c.IntRange(name, def, min, maxInt, help)
}

// IntRange is an integer in [min, max].
func (c *cmdline) IntRange(name string, def, min, max int, help string) *int {
	return define(c, name, def, strconv.Itoa(def), help, func(s string) (int, error) { return parseInt(s, min, max) }).p
}

// Index is a required 0-based index; the command checks its upper bound.
func (c *cmdline) Index(name, help string) *int {
	c.Required(name)
	return define(c, name, -1, "", help, func(s string) (int, error) { return parseInt(s, 0, maxInt) }).p
}

// Lease defines --lease: the lease length of fast reads in ticks (vr.TickInterval
// each), 0 = off; a lease not shorter than the view-change timeout is a
// usage error, as vr.NewReplica would refuse it.
func (c *cmdline) Lease() *int {
	return define(c, "lease", 0, "0", fmt.Sprintf("fast reads: leases of this many `ticks` (%v each), below the view-change timeout of %d; 0 = off",
		vr.TickInterval, vr.DefaultViewChangeTicks), func(s string) (int, error) {
		n, err := parseInt(s, 0, maxInt)
		if err == nil && n >= vr.DefaultViewChangeTicks {
			return 0, bad(s, "is not shorter than the view-change timeout of %d ticks: a lease must end before a backup would start a view change", vr.DefaultViewChangeTicks)
		}
		return n, err
	}).p
}

// Duration is a positive duration.
func (c *cmdline) Duration(name string, def time.Duration, help string) *time.Duration {
	return define(c, name, def, def.String(), help, parseDuration).p
}

// LogLevel is debug, info, warn or error.
func (c *cmdline) LogLevel(name, def, help string) *string {
	return define(c, name, def, def, help, parseLevel).p
}

// Addr is one host:port; the host may be empty (all interfaces) when
// emptyHost.
func (c *cmdline) Addr(name, help string, emptyHost bool) *string {
	return define(c, name, "", "", help, func(s string) (string, error) {
		_, err := parseAddr(s, emptyHost)
		return s, err
	}).p
}

// Members is a list of replica indexes (--members); the command checks
// them against --cluster with checkMembers.
func (c *cmdline) Members(name, help string) *[]int {
	return define(c, name, nil, "", help, parseMembers).p
}

// Cluster is --cluster: the replicas' addresses. Given neither the flag nor
// $VRKV_CLUSTER, the command line is wrong; $VRKV_CLUSTER is checked like
// the flag, and the flag wins over it.
func (c *cmdline) Cluster() *[]string {
	v := define(c, "cluster", nil, "", "`host:port` of every replica, comma-separated (default $VRKV_CLUSTER)", parseAddrs)
	c.checks = append(c.checks, func() error {
		if v.isSet {
			return nil
		}
		env := c.getenv("VRKV_CLUSTER")
		if env == "" {
			return errors.New("--cluster is required (or set VRKV_CLUSTER)")
		}
		addrs, err := parseAddrs(env)
		if err != nil {
			return fmt.Errorf("$VRKV_CLUSTER: %w", err)
		}
		*v.p = addrs
		return nil
	})
	return v.p
}

// Required makes a flag that has no sensible default compulsory.
func (c *cmdline) Required(name string) {
	c.checks = append(c.checks, func() error {
		set := false
		c.fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
		if !set {
			return fmt.Errorf("%s is required", dashed(name))
		}
		return nil
	})
}

// parse parses args, which must end with exactly the arguments named in
// positional (KEY, VALUE, …), and runs the checks. The error is the
// command line's first mistake, in one line.
func (c *cmdline) parse(args []string, positional ...string) error {
	if err := c.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(c.help, "usage:\n%s\n\nflags:\n", synopsis(c.name))
			c.fs.SetOutput(c.help)
			c.fs.PrintDefaults()
			return errHelp
		}
		if c.failed != nil {
			return c.failed
		}
		// The flag package's own messages are one line: an unknown flag, a
		// flag without its value.
		return errors.New(strings.Replace(err.Error(), "flag provided but not defined", "unknown flag", 1))
	}
	want := strings.Join(positional, " ")
	switch rest := c.fs.Args(); {
	case len(rest) > len(positional):
		extra := rest[len(positional)]
		if len(extra) > 1 && extra[0] == '-' && !c.isPositional(extra) {
			return fmt.Errorf("%q after the arguments: flags go first (vrkv %s [flags] %s)", extra, c.name, want)
		}
		if len(positional) == 0 {
			return fmt.Errorf("unexpected argument %q: %s takes none", extra, c.name)
		}
		return fmt.Errorf("unexpected argument %q after %s", extra, want)
	case len(rest) < len(positional):
		return fmt.Errorf("missing %s (vrkv %s [flags] %s)", positional[len(rest)], c.name, want)
	}
	for _, check := range c.checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// isPositional: s, which starts with "-", is not a flag of this command
// (a VALUE such as -5 that happens to come after the others).
func (c *cmdline) isPositional(s string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(s, "-"), "=")
	return c.fs.Lookup(name) == nil
}

// The parse functions, one per kind of value.

const maxInt = int(^uint(0) >> 1)

func parseInt(s string, min, max int) (int, error) {
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return 0, bad(s, "is not an integer")
	case (n < min || n > max) && max != maxInt:
		return 0, bad(s, "is not in %d-%d", min, max)
	case n < min && min == 1:
		return 0, bad(s, "is not positive")
	case n < min && min == 0:
		return 0, bad(s, "is negative")
	case n < min:
		return 0, bad(s, "is less than %d", min)
	}
	return n, nil
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, bad(s, "is not a duration (such as 10s or 500ms)")
	}
	if d <= 0 {
		return 0, bad(s, "is not positive")
	}
	return d, nil
}

func parseLevel(s string) (string, error) {
	switch strings.ToLower(s) {
	case "debug", "info", "warn", "error":
		return s, nil
	}
	return "", bad(s, "is not a log level (debug, info, warn or error)")
}

// parsePort checks a port number, 1-65535, in decimal.
func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("port %q is not a number in 1-65535", s)
	}
	return p, nil
}

// parseAddr checks a host:port; the result, with the host lower-cased (or
// the IP address in its usual form) and the port a number, is the same for
// two spellings of one address.
func parseAddr(s string, emptyHost bool) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		why := "is not host:port"
		var ae *net.AddrError
		if errors.As(err, &ae) {
			why += " (" + strings.TrimSuffix(ae.Err, " in address") + ")"
		}
		return "", bad(s, "%s", why)
	}
	p, err := parsePort(port)
	if err != nil {
		return "", bad(s, "is not host:port (%v)", err)
	}
	switch {
	case host == "" && emptyHost:
	case host == "":
		return "", bad(s, "has no host")
	case strings.Contains(host, "%"): // an IPv6 zone: fe80::1%eth0
		if _, err := netip.ParseAddr(host); err != nil {
			return "", bad(s, "has a bad IPv6 address %q", host)
		}
	default:
		if a, err := netip.ParseAddr(host); err == nil {
			host = a.String()
		} else if err := checkHostName(host); err != nil {
			return "", bad(s, "%v", err)
		}
	}
	return net.JoinHostPort(strings.ToLower(host), strconv.Itoa(p)), nil
}

// checkHostName: a DNS name, or what could be one.
func checkHostName(h string) error {
	if h == "" {
		return errors.New("has an empty host")
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return fmt.Errorf("has %q in its host name", r)
		}
	}
	return nil
}

// parseList checks a comma-separated list of what (address, host, …): at
// least one entry, none empty, each one that elem accepts, no two the same.
// elem returns the entry's value and the key that is the same for two
// spellings of one entry; twice is the error for entry i that repeats
// entry j.
func parseList[T any, K comparable](s, what string, elem func(string) (T, K, error), twice func(e string, j, i int) error) ([]T, error) {
	if strings.TrimSpace(s) == "" {
		return nil, bad(s, "lists no %s", what)
	}
	var list []T
	seen := map[K]int{}
	for i, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			return nil, bad(s, "has an empty %s (entry %d)", what, i)
		}
		x, key, err := elem(e)
		if err != nil {
			return nil, err
		}
		if j, ok := seen[key]; ok {
			return nil, twice(e, j, i)
		}
		seen[key] = i
		list = append(list, x)
	}
	return list, nil
}

// parseAddrs checks a comma-separated list of host:port, at least one, no
// two the same.
func parseAddrs(s string) ([]string, error) {
	return parseList(s, "address", func(a string) (string, string, error) {
		norm, err := parseAddr(a, false)
		return a, norm, err
	}, func(a string, j, i int) error { return bad(a, "is listed twice (replicas %d and %d)", j, i) })
}

// parseMembers checks a configuration: comma-separated replica indexes, at
// least one, none negative, no two the same. Whether each is an index of
// --cluster is the command's check (checkMembers).
func parseMembers(s string) ([]int, error) {
	return parseList(s, "replica", func(e string) (int, int, error) {
		m, err := strconv.Atoi(e)
		switch {
		case err != nil:
			return 0, 0, bad(e, "is not a replica index (0, 1, 2, …)")
		case m < 0:
			return 0, 0, bad(e, "is negative")
		}
		return m, m, nil
	}, func(e string, j, i int) error { return bad(e, "is listed twice (entries %d and %d)", j, i) })
}

// checkMembers checks a parsed --members against the number of replicas
// in --cluster (or -n).
func checkMembers(flagName string, members []int, n int, of string) error {
	for _, m := range members {
		if m >= n {
			return fmt.Errorf("%s: replica %d is not an index of %s, which has %d replicas (0-%d)", flagName, m, of, n, n-1)
		}
	}
	return nil
}

// parseHosts checks certs --hosts: names or IP addresses, without ports, at
// least one, no two the same.
func parseHosts(s string) ([]string, error) {
	return parseList(s, "host", func(h string) (string, string, error) {
		if a, err := netip.ParseAddr(h); err == nil {
			if a.Zone() != "" {
				return "", "", bad(h, "has an IPv6 zone, which a certificate cannot name")
			}
			return h, a.String(), nil
		}
		if _, _, err := net.SplitHostPort(h); err == nil {
			return "", "", bad(h, "has a port: list host names or IP addresses only")
		}
		if err := checkHostName(h); err != nil {
			return "", "", bad(h, "is not a host name or IP address (%v)", err)
		}
		return h, strings.ToLower(h), nil
	}, func(h string, _, _ int) error { return bad(h, "is listed twice") })
}

// checkTLSDir checks that dir holds what vrnet.LoadTLS(dir, role) needs:
// ca.pem with a CA certificate, and role.pem and role-key.pem, a
// certificate signed by that CA and its key. It returns LoadTLS's config.
// Each error names the file.
func checkTLSDir(dir, role string) (*tls.Config, error) {
	fail := func(format string, a ...any) (*tls.Config, error) {
		return nil, fmt.Errorf("--tls: %w", bad(dir, format, a...))
	}
	if st, err := os.Stat(dir); err != nil {
		return fail("does not exist (make it with vrkv certs --dir %s)", dir)
	} else if !st.IsDir() {
		return fail("is not a directory")
	}
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("has no %s (vrkv certs makes it)", name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		return b, nil
	}
	caPEM, err := read("ca.pem")
	if err != nil {
		return fail("%v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fail("ca.pem holds no PEM certificate")
	}
	certName, keyName := role+".pem", role+"-key.pem"
	certPEM, err := read(certName)
	if err != nil {
		return fail("%v", err)
	}
	keyPEM, err := read(keyName)
	if err != nil {
		return fail("%v", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fail("%s and %s: %v", certName, keyName, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fail("%s: %v", certName, err)
	}
	usage := x509.ExtKeyUsageClientAuth
	if role == "replica" {
		usage = x509.ExtKeyUsageServerAuth
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return fail("%s does not verify against ca.pem: %v", certName, err)
	}
	cfg, err := vrnet.LoadTLS(dir, role)
	if err != nil {
		return fail("%v", err)
	}
	return cfg, nil
}

// checkNewCA checks a directory that a new CA goes into (certs --dir,
// cluster --tls): a directory, or nothing yet, without a CA in it
// (vrnet.GenerateDevCerts does not overwrite one).
func checkNewCA(flagName, dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s: %w", flagName, bad(dir, "%v", err))
	case !st.IsDir():
		return fmt.Errorf("%s: %w", flagName, bad(dir, "is not a directory"))
	}
	if _, err := os.Stat(filepath.Join(dir, "ca.pem")); err == nil {
		return fmt.Errorf("%s: %w", flagName, bad(dir, "already has a CA (ca.pem), which vrkv certs does not overwrite"))
	}
	return nil
}
