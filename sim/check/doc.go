// Package check holds the safety checks that vrlab's two explorers of VR
// executions share: the deterministic simulator (package sim), which runs
// seeded random schedules, and the bounded exhaustive search (package
// search), which runs every schedule up to a bound.
//
// Both drive real vr.Replicas and report what they see here:
//
//   - ops.go: how an op names its client and request, and how the test
//     service answers (op-number and running hash of the log up to it);
//   - log.go: the canonical committed log and the checks against it
//     (agreement, exactly once, client replies, one primary per view);
//   - rules.go: protocol rules of VR-PROTOCOL.md checked on each step of a
//     replica (what it may send in which status, quorum sizes).
//
// A check that fails calls the Fail function its driver supplied, with the
// check's name ("agreement", "conformance/commit", …) and a message that
// says what was expected and what was seen.
package check
