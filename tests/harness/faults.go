package harness

// The faults a test injects: cutting replicas off, partitions, an unreliable
// network, crashes and restarts.

// applyLinksLocked enables exactly the links allowed by the partition groups.
func (c *Cluster) applyLinksLocked() {
	for i := 0; i < c.n; i++ {
		for j := 0; j < c.n; j++ {
			if c.ends[i] != nil {
				c.net.Enable(c.ends[i][j], c.linked(i, j))
			}
		}
	}
	for _, cl := range c.clients {
		cl.applyLinksLocked()
	}
}

func (c *Cluster) linked(i, j int) bool {
	return c.group[i] >= 0 && c.group[i] == c.group[j] && !c.oneWay[i][j]
}

func newLinkMatrix(n int) [][]bool {
	m := make([][]bool, n)
	for i := range m {
		m[i] = make([]bool, n)
	}
	return m
}

// CutOneWay loses every message from replica from to replica to, while
// messages from to to from still arrive: a link failed in one direction
// (a firewall rule, a full queue, an asymmetric route). It lasts until
// Heal, whatever partitions come and go meanwhile.
func (c *Cluster) CutOneWay(from, to int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.oneWay[from][to] = true
	c.applyLinksLocked()
	c.tl.add(Event{Kind: EventCutOneWay, Replica: from, Network: c.networkLocked()})
}

// Disconnect cuts replica i off from every replica and client.
func (c *Cluster) Disconnect(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.group[i] = -1
	c.applyLinksLocked()
	c.tl.add(Event{Kind: EventDisconnect, Replica: i, Network: c.networkLocked()})
}

// Connect joins replica i to the main group (group 0).
func (c *Cluster) Connect(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.group[i] = 0
	c.applyLinksLocked()
	c.tl.add(Event{Kind: EventConnect, Replica: i, Network: c.networkLocked()})
}

// Partition splits the replicas into the given groups; replicas not named
// are cut off from all. Clients reach the first group only.
func (c *Cluster) Partition(groups ...[]int) { c.partition(EventPartition, groups) }

func (c *Cluster) partition(kind EventKind, groups [][]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.group {
		c.group[i] = -1
	}
	for g, members := range groups {
		for _, i := range members {
			c.group[i] = g
		}
	}
	c.applyLinksLocked()
	c.tl.add(Event{Kind: kind, Replica: -1, Network: c.networkLocked()})
}

// Heal reconnects everything, one-way cuts included.
func (c *Cluster) Heal() {
	all := make([]int, c.n)
	for i := range all {
		all[i] = i
	}
	c.mu.Lock()
	c.oneWay = newLinkMatrix(c.n)
	c.mu.Unlock()
	c.partition(EventHeal, [][]int{all})
}

// Connected lists the replicas in the main group (group 0).
func (c *Cluster) Connected() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for i, g := range c.group {
		if g == 0 && c.nodes[i] != nil {
			out = append(out, i)
		}
	}
	return out
}

// Reliable switches the network between reliable and unreliable.
func (c *Cluster) Reliable(yes bool) { c.net.Reliable(yes) }

// LongReordering delays about two thirds of replies by 200–2200 ms.
func (c *Cluster) LongReordering(yes bool) { c.net.LongReordering(yes) }

// Crash kills replica i: it loses everything (VR keeps nothing on disk).
func (c *Cluster) Crash(i int) {
	c.mu.Lock()
	node, server := c.nodes[i], c.servers[i]
	c.nodes[i], c.servers[i] = nil, nil
	if node != nil {
		// Before anyone can see it crashed: the watcher's samples of this
		// life, from now on, are not events.
		c.watch.ended(i, c.lives[i])
		c.tl.add(Event{Kind: EventCrash, Replica: i})
	}
	c.mu.Unlock()
	if node == nil {
		return
	}
	server.Kill()
	c.net.DeleteServer(serverName(i)) // calls to it fail; replies of running handlers are lost
	c.watch.observe(i, node.State())  // remember the highest view it reached
}

// Restart starts crashed replica i again with an empty service, running the
// recovery protocol.
func (c *Cluster) Restart(i int) {
	c.mu.Lock()
	crashed := c.nodes[i] == nil
	c.mu.Unlock()
	if !crashed {
		c.t.Fatalf("Restart(%d): replica %d is running; Crash it first", i, i)
	}
	c.mu.Lock()
	c.recovery[i] = 0
	c.mu.Unlock()
	c.startReplica(i, true)
}

func (c *Cluster) recoverySeen(from int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if from >= 0 && from < c.n {
		c.recovery[from]++
	}
}
