// Package search explores every execution of a small VR group, breadth
// first, up to a bound: a bounded model checker for the real vr.Replica, in
// the style of UW DSLabs' search tests.
//
// The simulator (package sim) and the graded tests run a few schedules
// chosen at random. A search runs all of them: from a starting state it
// tries every possible next move — deliver one message in flight, lose one,
// deliver a duplicate, let one replica's timer fire, crash and restart a
// replica, let a client send — then every move from each of those states,
// and so on, level by level. Because it goes breadth first, the first
// failing state it meets is one of the fewest moves from the start: its
// trace is as short as a trace to that failure can be.
//
// A state (state.go) is every replica's protocol state, the messages in
// flight (a multiset), the clients' positions in their scripts, the fault
// budgets used so far, and what the checks remember (the committed log).
// States are compared by a 64-bit fingerprint (vr.Replica.Fingerprint for
// the replicas), and each is explored once: many interleavings reach the
// same state, and they are merged.
//
// The files, in the order a reader might take them:
//
//   - search.go: Config (the group, the bounds, the goal) and the search loop;
//   - state.go: the state, copied on write, and its fingerprint;
//   - moves.go: the moves and what each does;
//   - memo.go: each rep's memo of the moves run from it, so that a replica's
//     code runs once for each (replica state, input), however many states
//     make that move;
//   - checks.go: the checks run after every move (package sim/check's, shared
//     with the simulator) and goals;
//   - trace.go: the trace of a failure, and Replay, which runs a trace again.
//
// Bounds keep a search finite: a depth (moves from the start), a number of
// states, a time, and budgets for each kind of fault. A search with a goal
// ("some reachable state has every replica normal in view 1") fails when no
// state within the bounds reaches it: that is how a search asks a
// liveness-shaped question of a bounded space. A search can start after a
// prefix of moves given by hand (Config.Prefix), so a corner case deep in a
// 5-replica group is reachable without exploring the whole 5-replica space.
package search
