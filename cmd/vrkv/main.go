// Command vrkv runs the kvvr key/value service over TCP: replicas as
// separate processes, a command-line client, a one-command local cluster,
// a development CA, and a small benchmark.
//
//	vrkv serve --id 0 --cluster 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
//	vrkv put --cluster … KEY VALUE      vrkv get --cluster … KEY
//	vrkv cluster -n 3                   (three local replicas in one command)
//	vrkv reconfigure --cluster … --members 0,1,2,3,4   (change the members)
//
// Run "vrkv help" for every command and flag.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"vrlab/kvvr"
	"vrlab/vr"
	"vrlab/vrnet"
)

const usage = `vrkv: the kvvr key/value service on Viewstamped Replication, over TCP

usage:
  vrkv serve   --id I --cluster ADDRS [--members LIST] [--recover] [--listen ADDR] [--checkpoint N] [--lease TICKS] [--log-level L] [--tls DIR]
  vrkv get     --cluster ADDRS [--timeout D] [--tls DIR] KEY
  vrkv put     --cluster ADDRS [--timeout D] [--tls DIR] KEY VALUE
  vrkv append  --cluster ADDRS [--timeout D] [--tls DIR] KEY VALUE
  vrkv status  --cluster ADDRS [--tls DIR]
  vrkv reconfigure --cluster ADDRS --members LIST [--timeout D] [--tls DIR]
  vrkv cluster [-n 3] [--members LIST] [--base-port 7001] [--tls DIR] [--checkpoint N] [--lease TICKS] [--log-level L]
  vrkv certs   --dir DIR [--hosts 127.0.0.1,::1,localhost]
  vrkv bench   --cluster ADDRS [-c CLIENTS] [-d DURATION] [--value-size N] [--reads PCT] [--tls DIR]

ADDRS is the host:port of every replica, comma-separated, in the same order
everywhere; replica I listens on the I-th (0-based). It lists every machine
that may ever be a member. LIST is a configuration: replica indexes,
comma-separated (0,1,2); a replica outside it is a standby. Run "vrkv CMD -h"
for the flags of one command.
`

// commands parse and check their command lines (flags.go). Each returns
// the command to run, or the command line's first mistake.
var commands = map[string]func(c *cmdline, args []string) (func() error, error){
	"serve":       serve,
	"get":         clientOp,
	"put":         clientOp,
	"append":      clientOp,
	"status":      status,
	"reconfigure": reconfigure,
	"cluster":     cluster,
	"certs":       certs,
	"bench":       bench,
}

// parseCommand parses and checks command name's flags and arguments; it
// does nothing else. getenv reads the environment ($VRKV_CLUSTER); -h
// prints the command's flags to help.
func parseCommand(name string, args []string, getenv func(string) string, help io.Writer) (func() error, error) {
	cmd, ok := commands[name]
	if !ok {
		return nil, fmt.Errorf("unknown command %q (vrkv help lists them)", name)
	}
	return cmd(newCmdline(name, getenv, help), args)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	name, args := os.Args[1], os.Args[2:]
	switch name {
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	}
	if _, ok := commands[name]; !ok {
		fmt.Fprintf(os.Stderr, "vrkv: unknown command %q (vrkv help lists them)\n", name)
		os.Exit(2)
	}
	run, err := parseCommand(name, args, os.Getenv, os.Stdout)
	if errors.Is(err, errHelp) {
		return
	}
	if err != nil { // a mistake on the command line: one line, status 2
		fmt.Fprintf(os.Stderr, "vrkv %s: %v\n", name, err)
		os.Exit(2)
	}
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "vrkv %s: %v\n", name, err)
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(int(ee))
		}
		os.Exit(1)
	}
}

type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// clusterFlags are the flags of the commands that talk to a cluster.
type clusterFlags struct {
	peers  *[]string
	tlsDir *string
}

func addClusterFlags(c *cmdline) clusterFlags {
	return clusterFlags{
		peers:  c.Cluster(),
		tlsDir: c.Dir("tls", "`directory` of the cluster's CA and certificates (vrkv certs): use mutual TLS"),
	}
}

// config checks --tls, after parsing, and makes the vrnet.Config of role
// (replica or client).
func (cf clusterFlags) config(role string) (vrnet.Config, error) {
	cfg := vrnet.Config{Peers: *cf.peers}
	if *cf.tlsDir != "" {
		t, err := checkTLSDir(*cf.tlsDir, role)
		if err != nil {
			return cfg, err
		}
		cfg.TLS = t
	}
	return cfg, nil
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		panic(err) // checked by parseLevel
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

func serve(c *cmdline, args []string) (func() error, error) {
	cf := addClusterFlags(c)
	id := c.Index("id", "this replica's `index` in --cluster (0-based)")
	members := c.Members("members", "the configuration in force when this replica starts, as vrkv status prints it: `replicas` "+
		"(indexes of --cluster, comma-separated); a replica outside it is a standby until vrkv reconfigure adds it (default: every replica)")
	listen := c.Addr("listen", "`host:port` to listen on; the host may be empty (default: this replica's address in --cluster)", true)
	recover := c.Bool("recover", "restarting after a crash: get the state back from the others (VR recovery)")
	checkpoint := c.Int("checkpoint", 1000, 0, "checkpoint (and compact the log) every this many `ops`; 0 = never")
	lease := c.Lease()
	level := c.LogLevel("log-level", "info", "log `level`: debug, info, warn or error")
	if err := c.parse(args); err != nil {
		return nil, err
	}
	n := len(*cf.peers)
	if *id >= n {
		return nil, fmt.Errorf("--id: %d is not an index of --cluster, which has %d replicas (0-%d)", *id, n, n-1)
	}
	if err := checkMembers("--members", *members, n, "--cluster"); err != nil {
		return nil, err
	}
	cfg, err := cf.config("replica")
	if err != nil {
		return nil, err
	}
	cfg.ID, cfg.Listen = *id, *listen
	opts := vr.Options{Recovering: *recover, CheckpointEvery: *checkpoint, Members: *members, LeaseTicks: *lease}
	return func() error { return runServe(cfg, opts, *level) }, nil
}

func runServe(cfg vrnet.Config, opts vr.Options, level string) error {
	logger := newLogger(level)
	cfg.Logger = logger
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := vrnet.StartReplica(cfg, kvvr.NewStore(), opts)
	if err != nil {
		return err
	}
	logger = logger.With("replica", cfg.ID)
	if st := rep.Node().State(); st.Status == vr.Standby {
		logger.Info("standby: outside the configuration; a reconfiguration that adds this replica (vrkv reconfigure) makes it a member",
			"members", joinInts(st.Members))
	}
	go func() { // a status line now and then, when something changed
		var last vr.State
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			st := rep.Node().State()
			if !st.Equal(last) {
				logger.Info("state", "epoch", st.Epoch, "members", joinInts(st.Members), "view", st.View, "status", st.Status.String(),
					"primary", st.IsPrimary, "retired", st.Retired, "op", st.OpNumber, "commit", st.CommitNumber,
					"checkpoint", st.CheckpointOpNumber, "log", st.LogLen)
				last = st
			}
		}
	}()
	<-ctx.Done()
	logger.Info("shutting down")
	rep.Close()
	logger.Info("stopped")
	return nil
}

// dialClerk makes a clerk of the cluster cfg names: over shared, if it is
// not nil, or over a connection of its own (returned).
func dialClerk(cfg vrnet.Config, shared *vrnet.Client) (*kvvr.Clerk, *vrnet.Client, error) {
	c := shared
	if c == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		var err error
		if c, err = vrnet.NewClient(cfg); err != nil {
			return nil, nil, err
		}
	}
	return kvvr.NewClerk(vr.NewClient(len(cfg.Peers), c)), c, nil
}

// clientOp is get, put and append.
func clientOp(c *cmdline, args []string) (func() error, error) {
	cf := addClusterFlags(c)
	timeout := c.Duration("timeout", 10*time.Second, "give up after this `duration`")
	positional := []string{"KEY", "VALUE"}
	if c.name == "get" {
		positional = positional[:1]
	}
	if err := c.parse(args, positional...); err != nil {
		return nil, err
	}
	cfg, err := cf.config("client")
	if err != nil {
		return nil, err
	}
	op, key, value := c.name, c.fs.Arg(0), c.fs.Arg(1)
	return func() error { return runClientOp(cfg, op, key, value, *timeout) }, nil
}

func runClientOp(cfg vrnet.Config, op, key, value string, timeout time.Duration) error {
	ck, c, err := dialClerk(cfg, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	switch op {
	case "get":
		var v string
		if v, err = ck.GetContext(ctx, key); err == nil {
			fmt.Println(v)
		}
	case "put":
		err = ck.PutContext(ctx, key, value)
	case "append":
		err = ck.AppendContext(ctx, key, value)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %v (is a majority of the cluster up?)%s", timeout,
			map[bool]string{true: "; a write given up on may still take effect"}[op != "get"])
	}
	return err
}

func status(c *cmdline, args []string) (func() error, error) {
	cf := addClusterFlags(c)
	if err := c.parse(args); err != nil {
		return nil, err
	}
	cfg, err := cf.config("client")
	if err != nil {
		return nil, err
	}
	return func() error { return runStatus(cfg) }, nil
}

func runStatus(cfg vrnet.Config) error {
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	c, err := vrnet.NewClient(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	sts, errs := statuses(c, len(cfg.Peers))
	conf := configuration(sts, errs)
	down := 0
	for i, addr := range cfg.Peers {
		member := conf < 0 || slices.Contains(sts[conf].Members, i)
		if errs[i] != nil {
			note := ""
			if !member {
				note = fmt.Sprintf(", not a member of epoch %d", sts[conf].Epoch)
			} else {
				down++
				if conf >= 0 {
					note = fmt.Sprintf(", a member of epoch %d", sts[conf].Epoch)
				}
			}
			fmt.Printf("R%d %-21s unreachable (%v)%s\n", i, addr, errs[i], note)
			continue
		}
		st := sts[i]
		fmt.Printf("R%d %-21s %-14s epoch %d view %d %-7s members %s op %d commit %d checkpoint %d log %d\n",
			i, addr, st.Status, st.Epoch, st.View, role(st), joinInts(st.Members), st.OpNumber, st.CommitNumber, st.CheckpointOpNumber, st.LogLen)
	}
	if conf >= 0 {
		st := sts[conf]
		primary := "no primary"
		if p := latestPrimary(sts, errs, st.Epoch); p >= 0 {
			primary = fmt.Sprintf("primary R%d", p)
			for i := range sts {
				if i != p && errs[i] == nil && sts[i].IsPrimary && sts[i].Epoch == st.Epoch {
					primary += fmt.Sprintf(" (R%d still acts as primary of view %d, older than view %d: it has not heard from the group)", i, sts[i].View, sts[p].View)
				}
			}
		}
		fmt.Printf("configuration: epoch %d, members %s, %s\n", st.Epoch, joinInts(st.Members), primary)
	}
	if down > 0 {
		return exitError(1)
	}
	return nil
}

// statuses asks every replica for its state, at once, each within 2s.
func statuses(c *vrnet.Client, n int) ([]vr.State, []error) {
	sts, errs := make([]vr.State, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			sts[i], errs[i] = c.Status(ctx, i)
		}()
	}
	wg.Wait()
	return sts, errs
}

// configuration picks the replica whose state tells the group's current
// configuration: of the newest epoch among those that take part (a
// standby knows only the configuration it started with or was removed
// from), the primary if there is one; -1 if none answered.
func configuration(sts []vr.State, errs []error) int {
	best := -1
	key := func(st vr.State) []int { return []int{b2i(st.Status != vr.Standby), st.Epoch, b2i(st.IsPrimary)} }
	for i, st := range sts {
		if errs[i] == nil && (best < 0 || slices.Compare(key(st), key(sts[best])) > 0) {
			best = i
		}
	}
	return best
}

// latestPrimary is the replica that is primary of the highest view of
// epoch e, or -1. A primary that cannot hear the group (cut off, or deaf: a
// one-way link failure) still says it is primary of its older view.
func latestPrimary(sts []vr.State, errs []error, e int) int {
	best := -1
	for i, st := range sts {
		if errs[i] == nil && st.IsPrimary && st.Epoch == e && (best < 0 || st.View > sts[best].View) {
			best = i
		}
	}
	return best
}

// role is a replica's part in its epoch, for status: primary or backup; a
// new member fetching the state (joining); a removed one (retired), which
// serves the state while transitioning and has stopped once a standby; a
// standby that was never a member (spare).
func role(st vr.State) string {
	switch {
	case st.IsPrimary:
		return "primary"
	case st.Retired:
		return "retired"
	case st.Status == vr.Transitioning:
		return "joining"
	case st.Status == vr.Standby:
		return "spare"
	}
	return "backup"
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// joinInts prints a configuration as --members takes it: 0,1,2.
func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// reconfigure moves the group to the configuration --members.
func reconfigure(c *cmdline, args []string) (func() error, error) {
	cf := addClusterFlags(c)
	members := c.Members("members", "the new configuration: `replicas` (indexes of --cluster, comma-separated)")
	c.Required("members")
	timeout := c.Duration("timeout", time.Minute, "give up after this `duration`")
	if err := c.parse(args); err != nil {
		return nil, err
	}
	if err := checkMembers("--members", *members, len(*cf.peers), "--cluster"); err != nil {
		return nil, err
	}
	cfg, err := cf.config("client")
	if err != nil {
		return nil, err
	}
	return func() error { return runReconfigure(cfg, *members, *timeout) }, nil
}

// runReconfigure asks the group to move to members, and then waits until
// the new configuration runs: a majority of the members is normal in the
// new epoch, and every other replica that answers has stopped (a
// standby). A removed replica serves the state to the new members until
// f'+1 of them hold it, so it may be shut down only once it has stopped.
// The other members that answer get a little longer (settle) to catch up,
// so that what vrkv status shows next is the new configuration at work.
func runReconfigure(cfg vrnet.Config, members []int, timeout time.Duration) error {
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	c, err := vrnet.NewClient(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	vc := vr.NewClient(len(cfg.Peers), c)
	if err := vc.ReconfigureContext(ctx, members); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no answer within %v (is a majority of the configuration up, and are the new members running?); "+
				"the reconfiguration may still take effect: vrkv status shows where the group is", timeout)
		}
		return err
	}
	_, epoch := vc.Members()
	fmt.Printf("epoch %d: members %s\n", epoch, joinInts(members))
	var settled time.Time // when a majority of the members first ran the epoch, and no removed replica did
	for {
		sts, errs := statuses(c, len(cfg.Peers))
		normal := 0
		var leaving, stopped, behind []string
		for i, st := range sts {
			label := fmt.Sprintf("R%d", i)
			if errs[i] == nil {
				label = fmt.Sprintf("R%d (%v in epoch %d)", i, st.Status, st.Epoch)
			}
			switch member := slices.Contains(members, i); {
			case member && errs[i] == nil && st.Status == vr.Normal && st.Epoch >= epoch:
				normal++
			case member:
				behind = append(behind, label)
			case errs[i] != nil:
			case st.Status != vr.Standby:
				leaving = append(leaving, label)
			case st.Retired && st.Epoch == epoch:
				stopped = append(stopped, fmt.Sprintf("R%d", i))
			}
		}
		if normal > len(members)/2 && len(leaving) == 0 && settled.IsZero() {
			settled = time.Now()
		}
		if !settled.IsZero() && (normal == len(members) || time.Since(settled) >= settle || ctx.Err() != nil) {
			if len(stopped) > 0 {
				fmt.Printf("%s left the configuration and stopped: they may be shut down\n", strings.Join(stopped, ", "))
			}
			if len(behind) > 0 {
				fmt.Printf("members not yet normal in epoch %d: %s (a member fetches the state when it hears of the epoch; "+
					"one that does not answer may not be running: start it as a standby)\n", epoch, strings.Join(behind, ", "))
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("the group moved to epoch %d, but after %v %d of the %d members are normal in it (others: %s) "+
				"and replicas outside it still run: %s. A removed replica serves the state until enough new members hold it; "+
				"shut it down only once vrkv status shows it standby", epoch, timeout, normal, len(members), strings.Join(behind, ", "), strings.Join(leaving, ", "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settle is how long vrkv reconfigure waits for the members that are not
// yet normal in the new epoch once a majority is.
const settle = 3 * time.Second

func certs(c *cmdline, args []string) (func() error, error) {
	dir := c.Dir("dir", "`directory` to write ca.pem, replica.pem, client.pem and their keys into (need not exist)")
	c.Required("dir")
	hosts := define(c, "hosts", []string{"127.0.0.1", "::1", "localhost"}, "127.0.0.1,::1,localhost",
		"`names` and IP addresses the replicas' certificate is valid for, comma-separated", parseHosts).p
	if err := c.parse(args); err != nil {
		return nil, err
	}
	if err := checkNewCA("--dir", *dir); err != nil {
		return nil, err
	}
	return func() error {
		if err := vrnet.GenerateDevCerts(*dir, *hosts); err != nil {
			return err
		}
		fmt.Printf("wrote a development CA and certificates into %s (replicas valid for %s)\n", *dir, strings.Join(*hosts, ","))
		return nil
	}, nil
}

// cluster runs n replicas of this binary on 127.0.0.1 as child processes
// until SIGINT or SIGTERM.
func cluster(c *cmdline, args []string) (func() error, error) {
	n := c.Int("n", 3, 1, "`number` of replicas (2f+1 tolerates f failures)")
	members := c.Members("members", "the configuration to start with: `replicas` (0-based, comma-separated); the others are standbys (default: all)")
	basePort := c.IntRange("base-port", 7001, 1, 65535, "replica i listens on 127.0.0.1:`port`+i")
	tlsDir := c.Dir("tls", "use mutual TLS with the certificates in this `directory`; generated there if it has no ca.pem")
	checkpoint := c.Int("checkpoint", 1000, 0, "checkpoint every this many `ops`; 0 = never")
	lease := c.Lease()
	level := c.LogLevel("log-level", "info", "the replicas' log `level`: debug, info, warn or error")
	if err := c.parse(args); err != nil {
		return nil, err
	}
	if last := *basePort + *n - 1; last > 65535 {
		return nil, fmt.Errorf("-n %d from --base-port %d: replica %d's port %d is above 65535", *n, *basePort, *n-1, last)
	}
	if err := checkMembers("--members", *members, *n, "-n"); err != nil {
		return nil, err
	}
	if *tlsDir != "" {
		var err error
		if _, statErr := os.Stat(filepath.Join(*tlsDir, "ca.pem")); statErr == nil {
			_, err = checkTLSDir(*tlsDir, "replica") // the replicas will load it
		} else {
			err = checkNewCA("--tls", *tlsDir) // generated there
		}
		if err != nil {
			return nil, err
		}
	}
	return func() error { return runCluster(*n, *members, *basePort, *tlsDir, *checkpoint, *lease, *level) }, nil
}

func runCluster(n int, members []int, basePort int, tlsDir string, checkpoint, lease int, level string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var addrs []string
	for i := 0; i < n; i++ {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", basePort+i))
	}
	clusterArg := strings.Join(addrs, ",")
	extra := []string{} // flags of every replica
	if tlsDir != "" {
		if _, err := os.Stat(filepath.Join(tlsDir, "ca.pem")); err != nil {
			if err := vrnet.GenerateDevCerts(tlsDir, nil); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "vrkv cluster: generated a development CA and certificates in %s\n", tlsDir)
		}
		extra = []string{"--tls", tlsDir}
	}
	if members != nil {
		extra = append(extra, "--members", joinInts(members))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var procs []*exec.Cmd
	var wg sync.WaitGroup
	exited := make(chan int, n)
	for i := 0; i < n; i++ {
		cmd := exec.Command(self, slices.Concat([]string{"serve", "--id", fmt.Sprint(i), "--cluster", clusterArg,
			"--checkpoint", fmt.Sprint(checkpoint), "--lease", fmt.Sprint(lease), "--log-level", level}, extra)...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // ^C reaches the children through us only
		if err := cmd.Start(); err != nil {
			for _, p := range procs {
				p.Process.Kill()
				p.Wait()
			}
			return fmt.Errorf("starting replica %d: %w", i, err)
		}
		procs = append(procs, cmd)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := cmd.Wait()
			exited <- i
			if ctx.Err() == nil {
				fmt.Fprintf(os.Stderr, "vrkv cluster: replica %d (pid %d) exited: %v\n", i, cmd.Process.Pid, err)
			}
		}(i)
	}
	tlsHint := ""
	if tlsDir != "" {
		tlsHint = " --tls " + tlsDir
	}
	fmt.Printf("vrkv cluster: %d replicas on %s (pids", n, clusterArg)
	for _, p := range procs {
		fmt.Printf(" %d", p.Process.Pid)
	}
	fmt.Printf("); ^C stops them. Try:\n  vrkv put --cluster %s%s greeting hello\n  vrkv get --cluster %s%s greeting\n",
		clusterArg, tlsHint, clusterArg, tlsHint)
	alive := n
	for alive > 0 {
		select {
		case <-ctx.Done():
			fmt.Fprintln(os.Stderr, "vrkv cluster: stopping the replicas")
			for _, p := range procs {
				p.Process.Signal(syscall.SIGTERM)
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				for _, p := range procs {
					p.Process.Kill()
				}
				<-done
			}
			return nil
		case <-exited:
			alive--
		}
	}
	return errors.New("every replica exited")
}
