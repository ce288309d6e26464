package labrpc

import (
	"bytes"
	"log"
	"time"

	"vrlab/labgob"
)

// ClientEnd is the sending side of a connection to one server.
type ClientEnd struct {
	name any
	net  *Network
}

// Call sends an RPC to the handler svcMeth ("Service.Method") of the server
// this end is connected to and waits for the reply. args may be a value or
// a pointer; reply must be a pointer, and should point to a zero value.
//
// Call returns true if the reply arrived and was stored in reply. It returns
// false if the request or reply was lost, the end is disabled or
// unconnected, the server is missing or was deleted while handling the
// call, the method does not exist, or the network has been cleaned up.
func (e *ClientEnd) Call(svcMeth string, args any, reply any) bool {
	return e.net.call(e.name, svcMeth, args, reply)
}

// route is a snapshot of how a call travels, taken when it is sent.
type route struct {
	endname        any
	servername     any
	server         *Server // nil if the end cannot reach a server
	reliable       bool
	longDelays     bool
	longReordering bool
}

// handlerResult is what a handler goroutine hands back to its caller.
type handlerResult struct {
	reply []byte
	err   error
}

func (rn *Network) call(endname any, svcMeth string, args, reply any) bool {
	rn.totalCalls.Add(1)
	if rn.isDone() {
		return false
	}
	req, err := encode(args)
	if err != nil {
		log.Printf("labrpc: Call(%q): encoding args: %v", svcMeth, err)
		return false
	}
	rn.totalBytes.Add(int64(len(req)))

	r := rn.route(endname)
	if r.server == nil {
		// Nobody will answer; fail after a timeout-like pause.
		rn.sleep(rn.unreachableDelay(r))
		return false
	}
	if !r.reliable {
		if !rn.sleep(rn.randDuration(unreliableMaxDelay)) || rn.percent(dropPercent) {
			return false
		}
	}

	replyBytes, ok := rn.deliver(r, svcMeth, req)
	if !ok {
		return false
	}
	if !r.reliable && rn.percent(dropPercent) {
		return false // the handler ran, but the reply is lost
	}
	if rn.repliesLost(endname) {
		return false // the same, on a link cut one way (EnableReplies)
	}
	if r.longReordering && rn.percent(reorderPercent) {
		if !rn.sleep(reorderMinDelay + rn.randDuration(rn.randDuration(reorderMaxExtra))) {
			return false
		}
	}

	rn.totalBytes.Add(int64(len(replyBytes)))
	if err := labgob.NewDecoder(bytes.NewReader(replyBytes)).Decode(reply); err != nil {
		log.Printf("labrpc: Call(%q): decoding reply: %v", svcMeth, err)
		return false
	}
	return true
}

func (rn *Network) repliesLost(endname any) bool {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	return rn.repliesCut[endname]
}

// route looks up where a call on endname would go right now.
func (rn *Network) route(endname any) route {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	r := route{
		endname:        endname,
		reliable:       rn.reliable,
		longDelays:     rn.longDelays,
		longReordering: rn.longReordering,
	}
	servername, connected := rn.connections[endname]
	if rn.enabled[endname] && connected {
		r.servername = servername
		r.server = rn.servers[servername]
	}
	return r
}

// deliver runs the handler in its own goroutine, so that the caller can give
// up as soon as the server dies or the network shuts down, even if the
// handler is blocked. The handler's reply is then simply dropped.
func (rn *Network) deliver(r route, svcMeth string, req []byte) ([]byte, bool) {
	// Buffered, so the handler goroutine never blocks and always exits.
	results := make(chan handlerResult, 1)
	go func() {
		reply, err := r.server.dispatch(svcMeth, req)
		results <- handlerResult{reply, err}
	}()

	res, ok := rn.awaitHandler(r, results)
	if !ok {
		return nil, false
	}
	if res.err != nil {
		log.Print(res.err)
		return nil, false
	}
	return res.reply, true
}

// awaitHandler waits for the handler's result while the server stays
// attached and the end stays enabled.
func (rn *Network) awaitHandler(r route, results <-chan handlerResult) (handlerResult, bool) {
	for {
		attached, changed := rn.stillAttached(r)
		if !attached {
			return handlerResult{}, false
		}
		select {
		case res := <-results:
			// The server may have died just as the handler finished.
			if attached, _ := rn.stillAttached(r); !attached {
				return handlerResult{}, false
			}
			return res, true
		case <-changed:
			// Something was disabled or deleted; re-check.
		case <-rn.done:
			return handlerResult{}, false
		}
	}
}

// stillAttached reports whether the call's end is enabled and its server
// still attached, plus the channel that signals the next change.
func (rn *Network) stillAttached(r route) (bool, <-chan struct{}) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	attached := rn.enabled[r.endname] && rn.servers[r.servername] == r.server
	return attached, rn.changed
}

// unreachableDelay is how long a call to nowhere takes to fail.
func (rn *Network) unreachableDelay(r route) time.Duration {
	if r.longDelays {
		return rn.randDuration(longUnreachable)
	}
	return rn.randDuration(unreachableDelay)
}

// sleep pauses for d, returning false early if the network is cleaned up.
func (rn *Network) sleep(d time.Duration) bool {
	if d <= 0 {
		return !rn.isDone()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-rn.done:
		return false
	}
}

func (rn *Network) isDone() bool {
	select {
	case <-rn.done:
		return true
	default:
		return false
	}
}

// randDuration returns a random duration in [0, limit), at millisecond
// granularity.
func (rn *Network) randDuration(limit time.Duration) time.Duration {
	ms := int(limit / time.Millisecond)
	if ms <= 0 {
		return 0
	}
	return time.Duration(rn.randIntn(ms)) * time.Millisecond
}

// percent returns true with probability p/100.
func (rn *Network) percent(p int) bool {
	return rn.randIntn(100) < p
}

func (rn *Network) randIntn(n int) int {
	rn.rngMu.Lock()
	defer rn.rngMu.Unlock()
	return rn.rng.IntN(n)
}

// encode serializes v with labgob.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := labgob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
