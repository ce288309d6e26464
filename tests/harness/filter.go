package harness

import (
	"sort"
	"sync"

	"vrlab/labrpc"
	"vrlab/vr"
)

// The cluster registers its own "VR" service in front of each Node, so a
// test can drop chosen protocol messages — "every STARTVIEW to R0" — to
// script a scenario that random faults would rarely produce.

// VR is the harness's stand-in for vr.VR: it forwards every call to the
// Node unless a drop rule matches. Its name must stay "VR".
type VR struct {
	inner *vr.VR
	c     *Cluster
}

// Deliver forwards a replica message unless a rule drops it.
func (s *VR) Deliver(args *vr.Message, reply *vr.DeliverReply) {
	if s.c.drops.drops(*args) {
		return
	}
	if args.Type == vr.MsgRecovery {
		s.c.recoverySeen(args.From)
	}
	s.inner.Deliver(args, reply)
}

// Request forwards a client request.
func (s *VR) Request(args *vr.RequestArgs, reply *vr.RequestReply) {
	s.inner.Request(args, reply)
}

type dropRules struct {
	mu    sync.Mutex
	rules map[string]func(vr.Message) bool
}

func (d *dropRules) drops(m vr.Message) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, rule := range d.rules {
		if rule(m) {
			return true
		}
	}
	return false
}

// Drop installs a named rule: every replica message for which it returns
// true is lost. Installing a rule under an existing name replaces it.
func (c *Cluster) Drop(name string, rule func(m vr.Message) bool) {
	c.drops.mu.Lock()
	defer c.drops.mu.Unlock()
	c.drops.rules[name] = rule
	c.tl.add(Event{Kind: EventDrop, Replica: -1, Rule: name})
}

// dropRuleNames lists the rules in force, sorted.
func (c *Cluster) dropRuleNames() []string {
	c.drops.mu.Lock()
	defer c.drops.mu.Unlock()
	names := make([]string, 0, len(c.drops.rules))
	for name := range c.drops.rules {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Undrop removes the named rule.
func (c *Cluster) Undrop(name string) {
	c.drops.mu.Lock()
	defer c.drops.mu.Unlock()
	if _, ok := c.drops.rules[name]; ok {
		delete(c.drops.rules, name)
		c.tl.add(Event{Kind: EventUndrop, Replica: -1, Rule: name})
	}
}

func (c *Cluster) service(node *vr.Node) *labrpc.Service {
	return labrpc.MakeService(&VR{inner: node.Handler(), c: c})
}
