// Command vrkv runs the kvvr key/value service over TCP: replicas as
// separate processes, a command-line client, a one-command local cluster,
// a development CA, and a small benchmark.
//
//	vrkv serve --id 0 --cluster 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
//	vrkv put --cluster … KEY VALUE      vrkv get --cluster … KEY
//	vrkv cluster -n 3                   (three local replicas in one command)
//
// Run "vrkv help" for every command and flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
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
  vrkv serve   --id I --cluster ADDRS [--recover] [--listen ADDR] [--checkpoint N] [--log-level L] [--tls DIR]
  vrkv get     --cluster ADDRS [--timeout D] [--tls DIR] KEY
  vrkv put     --cluster ADDRS [--timeout D] [--tls DIR] KEY VALUE
  vrkv append  --cluster ADDRS [--timeout D] [--tls DIR] KEY VALUE
  vrkv status  --cluster ADDRS [--tls DIR]
  vrkv cluster [-n 3] [--base-port 7001] [--tls DIR] [--checkpoint N] [--log-level L]
  vrkv certs   --dir DIR [--hosts 127.0.0.1,::1,localhost]
  vrkv bench   --cluster ADDRS [-c CLIENTS] [-d DURATION] [--value-size N] [--tls DIR]

ADDRS is the host:port of every replica, comma-separated, in the same order
everywhere; replica I listens on the I-th (0-based). Run "vrkv CMD -h" for the
flags of one command.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "serve":
		err = serve(args)
	case "get", "put", "append":
		err = clientOp(cmd, args)
	case "status":
		err = status(args)
	case "cluster":
		err = cluster(args)
	case "certs":
		err = certs(args)
	case "bench":
		err = bench(args)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "vrkv: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "vrkv %s: %v\n", cmd, err)
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(int(ee))
		}
		os.Exit(1)
	}
}

type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// common flags of the commands that talk to a cluster.
type clusterFlags struct {
	cluster string
	tlsDir  string
}

func (c *clusterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.cluster, "cluster", os.Getenv("VRKV_CLUSTER"), "host:port of every replica, comma-separated (default $VRKV_CLUSTER)")
	fs.StringVar(&c.tlsDir, "tls", "", "directory of the cluster's CA and certificates (vrkv certs): use mutual TLS")
}

func (c *clusterFlags) config(role string, logger *slog.Logger) (vrnet.Config, error) {
	if c.cluster == "" {
		return vrnet.Config{}, errors.New("--cluster is required")
	}
	peers := strings.Split(c.cluster, ",")
	for i, p := range peers {
		peers[i] = strings.TrimSpace(p)
	}
	cfg := vrnet.Config{Peers: peers, Logger: logger}
	if c.tlsDir != "" {
		t, err := vrnet.LoadTLS(c.tlsDir, role)
		if err != nil {
			return cfg, err
		}
		cfg.TLS = t
	}
	return cfg, nil
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	var cf clusterFlags
	cf.register(fs)
	id := fs.Int("id", -1, "this replica's index in --cluster (0-based)")
	listen := fs.String("listen", "", "address to listen on (default: this replica's address in --cluster)")
	recover := fs.Bool("recover", false, "restarting after a crash: get the state back from the others (VR recovery)")
	checkpoint := fs.Int("checkpoint", 1000, "checkpoint (and compact the log) every this many ops; 0 = never")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	fs.Parse(args)
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	logger, err := newLogger(*level)
	if err != nil {
		return err
	}
	cfg, err := cf.config("replica", logger)
	if err != nil {
		return err
	}
	cfg.ID, cfg.Listen = *id, *listen
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := vrnet.StartReplica(cfg, kvvr.NewStore(), vr.Options{Recovering: *recover, CheckpointEvery: *checkpoint})
	if err != nil {
		return err
	}
	logger = logger.With("replica", cfg.ID)
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
			if st != last {
				logger.Info("state", "view", st.View, "status", st.Status.String(), "primary", st.IsPrimary,
					"op", st.OpNumber, "commit", st.CommitNumber, "checkpoint", st.CheckpointOpNumber, "log", st.LogLen)
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

func dialClerk(cf *clusterFlags) (*kvvr.Clerk, *vrnet.Client, error) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg, err := cf.config("client", logger)
	if err != nil {
		return nil, nil, err
	}
	c, err := vrnet.NewClient(cfg)
	if err != nil {
		return nil, nil, err
	}
	return kvvr.NewClerk(vr.NewClient(len(cfg.Peers), c)), c, nil
}

func clientOp(op string, args []string) error {
	fs := flag.NewFlagSet(op, flag.ExitOnError)
	var cf clusterFlags
	cf.register(fs)
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	fs.Parse(args)
	want := 2
	if op == "get" {
		want = 1
	}
	if fs.NArg() != want {
		return fmt.Errorf("expected %d arguments (KEY%s), got %d", want, map[bool]string{true: " VALUE"}[want == 2], fs.NArg())
	}
	ck, c, err := dialClerk(&cf)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	key := fs.Arg(0)
	switch op {
	case "get":
		var v string
		if v, err = ck.GetContext(ctx, key); err == nil {
			fmt.Println(v)
		}
	case "put":
		err = ck.PutContext(ctx, key, fs.Arg(1))
	case "append":
		err = ck.AppendContext(ctx, key, fs.Arg(1))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %v (is a majority of the cluster up?)%s", *timeout,
			map[bool]string{true: "; a write given up on may still take effect"}[op != "get"])
	}
	return err
}

func status(args []string) error {
	fs := flag.NewFlagSet("status", flag.ExitOnError)
	var cf clusterFlags
	cf.register(fs)
	fs.Parse(args)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	cfg, err := cf.config("client", logger)
	if err != nil {
		return err
	}
	c, err := vrnet.NewClient(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	down := 0
	for i, addr := range cfg.Peers {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := c.Status(ctx, i)
		cancel()
		if err != nil {
			fmt.Printf("R%d %-21s unreachable (%v)\n", i, addr, err)
			down++
			continue
		}
		role := "backup"
		if st.IsPrimary {
			role = "primary"
		}
		fmt.Printf("R%d %-21s %-14s view %d %-7s op %d commit %d checkpoint %d log %d\n",
			i, addr, st.Status, st.View, role, st.OpNumber, st.CommitNumber, st.CheckpointOpNumber, st.LogLen)
	}
	if down > 0 {
		return exitError(1)
	}
	return nil
}

func certs(args []string) error {
	fs := flag.NewFlagSet("certs", flag.ExitOnError)
	dir := fs.String("dir", "", "directory to write ca.pem, replica.pem, client.pem and their keys into")
	hosts := fs.String("hosts", "127.0.0.1,::1,localhost", "names and IP addresses the replicas' certificate is valid for")
	fs.Parse(args)
	if *dir == "" {
		return errors.New("--dir is required")
	}
	if err := vrnet.GenerateDevCerts(*dir, strings.Split(*hosts, ",")); err != nil {
		return err
	}
	fmt.Printf("wrote a development CA and certificates into %s (replicas valid for %s)\n", *dir, *hosts)
	return nil
}

// cluster runs n replicas of this binary on 127.0.0.1 as child processes
// until SIGINT or SIGTERM.
func cluster(args []string) error {
	fs := flag.NewFlagSet("cluster", flag.ExitOnError)
	n := fs.Int("n", 3, "number of replicas (2f+1 tolerates f failures)")
	basePort := fs.Int("base-port", 7001, "replica i listens on 127.0.0.1:base-port+i")
	tlsDir := fs.String("tls", "", "use mutual TLS with the certificates in this directory; generated there if it has none")
	checkpoint := fs.Int("checkpoint", 1000, "checkpoint every this many ops; 0 = never")
	level := fs.String("log-level", "info", "the replicas' log level: debug, info, warn or error")
	fs.Parse(args)
	if *n < 1 {
		return errors.New("-n must be at least 1")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var addrs []string
	for i := 0; i < *n; i++ {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", *basePort+i))
	}
	clusterArg := strings.Join(addrs, ",")
	tlsArgs := []string{}
	if *tlsDir != "" {
		if _, err := os.Stat(filepath.Join(*tlsDir, "ca.pem")); err != nil {
			if err := vrnet.GenerateDevCerts(*tlsDir, nil); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "vrkv cluster: generated a development CA and certificates in %s\n", *tlsDir)
		}
		tlsArgs = []string{"--tls", *tlsDir}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var procs []*exec.Cmd
	var wg sync.WaitGroup
	exited := make(chan int, *n)
	for i := 0; i < *n; i++ {
		cmd := exec.Command(self, slices.Concat([]string{"serve", "--id", fmt.Sprint(i), "--cluster", clusterArg,
			"--checkpoint", fmt.Sprint(*checkpoint), "--log-level", *level}, tlsArgs)...)
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
	if *tlsDir != "" {
		tlsHint = " --tls " + *tlsDir
	}
	fmt.Printf("vrkv cluster: %d replicas on %s (pids", *n, clusterArg)
	for _, p := range procs {
		fmt.Printf(" %d", p.Process.Pid)
	}
	fmt.Printf("); ^C stops them. Try:\n  vrkv put --cluster %s%s greeting hello\n  vrkv get --cluster %s%s greeting\n",
		clusterArg, tlsHint, clusterArg, tlsHint)
	alive := *n
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
