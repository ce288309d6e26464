// Package vr implements Viewstamped Replication ("Viewstamped Replication
// Revisited", Liskov & Cowling 2012), with the corrections listed in the
// project's VR-PROTOCOL.md.
//
// The protocol lives in one deterministic state machine, Replica. It owns all
// protocol state, is driven only by Step (a message arrived) and Tick (time
// passed), and emits messages into an outbox that the caller drains. It never
// reads the clock, starts a goroutine, blocks, or uses unseeded randomness, so
// the same code runs under the lab's real-time harness, the deterministic
// simulator and the TCP transport.
//
// The Replica's handlers are named after the paper's messages and grouped one
// sub-protocol per file:
//
//	api.go            StateMachine, Options, State: what services and runtimes use
//	replica.go        state, Step/Tick dispatch, helpers shared by all parts
//	checks.go         validation of incoming messages, invariants of the state
//	log.go            the log: append, extend, replace, truncate
//	normal.go         REQUEST, PREPARE, PREPAREOK, COMMIT, REPLY (part B)
//	batch.go          batching: requests gather behind the PREPARE in flight (beyond the labs)
//	clienttable.go    at-most-once semantics (part B)
//	viewchange.go     STARTVIEWCHANGE, DOVIEWCHANGE, STARTVIEW (part A, logs in B)
//	statetransfer.go  GETSTATE, NEWSTATE (part B)
//	recovery.go       RECOVERY, RECOVERYRESPONSE (part C)
//	checkpoint.go     checkpoints and log compaction (part D)
//	lease.go          fast reads: lease grants, the backup's promise, reads at the primary (part F)
//
// Around the core, Node runs a Replica in real time over a Transport (node.go;
// labrpc's is built in, package vrnet has TCP): one loop goroutine ticks it,
// and arrivals are stepped in bursts in the order they came. Clients' requests
// enter a Node through Request (wait for the reply) or Submit (a callback;
// request.go); a request that reaches the replica changing to a view it will
// lead waits there until the view starts (hold.go). Client submits
// operations and finds the primary over a ClientTransport (client.go).
package vr
