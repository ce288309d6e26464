package tests

// Helpers of the part SC tests (part_sc_test.go): a cluster of shard
// controllers, clerks with bounded calls, and the configuration checks.

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"vrlab/labrpc"
	"vrlab/shardctrler"
	"vrlab/tests/harness"
	"vrlab/vr"
)

// scOpTimeout bounds one clerk call: it covers a view change or two.
const scOpTimeout = 10 * time.Second

// scEnv is a cluster of shard-controller replicas.
type scEnv struct {
	t  *testing.T
	c  *harness.Cluster
	op time.Duration // bound of one clerk call

	// ctx ends when the test does, before the cluster stops, so that no
	// clerk call outlives the test.
	ctx context.Context

	clerks int // clerks made so far
}

// newSC starts n shard-controller replicas.
func newSC(t *testing.T, n int, title string, options ...harness.Option) *scEnv {
	t.Helper()
	factory := func(ends []*labrpc.ClientEnd, me int, opts vr.Options) harness.Server {
		return shardctrler.StartServer(ends, me, opts)
	}
	options = append([]harness.Option{harness.WithServers(factory)}, options...)
	e := &scEnv{t: t, c: harness.New(t, n, title, options...), op: scOpTimeout}
	ctx, cancel := context.WithCancel(context.Background())
	e.ctx = ctx
	t.Cleanup(cancel) // runs before the cluster's cleanup (registered earlier)
	return e
}

// scClerk is a shard-controller clerk whose calls are bounded. The methods
// without "try" fail the test and must be called from the test goroutine;
// the "try" ones return the failure and are safe anywhere.
type scClerk struct {
	e    *scEnv
	name string
	cl   *harness.Client
	ck   *shardctrler.Clerk
}

func (e *scEnv) clerk() *scClerk {
	cl := e.c.NewClient()
	e.clerks++
	return &scClerk{e: e, name: fmt.Sprintf("clerk %d", e.clerks), cl: cl, ck: shardctrler.MakeClerk(cl.Ends())}
}

func (k *scClerk) bounded(what string, call func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(k.e.ctx, k.e.op)
	defer cancel()
	err := call(ctx)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%s: %s did not complete within %v", k.name, what, k.e.op)
	}
	if err != nil {
		return fmt.Errorf("%s: %s failed: %w", k.name, what, err)
	}
	k.e.c.AddOps(1)
	return nil
}

func (k *scClerk) tryJoin(gids ...int) error {
	servers := map[int][]string{}
	for _, gid := range gids {
		servers[gid] = scServers(gid)
	}
	return k.bounded(fmt.Sprintf("Join%v", gids), func(ctx context.Context) error { return k.ck.JoinContext(ctx, servers) })
}

func (k *scClerk) tryLeave(gids ...int) error {
	return k.bounded(fmt.Sprintf("Leave%v", gids), func(ctx context.Context) error { return k.ck.LeaveContext(ctx, gids) })
}

func (k *scClerk) tryMove(shard, gid int) error {
	return k.bounded(fmt.Sprintf("Move(%d, %d)", shard, gid), func(ctx context.Context) error { return k.ck.MoveContext(ctx, shard, gid) })
}

func (k *scClerk) tryQuery(num int) (shardctrler.Config, error) {
	var c shardctrler.Config
	err := k.bounded(fmt.Sprintf("Query(%d)", num), func(ctx context.Context) (err error) {
		c, err = k.ck.QueryContext(ctx, num)
		return err
	})
	return c, err
}

func (k *scClerk) must(err error) {
	k.e.t.Helper()
	if err != nil {
		k.e.c.Fatalf("%v", err)
	}
}

func (k *scClerk) join(gids ...int)    { k.e.t.Helper(); k.must(k.tryJoin(gids...)) }
func (k *scClerk) leave(gids ...int)   { k.e.t.Helper(); k.must(k.tryLeave(gids...)) }
func (k *scClerk) move(shard, gid int) { k.e.t.Helper(); k.must(k.tryMove(shard, gid)) }
func (k *scClerk) query(num int) shardctrler.Config {
	k.e.t.Helper()
	c, err := k.tryQuery(num)
	k.must(err)
	return c
}

// scServers is the server list of group gid in every test.
func scServers(gid int) []string {
	return []string{fmt.Sprintf("g%d-a", gid), fmt.Sprintf("g%d-b", gid), fmt.Sprintf("g%d-c", gid)}
}

// scMinMoves is the fewest shards that must change group when the
// assignment shards is rebalanced onto the groups gids, computed
// independently of any rebalancing algorithm: in a balanced assignment
// every group holds base or base+1 shards, exactly NShards%len(gids) of
// them base+1; a group keeps at most min(held, target) of the shards it
// holds; a dynamic program over the groups finds the targets that keep the
// most. Every other shard must move.
func scMinMoves(shards [shardctrler.NShards]int, gids []int) int {
	n := shardctrler.NShards
	if len(gids) == 0 {
		moved := 0
		for _, gid := range shards {
			if gid != 0 {
				moved++
			}
		}
		return moved
	}
	held := map[int]int{}
	for _, gid := range shards {
		held[gid]++
	}
	base, extra := n/len(gids), n%len(gids)
	best := make([]int, extra+1) // best[j]: most kept with j groups at base+1
	for j := 1; j <= extra; j++ {
		best[j] = -n - 1
	}
	for _, gid := range gids {
		next := make([]int, extra+1)
		for j := range next {
			next[j] = best[j] + min(held[gid], base)
			if j > 0 {
				next[j] = max(next[j], best[j-1]+min(held[gid], base+1))
			}
		}
		best = next
	}
	return n - best[extra]
}

func scMoved(a, b [shardctrler.NShards]int) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// scCheckConfig returns what is wrong with configuration c, which should
// have exactly the groups gids, each with its scServers, and (if balanced)
// a balanced assignment of the shards to them; or "".
func scCheckConfig(c shardctrler.Config, gids []int, balanced bool) string {
	if got := c.GIDs(); !slices.Equal(got, gids) {
		return fmt.Sprintf("configuration %d has groups %v; want %v", c.Num, got, gids)
	}
	for gid, servers := range c.Groups {
		if !slices.Equal(servers, scServers(gid)) {
			return fmt.Sprintf("configuration %d: group %d has servers %q; it joined with %q", c.Num, gid, servers, scServers(gid))
		}
	}
	count := map[int]int{}
	for shard, gid := range c.Shards {
		if len(gids) == 0 && gid != 0 {
			return fmt.Sprintf("configuration %d has no groups but shard %d is on gid %d (want 0)", c.Num, shard, gid)
		}
		if _, ok := c.Groups[gid]; len(gids) > 0 && !ok {
			return fmt.Sprintf("configuration %d: shard %d is on gid %d, which is not one of its groups %v (shards %v)", c.Num, shard, gid, gids, c.Shards)
		}
		count[gid]++
	}
	if balanced && len(gids) > 0 {
		lo, hi := shardctrler.NShards, 0
		for _, gid := range gids {
			lo, hi = min(lo, count[gid]), max(hi, count[gid])
		}
		if hi-lo > 1 {
			return fmt.Sprintf("configuration %d is not balanced: one group holds %d shards and another %d (shards %v); they may differ by at most one",
				c.Num, hi, lo, c.Shards)
		}
	}
	return ""
}

// scCheckStep returns what is wrong with configuration next as the result
// of one op applied to prev, or "". A Join or Leave changes the groups by
// the joined or departed ones only, its result is balanced, and exactly the
// minimum number of shards changed group. A Move (the groups stay) changes
// one shard at most.
func scCheckStep(prev, next shardctrler.Config) string {
	if next.Num != prev.Num+1 {
		return fmt.Sprintf("configuration %d follows configuration %d", next.Num, prev.Num)
	}
	pg, ng := prev.GIDs(), next.GIDs()
	var added, removed []int
	for _, gid := range ng {
		if !slices.Contains(pg, gid) {
			added = append(added, gid)
		}
	}
	for _, gid := range pg {
		if !slices.Contains(ng, gid) {
			removed = append(removed, gid)
		}
	}
	var what string
	switch {
	case len(added) == 0 && len(removed) == 0: // a Move
		if why := scCheckConfig(next, ng, false); why != "" {
			return fmt.Sprintf("after a Move: %s", why)
		}
		if !reflect.DeepEqual(next.Groups, prev.Groups) || scMoved(prev.Shards, next.Shards) > 1 {
			return fmt.Sprintf("configuration %d (%v) follows %d (%v) with the same groups, so it must be a Move, but it is not one shard moved",
				next.Num, scShow(next), prev.Num, scShow(prev))
		}
		return ""
	case len(added) > 0 && len(removed) == 0:
		what = fmt.Sprintf("Join%v", added)
	case len(removed) > 0 && len(added) == 0:
		what = fmt.Sprintf("Leave%v", removed)
	default:
		return fmt.Sprintf("configuration %d: groups %v -> %v is neither a Join nor a Leave", next.Num, pg, ng)
	}
	if why := scCheckConfig(next, ng, true); why != "" {
		return fmt.Sprintf("after %s: %s", what, why)
	}
	if got, want := scMoved(prev.Shards, next.Shards), scMinMoves(prev.Shards, ng); got != want {
		return fmt.Sprintf("%s moved %d shards from configuration %d (%v) to %d (%v); the minimum is %d: "+
			"a shard should move only if its group left, it was unassigned, or its group holds more than its share",
			what, got, prev.Num, prev.Shards, next.Num, next.Shards, want)
	}
	return ""
}

// history queries every configuration from 0 to the latest.
func (k *scClerk) history() []shardctrler.Config {
	k.e.t.Helper()
	latest := k.query(-1)
	configs := make([]shardctrler.Config, latest.Num+1)
	for i := range configs {
		configs[i] = k.query(i)
		if configs[i].Num != i {
			k.e.c.Fatalf("Query(%d) returned configuration %d", i, configs[i].Num)
		}
	}
	if !reflect.DeepEqual(configs[latest.Num], latest) {
		k.e.c.Fatalf("Query(-1) returned %v but Query(%d) returned %v", scShow(latest), latest.Num, scShow(configs[latest.Num]))
	}
	return configs
}

// checkHistory checks every configuration so far: configuration 0 is
// empty, and each step is a Move or a balanced, minimal Join or Leave.
func (k *scClerk) checkHistory() []shardctrler.Config {
	k.e.t.Helper()
	configs := k.history()
	if why := scCheckConfig(configs[0], nil, true); why != "" {
		k.e.c.Fatalf("configuration 0: %s", why)
	}
	for i := 1; i < len(configs); i++ {
		if why := scCheckStep(configs[i-1], configs[i]); why != "" {
			k.e.c.Fatalf("%s", why)
		}
	}
	return configs
}

// expectLatest fails unless the latest configuration is number num, with
// exactly the groups gids, balanced.
func (k *scClerk) expectLatest(num int, gids []int) shardctrler.Config {
	k.e.t.Helper()
	c := k.query(-1)
	if why := scCheckConfig(c, gids, true); c.Num != num || why != "" {
		k.e.c.Fatalf("Query(-1) returned %v; want configuration %d with groups %v, balanced %s", scShow(c), num, gids, why)
	}
	return c
}

// checkSame fails unless every configuration in want is what Query returns.
func (k *scClerk) checkSame(want []shardctrler.Config, when string) {
	k.e.t.Helper()
	for _, w := range want {
		if got := k.query(w.Num); !reflect.DeepEqual(got, w) {
			k.e.c.Fatalf("%s: Query(%d) returned %v; it returned %v before", when, w.Num, scShow(got), scShow(w))
		}
	}
}

// scShow prints a configuration compactly.
func scShow(c shardctrler.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{Num %d, Shards %v, Groups", c.Num, c.Shards)
	for _, gid := range c.GIDs() {
		fmt.Fprintf(&b, " %d:%v", gid, c.Groups[gid])
	}
	if c.Groups == nil {
		b.WriteString(" nil")
	}
	b.WriteString("}")
	return b.String()
}

// scFirstErr joins the non-nil errors of errs; nil if there are none.
func scFirstErr(errs []error) error {
	return errors.Join(slices.DeleteFunc(errs, func(err error) bool { return err == nil })...)
}
