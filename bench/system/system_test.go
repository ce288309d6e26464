package system

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCommandAndKV(t *testing.T) {
	c := Command(7, 130)
	require.Len(t, c, CommandSize)
	require.Equal(t, c[:16], Command(7, 2)[:16], "seq 130 and 2 write the same key (128 keys per client)")
	require.NotEqual(t, c[:16], Command(8, 2)[:16], "clients write different keys")

	kv := NewKV()
	for i := 0; i < 3; i++ {
		res := kv.Apply(Command(1, 0))
		require.NoError(t, CheckResult(res))
		require.Equal(t, byte(i+1), res[0], "the result is the key's version")
	}
	kv.Apply(Command(2, 5))
	require.Equal(t, uint64(4), kv.Applied())

	snap := kv.Snapshot()
	other := NewKV()
	other.Restore(snap)
	require.Equal(t, kv.Applied(), other.Applied())
	require.True(t, bytes.Equal(kv.Apply(Command(1, 0)), other.Apply(Command(1, 0))), "a restored KV continues the same versions")

	require.Error(t, CheckResult(nil))
	require.Error(t, CheckResult(make([]byte, 8)), "version 0 is never a result")
	other.Restore([]byte{1, 2}) // malformed: empty, no panic
	require.Equal(t, uint64(0), other.Applied())
}
