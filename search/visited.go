package search

// visited is the set of the states reached, by fingerprint, each with how
// it was first reached (its visit). It is a hash table with open addressing:
// a fingerprint is a hash already, and a move that reaches a state already
// seen (most moves) costs one probe, mostly one cache miss.
type visited struct {
	slots  []slot          // a power of two of them, at most half full
	shift  uint            // 64 - log2(len(slots))
	n      int             // states in the set
	visits [][]packedVisit // the visit of state i is visits[i/chunk][i%chunk]
}

// slot is one place of the table: a fingerprint and, plus one, the index of
// its visit (0: the place is free).
type slot struct {
	key uint64
	at  uint32
}

// packedVisit is a visit in 24 bytes. Visits are kept in chunks that are
// never copied: a deep search holds millions.
type packedVisit struct {
	parent, msg uint64
	node        int32
	kind        Kind
}

const chunk = 1 << 14

func newVisited() *visited {
	t := &visited{}
	t.resize(1 << 13)
	return t
}

func (t *visited) home(key uint64) uint64 { return (key * 0x9e3779b97f4a7c15) >> t.shift }

// add enters key, first reached by v, and reports true; if key is in the
// set already, it changes nothing and reports false.
func (t *visited) add(key uint64, v visit) bool {
	mask := uint64(len(t.slots) - 1)
	i := t.home(key)
	for t.slots[i].at != 0 {
		if t.slots[i].key == key {
			return false
		}
		i = (i + 1) & mask
	}
	if t.n%chunk == 0 {
		t.visits = append(t.visits, make([]packedVisit, 0, chunk))
	}
	c := &t.visits[len(t.visits)-1]
	*c = append(*c, packedVisit{parent: v.parent, msg: v.move.Msg, node: int32(v.move.Node), kind: v.move.Kind})
	t.n++
	t.slots[i] = slot{key: key, at: uint32(t.n)}
	if 2*t.n > len(t.slots) {
		t.resize(2 * len(t.slots))
	}
	return true
}

// get is how key was first reached; key must be in the set.
func (t *visited) get(key uint64) visit {
	mask := uint64(len(t.slots) - 1)
	for i := t.home(key); t.slots[i].at != 0; i = (i + 1) & mask {
		if t.slots[i].key == key {
			at := int(t.slots[i].at - 1)
			p := t.visits[at/chunk][at%chunk]
			return visit{parent: p.parent, move: Move{Kind: p.kind, Node: int(p.node), Msg: p.msg}}
		}
	}
	panic("search: a state's parent is not among the states reached")
}

func (t *visited) resize(n int) {
	old := t.slots
	t.slots = make([]slot, n)
	t.shift = 64
	for 1<<(64-t.shift) < n {
		t.shift--
	}
	mask := uint64(n - 1)
	for _, s := range old {
		if s.at != 0 {
			i := t.home(s.key)
			for t.slots[i].at != 0 {
				i = (i + 1) & mask
			}
			t.slots[i] = s
		}
	}
}
