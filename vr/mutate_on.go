//go:build vrmutate

package vr

import (
	"os"
	"strings"
)

// init switches on the mutations named in VRMUTATE (comma-separated), so the
// graded tests can be run against a seeded bug:
//
//	VRMUTATE=count-own-svc go test -tags vrmutate -run TestOwnStartViewChangeA ./tests
func init() {
	for _, name := range strings.Split(os.Getenv("VRMUTATE"), ",") {
		if name = strings.TrimSpace(name); name != "" {
			Mutations[name] = true
		}
	}
}

// Mutations switches seeded protocol bugs on by name (see mutate_names.go).
// It exists only in builds with the vrmutate tag, for tests that show each
// bug is caught. Set it before starting replicas; it is not synchronised.
var Mutations = map[string]bool{}

// MutationNames lists the mutations, in catalogue order.
func MutationNames() []string { return append([]string(nil), mutationNames[:]...) }

// MutationRule is the VR-PROTOCOL.md §9 entry a mutation breaks, e.g. "§9.3".
func MutationRule(name string) string {
	for id, n := range mutationNames {
		if n == name {
			return mutationRules[id]
		}
	}
	return ""
}

var mutationRules = [numMutations]string{
	mutCommitFewAcks: "§9.1", mutAckCountTwice: "§9.1", mutLogByLength: "§9.2", mutCountOwnSVC: "§9.3",
	mutAdoptViewEarly: "§9.4", mutRecoveringVotes: "§9.5", mutRecoveryAnyPrimary: "§9.6",
	mutNoRebuildPending: "§9.7", mutExecuteUncommitted: "§9.8", mutOldViewPrepareOK: "§9.9",
	mutOldViewPrepare: "§9.9", mutNoResendSVC: "§9.10", mutCheckpointDropsTail: "§9.12",
	mutCheckpointNoClients: "§9.12",
}

func mutation(id mutationID) bool { return Mutations[mutationNames[id]] }
