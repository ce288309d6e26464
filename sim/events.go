package sim

import "vrlab/vr"

// The structured event stream (Options.Events): the same run as the text
// trace, as values a program can read. The space-time page (page.go) is
// drawn from it; a test can count or inspect it.
//
// Nodes are numbered as on the simulated wire: replicas 0..n-1, then the
// clients, client c being node n+c. Every message put on the wire gets an
// ID, 1, 2, 3, … in the order they were sent; each later event about it
// (delivered, lost, cut) names that ID. A duplicate is a second copy with
// an ID of its own (EvDuplicate names both).
//
// Emitting events does not change the run: no random draws, nothing mixed
// into the trace hash. With Options.Events nil the simulator builds no
// events at all.

// EventKind says what happened.
type EventKind int

const (
	EvSend      EventKind = iota + 1 // a message is sent: ID, From, To, Msg
	EvDuplicate                      // the network duplicated message Orig: the copy is ID (From, To, Msg as the original's)
	EvDeliver                        // message ID arrived at To and was handed to it
	EvDrop                           // message ID was lost: Why says how ("loss" when sent, "cut" by a partition on arrival, "down" at a crashed replica)
	EvState                          // replica Replica's view, status, primary or last-normal-view changed (or a life began): State
	EvCrash                          // replica Replica crashed, in life Life; it restarts at tick Until
	EvRestart                        // replica Replica starts life Life, recovering
	EvPartition                      // a partition starts: Desc, the links it cuts (Cut), and the tick it heals (Until; 0: at a later EvHeal)
	EvHeal                           // every link is back: Desc says why
	EvInvoke                         // client Client invokes request Request, first sending it to replica To
	EvReturn                         // client Client's request Request completed as op OpNumber (invoked at tick Invoked)
	EvFailure                        // a check failed: Check, Desc (the message), Phase; the run ends
)

var eventNames = map[EventKind]string{
	EvSend: "send", EvDuplicate: "duplicate", EvDeliver: "deliver", EvDrop: "drop",
	EvState: "state", EvCrash: "crash", EvRestart: "restart", EvPartition: "partition",
	EvHeal: "heal", EvInvoke: "invoke", EvReturn: "return", EvFailure: "failure",
}

func (k EventKind) String() string {
	if s, ok := eventNames[k]; ok {
		return s
	}
	return "EventKind(" + itoa(int(k)) + ")"
}

// Why a message was lost (Event.Why of EvDrop).
const (
	LostLoss = "loss" // the network dropped it when it was sent
	LostCut  = "cut"  // it arrived while a partition cut its link
	LostDown = "down" // it arrived at a crashed replica
)

// Event is one thing that happened in a run. Which fields are set depends on
// Kind (see the EventKind constants); the rest are zero.
type Event struct {
	Kind EventKind
	Tick int

	// Messages.
	ID       int         // the message's ID
	Orig     int         // EvDuplicate: the ID of the message it copies
	From, To int         // nodes (replicas 0..n-1, then clients); EvInvoke: To is the replica
	Msg      *vr.Message // EvSend, EvDuplicate: the message; read it, don't keep or change it past the callback
	Why      string      // EvDrop: LostLoss, LostCut or LostDown

	// Replicas.
	Replica int      // EvState, EvCrash, EvRestart
	Life    int      // EvState, EvCrash, EvRestart: the replica's life (0 until its first crash)
	State   vr.State // EvState: the replica's state after the step

	// Faults.
	Until int      // EvCrash: the tick it restarts; EvPartition: the tick it heals, 0 if it lasts until an EvHeal
	Desc  string   // EvPartition, EvHeal: what; EvFailure: the failure message
	Cut   [][2]int // EvPartition: every link cut, as {from, to} node pairs

	// Clients.
	Client   int  // EvInvoke, EvReturn: the client's index (node n+Client)
	Request  int  // EvInvoke, EvReturn: the request-number
	OpNumber int  // EvReturn: the op-number it was executed as
	Invoked  int  // EvReturn: the tick it was invoked
	Read     bool // EvInvoke, EvReturn: a read-only request (Part F); EvReturn: OpNumber is then the last op the state it read held, unless it went through the log
	Lease    bool // EvReturn of a read: answered under a lease, not through the log

	// Failure.
	Check string // EvFailure: the check that failed (Failure.Check)
	Phase string // EvFailure: "safety" or "liveness"
}

// emit stamps ev with the current tick and hands it to Options.Events.
// Callers check s.opts.Events != nil first, so that a run without events
// builds none.
func (s *Sim) emit(ev Event) {
	ev.Tick = s.now
	s.opts.Events(ev)
}

// newMsgID numbers a message put on the wire (only when events are on).
func (s *Sim) newMsgID() int {
	s.msgID++
	return s.msgID
}

// stateChanged reports whether a replica's state moved in a way the event
// stream reports: view, status, primary, last-normal-view.
func stateChanged(a, b vr.State) bool {
	return a.View != b.View || a.Status != b.Status || a.IsPrimary != b.IsPrimary || a.LastNormalView != b.LastNormalView || a.Epoch != b.Epoch
}

// cutLinks lists the links that are down, as {from, to} node pairs.
func (s *Sim) cutLinks() [][2]int {
	var cut [][2]int
	n := s.net.nodes
	for i, c := range s.net.cut {
		if c {
			cut = append(cut, [2]int{i / n, i % n})
		}
	}
	return cut
}
