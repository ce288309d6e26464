package labgob

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// captureWarnings forgets which types were already reported, sends warnings
// to a buffer for the duration of the test, and zeroes the counter, so that
// each test (and each -count repetition) starts from a clean slate.
func captureWarnings(t *testing.T) *bytes.Buffer {
	t.Helper()
	checkMu.Lock()
	checkedTypes = map[reflect.Type]bool{}
	warnedNonZero = map[reflect.Type]bool{}
	checkMu.Unlock()
	warningCount.Store(0)

	var buf bytes.Buffer
	old := logger.Writer()
	logger.SetOutput(&buf)
	t.Cleanup(func() { logger.SetOutput(old) })
	return &buf
}

type Shape interface{ Area() int }

type Square struct{ Side int }

func (s Square) Area() int { return s.Side * s.Side }

type Inner struct {
	Name  string
	Votes []int
}

type Outer struct {
	Term    int
	Inner   Inner
	Ptr     *Inner
	List    []Inner
	ByKey   map[string]*Inner
	Fixed   [2]Inner
	Shape   Shape
	Payload []byte
}

func sampleOuter() Outer {
	return Outer{
		Term:    7,
		Inner:   Inner{Name: "a", Votes: []int{1, 2}},
		Ptr:     &Inner{Name: "p"},
		List:    []Inner{{Name: "l0"}, {Name: "l1", Votes: []int{3}}},
		ByKey:   map[string]*Inner{"k": {Name: "v", Votes: []int{4}}},
		Fixed:   [2]Inner{{Name: "f0"}, {Name: "f1"}},
		Shape:   Square{Side: 3},
		Payload: []byte("hello"),
	}
}

func TestRoundTripNested(t *testing.T) {
	captureWarnings(t)
	Register(Square{})

	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	in := sampleOuter()
	require.NoError(t, enc.Encode(in))
	require.NoError(t, enc.Encode(42))
	require.NoError(t, enc.EncodeValue(reflect.ValueOf("tail")))

	dec := NewDecoder(&buf)
	var out Outer
	var n int
	var s string
	require.NoError(t, dec.Decode(&out))
	require.NoError(t, dec.Decode(&n))
	require.NoError(t, dec.Decode(&s))

	require.Equal(t, in, out)
	require.Equal(t, 42, n)
	require.Equal(t, "tail", s)
	require.Equal(t, 9, out.Shape.Area())
	require.Zero(t, WarningCount(), "clean types must not cause warnings")
}

type lowerTop struct {
	Good  int
	bad   int
	worse string
}

func TestLowerCaseFieldWarnsOncePerType(t *testing.T) {
	out := captureWarnings(t)

	for range 3 {
		var buf bytes.Buffer
		require.NoError(t, NewEncoder(&buf).Encode(lowerTop{Good: 1, bad: 2}))
	}

	require.Equal(t, 1, WarningCount())
	require.Contains(t, out.String(), "lowerTop")
	require.Contains(t, out.String(), "bad, worse")
}

type (
	inSlice struct{ x int }
	inMap   struct{ y int }
	inKey   struct{ z int }
	inPtr   struct{ w int }
	inArray struct{ v int }
)

type Container struct {
	S []inSlice
	M map[inKey]inMap
	P *inPtr
	A [1]inArray
}

func TestLowerCaseFieldFoundThroughContainers(t *testing.T) {
	out := captureWarnings(t)

	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	// Gob rejects types with no exported fields, so only the check matters
	// here; the encode errors are expected.
	_ = enc.Encode(Container{})
	_ = enc.Encode(Container{})

	require.Equal(t, 5, WarningCount(), out.String())
	for _, name := range []string{"inSlice", "inMap", "inKey", "inPtr", "inArray"} {
		require.Equal(t, 1, strings.Count(out.String(), name+" has"), name)
	}
}

type Node struct {
	Value    int
	Next     *Node
	Children []Node
	ByName   map[string]*Node
}

type badNode struct {
	Value int
	next  *badNode
}

func TestRecursiveTypesTerminate(t *testing.T) {
	captureWarnings(t)

	var buf bytes.Buffer
	in := Node{Value: 1, Next: &Node{Value: 2}, Children: []Node{{Value: 3}}}
	require.NoError(t, NewEncoder(&buf).Encode(in))
	var out Node
	require.NoError(t, NewDecoder(&buf).Decode(&out))
	require.Equal(t, in, out)
	require.Zero(t, WarningCount())

	require.NoError(t, NewEncoder(&buf).Encode(badNode{Value: 1}))
	require.Equal(t, 1, WarningCount())
}

type Reply struct {
	Term    int
	Success bool
}

func TestDecodeIntoNonZeroWarns(t *testing.T) {
	out := captureWarnings(t)

	encode := func(r Reply) *bytes.Buffer {
		var buf bytes.Buffer
		require.NoError(t, NewEncoder(&buf).Encode(r))
		return &buf
	}

	// This is the bug the warning is about: the zero-valued Term is not
	// transmitted, so the stale 5 survives decoding.
	stale := Reply{Term: 5}
	require.NoError(t, NewDecoder(encode(Reply{Success: true})).Decode(&stale))
	require.Equal(t, Reply{Term: 5, Success: true}, stale)
	require.Equal(t, 1, WarningCount())
	require.Contains(t, out.String(), "non-zero *labgob.Reply")

	// Once per type is enough.
	stale2 := Reply{Term: 9}
	require.NoError(t, NewDecoder(encode(Reply{})).Decode(&stale2))
	require.Equal(t, 1, WarningCount())
}

func TestDecodeIntoZeroIsQuiet(t *testing.T) {
	captureWarnings(t)

	var buf bytes.Buffer
	require.NoError(t, NewEncoder(&buf).Encode(Reply{Term: 3, Success: true}))
	var r Reply
	require.NoError(t, NewDecoder(&buf).Decode(&r))
	require.Equal(t, Reply{Term: 3, Success: true}, r)
	require.Zero(t, WarningCount())
}

type registeredBad struct {
	Ok     int
	hidden int
}

func (registeredBad) Area() int { return 0 }

func TestRegisterChecksType(t *testing.T) {
	out := captureWarnings(t)

	RegisterName("labgob.registeredBad", registeredBad{})

	require.Equal(t, 1, WarningCount())
	require.Contains(t, out.String(), "hidden")
}
