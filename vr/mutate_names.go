package vr

// Mutation catalogue: seeded protocol bugs, one per entry of VR-PROTOCOL.md
// §9, that a test build can switch on to show that the simulator or the
// graded tests catch each of them. The switches exist only in builds with
// the vrmutate tag (mutate_on.go); in a normal build mutation is a constant
// false (mutate_off.go) and every hook compiles away.
//
// A hook is one guarded line in a protocol file:
//
//	if mutation(mutCountOwnSVC) { ... }
type mutationID int

const (
	mutCommitFewAcks       mutationID = iota // §9.1: commit with f-1 PREPAREOKs
	mutAckCountTwice                         // §9.1: one backup's PREPAREOK counted for two backups
	mutLogByLength                           // §9.2: view change picks the longest log, ignoring v'
	mutCountOwnSVC                           // §9.3: own STARTVIEWCHANGE counted among the f others
	mutAdoptViewEarly                        // §9.4: adopt the newer view (and v') before state transfer ends
	mutRecoveringVotes                       // §9.5: a recovering replica takes part in the protocol
	mutRecoveryAnyPrimary                    // §9.6: recovery completes with an older view's primary's log
	mutNoRebuildPending                      // §9.7: client-table not rebuilt when a view change replaces the log
	mutExecuteUncommitted                    // §9.8: backups execute prepared, uncommitted ops
	mutOldViewPrepareOK                      // §9.9: the primary counts PREPAREOKs of an older view
	mutOldViewPrepare                        // §9.9: a backup accepts PREPAREs of an older view
	mutNoResendSVC                           // §9.10: STARTVIEWCHANGE (and DOVIEWCHANGE) never resent
	mutCheckpointDropsTail                   // §9.12: a checkpoint discards the log beyond it
	mutCheckpointNoClients                   // §9.12: a checkpoint omits the client-table
	numMutations
)

// mutationNames are the names the switches go by (Mutations, vrsim -mutate).
var mutationNames = [numMutations]string{
	mutCommitFewAcks:       "commit-few-acks",
	mutAckCountTwice:       "ack-count-twice",
	mutLogByLength:         "log-by-length",
	mutCountOwnSVC:         "count-own-svc",
	mutAdoptViewEarly:      "adopt-view-early",
	mutRecoveringVotes:     "recovering-votes",
	mutRecoveryAnyPrimary:  "recovery-any-primary",
	mutNoRebuildPending:    "no-rebuild-pending",
	mutExecuteUncommitted:  "execute-uncommitted",
	mutOldViewPrepareOK:    "old-view-prepareok",
	mutOldViewPrepare:      "old-view-prepare",
	mutNoResendSVC:         "no-resend-svc",
	mutCheckpointDropsTail: "checkpoint-drops-tail",
	mutCheckpointNoClients: "checkpoint-no-clients",
}
