//go:build vrmutate

package main

import (
	"flag"
	"fmt"
	"strings"

	"vrlab/vr"
)

func mutationFlag() *string {
	return flag.String("mutate", "", "switch on the seeded protocol bug `name`: "+strings.Join(vr.MutationNames(), ", "))
}

func applyMutation(name string) error {
	if name == "" {
		return nil
	}
	for _, m := range vr.MutationNames() {
		if m == name {
			vr.Mutations[name] = true
			return nil
		}
	}
	return fmt.Errorf("unknown mutation %q; known: %s", name, strings.Join(vr.MutationNames(), ", "))
}
