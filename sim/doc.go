// Package sim is vrlab's deterministic simulator, in the spirit of
// TigerBeetle's VOPR and FoundationDB's simulation testing.
//
// It drives the real vr.Replica code (not a copy) for a whole cluster plus
// its clients in one goroutine. Every source of nondeterminism — message
// delays, drops, duplicates and reordering, partitions, crashes and
// restarts, the replicas' own timer seeds, the clients' think times — is
// drawn from one PRNG seeded by the run's seed, so a seed replays exactly.
//
// Each seed first draws its own configuration (swarm testing): 3 or 5
// replicas, 1–6 clients, checkpoints on or off, timing, and the rates and
// sizes of every fault (some faults switched off entirely). A run has two
// phases:
//
//   - safety: faults are injected while clients issue requests;
//   - liveness: every fault is healed (crashed replicas restart and run the
//     recovery protocol; partitions end; duplicates and long delays stop),
//     clients issue no new requests (but in the deaf-primary stage below),
//     and within Config.LivenessTicks every outstanding request must
//     complete and every replica must converge (normal, same view,
//     everything executed). With Config.Failover (every
//     sim.ForPart), more stages follow, each with the same bound: the
//     primary is isolated and the others must converge on a higher view,
//     then it is let back; with clients, the primary is then made deaf (the
//     other replicas' messages to it are lost, its own arrive, clients reach
//     it both ways), a client sends it a new write, and the others must
//     converge on a higher view with every request completed, then its links
//     heal (liveness.go).
//
// Checkers run after every event (see checker.go): a canonical committed log
// that no replica's executed prefix and no message's committed prefix may
// contradict; each op executed once per replica life, in order; every client
// reply equal to its op's result at its position in the canonical log and
// consistent with real-time order (linearizability of the client history);
// at most one normal primary per view. Optional protocol-rule checks
// (Config.Conformance) also watch what each replica sends.
//
// With reconfigurations (Part E; WithReconfig, ForPart("E")), a seed also
// runs standbys and an administrator that moves the group between
// configurations, and the checks cover epochs (reconfig.go).
//
// Time is simulated: one tick is 10 ms of simulated time (vr.Node's tick).
package sim
