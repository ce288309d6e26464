package kvmodel

import (
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"

	"vrlab/kvvr"
)

func op(client int, call, ret int64, in kvvr.Op, out string) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Call: call, Return: ret, Input: in, Output: out}
}

// The model must reject a stale read and accept overlapping ops in either
// order, on each key independently.
func TestModel(t *testing.T) {
	put := kvvr.Op{Kind: kvvr.OpPut, Key: "a", Value: "1"}
	app := kvvr.Op{Kind: kvvr.OpAppend, Key: "a", Value: "2"}
	get := kvvr.Op{Kind: kvvr.OpGet, Key: "a"}
	other := kvvr.Op{Kind: kvvr.OpPut, Key: "b", Value: "x"}

	ok := []porcupine.Operation{
		op(0, 0, 10, put, ""), op(1, 5, 20, app, ""), op(2, 12, 30, get, "12"), op(3, 0, 40, other, ""),
	}
	require.True(t, porcupine.CheckOperations(Model, ok))

	stale := []porcupine.Operation{op(0, 0, 10, put, ""), op(1, 20, 30, get, "")}
	require.False(t, porcupine.CheckOperations(Model, stale), "a Get after a completed Put must see it")
}

func TestAbbrev(t *testing.T) {
	require.Equal(t, "short", Abbrev("short"))
	long := Abbrev(string(make([]byte, 500)))
	require.Less(t, len(long), 200)
	require.Contains(t, long, "(380 bytes)")
}
