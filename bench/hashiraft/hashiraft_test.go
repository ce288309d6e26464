package hashiraft

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"vrlab/bench/system/systemtest"
)

func TestGroup(t *testing.T) {
	for _, transport := range []string{"tcp", "inmem"} {
		t.Run(transport, func(t *testing.T) {
			before := runtime.NumGoroutine()
			sg, err := New(transport)
			require.NoError(t, err)
			g := sg.(*group)
			systemtest.Exercise(t, g, func() []uint64 { return applied(g) }, transport == "tcp")
			g.Close()
			g.Close() // idempotent
			systemtest.NoLeaks(t, before)
		})
	}
}

func TestUnknownTransport(t *testing.T) {
	_, err := New("udp")
	require.ErrorContains(t, err, "unknown transport")
}

func applied(g *group) []uint64 {
	var a []uint64
	for _, rep := range g.replicas {
		a = append(a, rep.kv.Applied())
	}
	return a
}
