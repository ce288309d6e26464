//go:build !vrmutate

package main

import "errors"

// Without the vrmutate build tag there are no mutations to switch on.
func mutationFlag() *string { s := ""; return &s }

func applyMutation(name string) error {
	if name != "" {
		return errors.New("-mutate needs a build with -tags vrmutate")
	}
	return nil
}
