//go:build !vrmutate

package vr

// mutation is always false in a normal build: no seeded bug can be switched
// on, and the compiler removes every hook (see mutate_names.go).
func mutation(mutationID) bool { return false }
