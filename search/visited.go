package search

// visited is the set of the states reached, by fingerprint, each with how
// it was first reached (its visit). It is a hash table with open addressing
// and linear probing: a fingerprint is a hash already, and a move that
// reaches a state already seen (most moves) costs one probe of keys, mostly
// one cache miss.
type visited struct {
	keys  []uint64 // a power of two of places, at most half of them taken
	at    []uint32 // by place: 1 + the index of its key's visit; 0: free
	shift uint     // 64 - log2(len(keys))
	n     int      // states in the set

	visits [][]packedVisit // the visit of state i is visits[i/chunk][i%chunk]
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
	mask := uint64(len(t.keys) - 1)
	i := t.home(key)
	for t.at[i] != 0 {
		if t.keys[i] == key {
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
	t.keys[i], t.at[i] = key, uint32(t.n)
	if 2*t.n > len(t.keys) {
		t.resize(2 * len(t.keys))
	}
	return true
}

// get is how key was first reached; key must be in the set.
func (t *visited) get(key uint64) visit {
	mask := uint64(len(t.keys) - 1)
	for i := t.home(key); t.at[i] != 0; i = (i + 1) & mask {
		if t.keys[i] == key {
			at := int(t.at[i] - 1)
			p := t.visits[at/chunk][at%chunk]
			return visit{parent: p.parent, move: Move{Kind: p.kind, Node: int(p.node), Msg: p.msg}}
		}
	}
	panic("search: a state's parent is not among the states reached")
}

func (t *visited) resize(n int) {
	keys, at := t.keys, t.at
	t.keys, t.at = make([]uint64, n), make([]uint32, n)
	t.shift = 64
	for 1<<(64-t.shift) < n {
		t.shift--
	}
	mask := uint64(n - 1)
	for j, a := range at {
		if a != 0 {
			i := t.home(keys[j])
			for t.at[i] != 0 {
				i = (i + 1) & mask
			}
			t.keys[i], t.at[i] = keys[j], a
		}
	}
}
