package harness

import (
	"fmt"
	"sort"
	"sync"
	"time"

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

// Deliver forwards a replica message unless a rule drops it, after the
// delay of the delay rules that match it.
func (s *VR) Deliver(args *vr.Message, reply *vr.DeliverReply) {
	if s.c.drops.drops(*args) {
		return
	}
	if d := s.c.drops.delay(*args); d > 0 {
		time.Sleep(d) // the message is in flight; the sender's call waits for nothing (messages are one-way)
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
	mu        sync.Mutex
	rules     map[string]func(vr.Message) bool
	delays    map[string]delayRule
	observers map[string]func(vr.Message)
}

type delayRule struct {
	d    time.Duration
	rule func(vr.Message) bool
}

// drops reports whether a rule drops m; every observer sees m first.
func (d *dropRules) drops(m vr.Message) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, see := range d.observers {
		see(m)
	}
	for _, rule := range d.rules {
		if rule(m) {
			return true
		}
	}
	return false
}

// delay is the longest delay of the delay rules that match m.
func (d *dropRules) delay(m vr.Message) time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	var longest time.Duration
	for _, r := range d.delays {
		if r.rule(m) {
			longest = max(longest, r.d)
		}
	}
	return longest
}

// Drop installs a named rule: every replica message for which it returns
// true is lost. Installing a rule under an existing name replaces it.
func (c *Cluster) Drop(name string, rule func(m vr.Message) bool) {
	c.drops.mu.Lock()
	defer c.drops.mu.Unlock()
	c.drops.rules[name] = rule
	c.tl.add(Event{Kind: EventDrop, Replica: -1, Rule: name})
}

// Delay installs a named rule: every replica message for which it returns
// true arrives d late (it is handed to its replica d after it reached the
// replica's server). A rule under an existing name replaces it; Undrop
// removes it. Messages already waiting keep their delay.
func (c *Cluster) Delay(name string, d time.Duration, rule func(m vr.Message) bool) {
	c.drops.mu.Lock()
	defer c.drops.mu.Unlock()
	c.drops.delays[name] = delayRule{d, rule}
	c.tl.add(Event{Kind: EventDrop, Replica: -1, Rule: name})
}

// Observe calls see with every replica message that reaches a replica's
// server (before the drop rules), until Unobserve. see runs with the rules'
// lock held: keep it quick, and call no Cluster method from it.
func (c *Cluster) Observe(name string, see func(m vr.Message)) {
	c.drops.mu.Lock()
	defer c.drops.mu.Unlock()
	c.drops.observers[name] = see
}

// Unobserve removes the named observer.
func (c *Cluster) Unobserve(name string) {
	c.drops.mu.Lock()
	defer c.drops.mu.Unlock()
	delete(c.drops.observers, name)
}

// dropRuleNames lists the rules in force, sorted.
func (c *Cluster) dropRuleNames() []string {
	c.drops.mu.Lock()
	defer c.drops.mu.Unlock()
	names := make([]string, 0, len(c.drops.rules)+len(c.drops.delays))
	for name := range c.drops.rules {
		names = append(names, name)
	}
	for name, r := range c.drops.delays {
		names = append(names, fmt.Sprintf("%s (delayed %v)", name, r.d))
	}
	sort.Strings(names)
	return names
}

// Undrop removes the named drop or delay rule.
func (c *Cluster) Undrop(name string) {
	c.drops.mu.Lock()
	defer c.drops.mu.Unlock()
	_, drop := c.drops.rules[name]
	_, delay := c.drops.delays[name]
	if drop || delay {
		delete(c.drops.rules, name)
		delete(c.drops.delays, name)
		c.tl.add(Event{Kind: EventUndrop, Replica: -1, Rule: name})
	}
}

func (c *Cluster) service(node *vr.Node) *labrpc.Service {
	return labrpc.MakeService(&VR{inner: node.Handler(), c: c})
}
