package vr

import "time"

// Requests held through a view change. This is the Node's doing, not the
// protocol's: a Replica in a view change answers every request with
// NOTPRIMARY (only a normal primary takes requests), and one changing to a
// view it will lead names itself, meaning "ask me again once the view has
// started". A client told that pauses before it asks again (Client.do's
// retryPause), and the pause would add to every failover. So the Node keeps
// such a request and steps it again as soon as the Replica is out of that
// view change: as the new primary it takes the request, and otherwise it
// answers it as it does any request. A request is held at most holdWait,
// so a view change that does not finish costs its clients no more than
// that; then it gets its NOTPRIMARY.

// holdWait bounds how long a request is held: a view change among live
// replicas takes a few round trips.
const holdWait = 50 * time.Millisecond

// heldRequest is a client's request that waits for a view change to end.
type heldRequest struct {
	req        Message // the REQUEST (or RECONFIGURATION), to step again
	notPrimary Message // its answer, given if the hold runs out first
	until      time.Time
}

// leadsViewChange reports whether this replica is changing to a view it
// will be the primary of.
func (r *Replica) leadsViewChange() bool {
	return r.status == ViewChange && r.isPrimary()
}

// hold keeps the request that m, a reply from the outbox, answers, if m is
// a NOTPRIMARY by which this replica names itself the primary of the view
// it is changing to. It reports whether it did. n.mu is held.
func (n *Node) hold(m Message) bool {
	if m.Type != MsgNotPrimary || m.Primary != n.me || !n.r.leadsViewChange() {
		return false
	}
	key := requestKey{m.ClientID, m.RequestNum}
	if _, ok := n.held[key]; ok {
		return true // a retry of a held request: its answer answers both
	}
	n.wmu.Lock()
	ws := n.waiters[key]
	n.wmu.Unlock()
	if len(ws) == 0 {
		return false // nobody waits for it any more
	}
	if n.held == nil {
		n.held = map[requestKey]heldRequest{}
	}
	n.held[key] = heldRequest{req: requestMessage(ws[0].args), notPrimary: m, until: time.Now().Add(holdWait)}
	return true
}

// releaseHeld steps the held requests again once the view change is over,
// and answers those held for holdWait. n.mu is held.
func (n *Node) releaseHeld() {
	if len(n.held) == 0 {
		return
	}
	leading, now := n.r.leadsViewChange(), time.Now()
	for key, h := range n.held {
		switch {
		case leading && now.Before(h.until):
			continue
		case leading:
			n.answers = append(n.answers, h.notPrimary)
		default:
			select {
			case n.inbox <- h.req:
			default: // the inbox is full: the client asks again
				n.answers = append(n.answers, h.notPrimary)
			}
		}
		delete(n.held, key)
	}
	if len(n.inbox) > 0 {
		n.wake()
	}
}
