// Package kvmodel is the porcupine model of the kvvr service, shared by
// every test that checks a key/value history for linearizability: the lab's
// graded KV tests and the multi-process tests of cmd/vrkv.
package kvmodel

import (
	"fmt"
	"hash/fnv"
	"sort"

	"github.com/anishathalye/porcupine"

	"vrlab/kvvr"
)

// Model is the sequential specification of one key: its state is the key's
// value; the history is partitioned by key. An operation's Input is a
// kvvr.Op and its Output the string a Get returned (ignored otherwise).
var Model = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			key := op.Input.(kvvr.Op).Key
			byKey[key] = append(byKey[key], op)
		}
		keys := make([]string, 0, len(byKey))
		for key := range byKey {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, key := range keys {
			out = append(out, byKey[key])
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		value := state.(string)
		op := input.(kvvr.Op)
		switch op.Kind {
		case kvvr.OpGet:
			return output.(string) == value, value
		case kvvr.OpPut:
			return true, op.Value
		case kvvr.OpAppend:
			return true, value + op.Value
		}
		return false, value
	},
	Equal: func(a, b any) bool { return a.(string) == b.(string) },
	Hash: func(state any) uint64 {
		h := fnv.New64a()
		h.Write([]byte(state.(string)))
		return h.Sum64()
	},
	DescribeOperation: func(input, output any) string {
		op := input.(kvvr.Op)
		switch op.Kind {
		case kvvr.OpGet:
			return fmt.Sprintf("get(%q) -> %q", op.Key, Abbrev(output.(string)))
		case kvvr.OpPut:
			return fmt.Sprintf("put(%q, %q)", op.Key, op.Value)
		}
		return fmt.Sprintf("append(%q, %q)", op.Key, op.Value)
	},
	DescribeState: func(state any) string {
		return fmt.Sprintf("%q", Abbrev(state.(string)))
	},
}

// Abbrev shortens a long value for a failure message.
func Abbrev(s string) string {
	if len(s) <= 120 {
		return s
	}
	return s[:60] + fmt.Sprintf("…(%d bytes)…", len(s)-120) + s[len(s)-60:]
}
