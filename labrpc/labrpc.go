// Package labrpc is a simulated network for testing distributed protocols
// inside a single process.
//
// A Network connects named client ends to named servers. A ClientEnd.Call
// looks like an RPC: the arguments are serialized with labgob (so the server
// never shares memory with the caller), delivered to the server the end is
// connected to, dispatched by reflection to a handler method, and the reply
// is serialized back. Because everything goes through the Network, a test can
// do what a real network does to a protocol: lose requests and replies,
// delay and reorder them, partition servers (Enable), cut a link in one
// direction only (EnableReplies: requests arrive, replies are lost), and crash them
// (DeleteServer). Call reports failure by returning false, exactly as a
// timeout would in a real RPC system; it never returns an error.
//
// Typical use:
//
//	net := labrpc.MakeNetwork()
//	defer net.Cleanup()
//	srv := labrpc.MakeServer()
//	srv.AddService(labrpc.MakeService(replica))
//	net.AddServer("r0", srv)
//	end := net.MakeEnd("client->r0")
//	net.Connect("client->r0", "r0")
//	net.Enable("client->r0", true)
//	ok := end.Call("Replica.Prepare", &args, &reply)
//
// The network owns no background goroutines. Each Call runs in its caller's
// goroutine plus one goroutine for the handler, which exits when the handler
// returns.
package labrpc

import (
	"log"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Fault-injection parameters. They mirror the classic 6.824 network so that
// protocol timeouts tuned for one work for the other.
const (
	unreliableMaxDelay = 27 * time.Millisecond   // per request when unreliable
	dropPercent        = 10                      // request and reply loss when unreliable
	unreachableDelay   = 100 * time.Millisecond  // before failing a call to nowhere
	longUnreachable    = 7000 * time.Millisecond // the same, with LongDelays
	reorderPercent     = 66                      // replies held back with LongReordering
	reorderMinDelay    = 200 * time.Millisecond
	reorderMaxExtra    = 2000 * time.Millisecond
)

// Network is the simulated network. All methods are safe for concurrent use.
type Network struct {
	mu             sync.Mutex
	reliable       bool
	longDelays     bool
	longReordering bool
	ends           map[any]*ClientEnd
	enabled        map[any]bool // endname -> may the end send?
	repliesCut     map[any]bool // endname -> are replies to its calls lost? (a one-way failure)
	connections    map[any]any  // endname -> servername
	servers        map[any]*Server
	// changed is closed (and replaced) whenever an end is disabled or a
	// server removed, waking calls whose handler may have just lost its
	// connection to the caller.
	changed chan struct{}

	rngMu sync.Mutex
	rng   *rand.Rand

	done      chan struct{} // closed by Cleanup
	closeOnce sync.Once

	totalCalls atomic.Int64
	totalBytes atomic.Int64
}

// MakeNetwork returns an empty, reliable network with a random seed.
func MakeNetwork() *Network {
	return &Network{
		reliable:    true,
		ends:        map[any]*ClientEnd{},
		enabled:     map[any]bool{},
		repliesCut:  map[any]bool{},
		connections: map[any]any{},
		servers:     map[any]*Server{},
		changed:     make(chan struct{}),
		rng:         rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		done:        make(chan struct{}),
	}
}

// Seed makes the network's random choices (delays, drops) reproducible: two
// networks given the same seed and the same sequence of sequential calls
// drop the same requests and replies. Call it before making any calls.
func (rn *Network) Seed(seed int64) {
	rn.rngMu.Lock()
	defer rn.rngMu.Unlock()
	rn.rng = rand.New(rand.NewPCG(uint64(seed), 0))
}

// Cleanup shuts the network down. Calls in flight return false promptly and
// later calls return false at once. Handlers already running are not
// interrupted, but their replies are discarded.
func (rn *Network) Cleanup() {
	rn.closeOnce.Do(func() { close(rn.done) })
}

// Reliable turns message loss and short delays off (true) or on (false).
func (rn *Network) Reliable(yes bool) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rn.reliable = yes
}

// LongReordering makes about two thirds of replies arrive 200ms to 2.2s late,
// so replies overtake one another.
func (rn *Network) LongReordering(yes bool) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rn.longReordering = yes
}

// LongDelays makes calls to a disabled end or a missing server take up to
// 7s to fail instead of up to 100ms, as a real timeout would.
func (rn *Network) LongDelays(yes bool) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rn.longDelays = yes
}

// MakeEnd creates a client end. It starts disabled and unconnected. It
// panics if an end with that name already exists.
func (rn *Network) MakeEnd(endname any) *ClientEnd {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if _, ok := rn.ends[endname]; ok {
		log.Panicf("labrpc: MakeEnd: end %v already exists", endname)
	}
	e := &ClientEnd{name: endname, net: rn}
	rn.ends[endname] = e
	rn.enabled[endname] = false
	return e
}

// DeleteEnd removes an end; later calls on it fail as if it were disabled.
func (rn *Network) DeleteEnd(endname any) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	delete(rn.ends, endname)
	delete(rn.enabled, endname)
	delete(rn.repliesCut, endname)
	delete(rn.connections, endname)
	rn.broadcastLocked()
}

// AddServer attaches rs under servername, replacing any previous server of
// that name (whose in-flight replies are then discarded).
func (rn *Network) AddServer(servername any, rs *Server) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rn.servers[servername] = rs
	rn.broadcastLocked()
}

// DeleteServer detaches a server, as if it crashed: calls to it fail, and
// replies from handlers still running are discarded.
func (rn *Network) DeleteServer(servername any) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	delete(rn.servers, servername)
	rn.broadcastLocked()
}

// Connect routes calls made on endname to servername. Connecting again
// re-routes later calls; calls already in flight are unaffected.
func (rn *Network) Connect(endname any, servername any) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rn.connections[endname] = servername
}

// Enable lets an end send (true) or cuts it off (false). Disabling an end
// also discards replies to its calls that are still in progress.
func (rn *Network) Enable(endname any, enabled bool) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	rn.enabled[endname] = enabled
	if !enabled {
		rn.broadcastLocked()
	}
}

// EnableReplies cuts (false) or restores (true) the way back of an end:
// with replies cut, a call on endname is still delivered and its handler
// runs, but the reply is lost and Call returns false, as over a link that
// has failed in one direction only. Ends start with replies enabled;
// Enable(endname, false) cuts both ways.
func (rn *Network) EnableReplies(endname any, enabled bool) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if enabled {
		delete(rn.repliesCut, endname)
	} else {
		rn.repliesCut[endname] = true
	}
}

// GetCount reports how many RPCs have been delivered to servername's
// handlers, or 0 if there is no such server.
func (rn *Network) GetCount(servername any) int {
	rn.mu.Lock()
	rs := rn.servers[servername]
	rn.mu.Unlock()
	if rs == nil {
		return 0
	}
	return rs.GetCount()
}

// GetTotalCount reports how many calls have been made, including failed ones.
func (rn *Network) GetTotalCount() int {
	return int(rn.totalCalls.Load())
}

// GetTotalBytes reports the encoded size of all requests sent plus all
// replies delivered.
func (rn *Network) GetTotalBytes() int64 {
	return rn.totalBytes.Load()
}

// broadcastLocked wakes every call waiting for a handler so it can check
// whether its server or end is still there. rn.mu must be held.
func (rn *Network) broadcastLocked() {
	close(rn.changed)
	rn.changed = make(chan struct{})
}
