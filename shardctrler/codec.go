package shardctrler

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// The ops, results and snapshots of the service are hand-written binary:
// varints, and strings and lists prefixed by their length. Maps are written
// in increasing key order, so one value always has one encoding: every
// replica's snapshot of the same state is the same bytes.
//
//	Join   = 1 ngroups {gid nservers {len bytes}}   (gids increasing)
//	Leave  = 2 ngids {gid}
//	Move   = 3 shard gid
//	Query  = 4 num
//	Config = num NShards×gid ngroups {gid nservers {len bytes}}
//	Snapshot = nconfigs {Config}

// Limits that the decoder enforces, so that hostile bytes cannot make it
// allocate much.
const (
	maxGroups  = 1 << 12 // groups in one Join or Config, gids in one Leave
	maxServers = 1 << 8  // servers in one group
	maxName    = 1 << 10 // bytes in one server name
)

var errShort = errors.New("truncated")

// encoder appends to a byte slice.
type encoder struct{ buf []byte }

func (e *encoder) int(v int)   { e.buf = binary.AppendVarint(e.buf, int64(v)) }
func (e *encoder) uint(v int)  { e.buf = binary.AppendUvarint(e.buf, uint64(v)) }
func (e *encoder) byte(b byte) { e.buf = append(e.buf, b) }
func (e *encoder) string(s string) {
	e.uint(len(s))
	e.buf = append(e.buf, s...)
}

// groups writes a gid -> servers map in increasing gid order.
func (e *encoder) groups(groups map[int][]string) {
	gids := make([]int, 0, len(groups))
	for gid := range groups {
		gids = append(gids, gid)
	}
	slices.Sort(gids)
	e.uint(len(gids))
	for _, gid := range gids {
		e.int(gid)
		e.uint(len(groups[gid]))
		for _, s := range groups[gid] {
			e.string(s)
		}
	}
}

func (e *encoder) config(c Config) {
	e.int(c.Num)
	for _, gid := range c.Shards {
		e.int(gid)
	}
	e.groups(c.Groups)
}

// decoder reads what an encoder wrote. The first error sticks; after it,
// every read returns zero.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) int() int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.buf)
	if n <= 0 || v != int64(int(v)) {
		d.fail(errShort)
		return 0
	}
	d.buf = d.buf[n:]
	return int(v)
}

// uint reads a count of at most limit.
func (d *decoder) uint(limit int) int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	if v > uint64(limit) {
		d.fail(fmt.Errorf("count %d over the limit %d", v, limit))
		return 0
	}
	d.buf = d.buf[n:]
	return int(v)
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.buf) == 0 {
		d.fail(errShort)
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

func (d *decoder) string() string {
	n := d.uint(maxName)
	if d.err != nil {
		return ""
	}
	if len(d.buf) < n {
		d.fail(errShort)
		return ""
	}
	s := string(d.buf[:n]) // a copy: nothing decoded shares the input
	d.buf = d.buf[n:]
	return s
}

// groups reads a map written by encoder.groups; gids must be positive and
// strictly increasing.
func (d *decoder) groups() map[int][]string {
	n := d.uint(maxGroups)
	groups := make(map[int][]string, n)
	last := 0
	for i := 0; i < n && d.err == nil; i++ {
		gid := d.int()
		if d.err == nil && gid <= last {
			d.fail(fmt.Errorf("gid %d: gids must be positive and increasing", gid))
		}
		last = gid
		servers := make([]string, d.uint(maxServers))
		for j := range servers {
			servers[j] = d.string()
		}
		groups[gid] = servers
	}
	return groups
}

func (d *decoder) config() Config {
	c := Config{Num: d.int()}
	if d.err == nil && c.Num < 0 {
		d.fail(fmt.Errorf("configuration number %d", c.Num))
	}
	for i := range c.Shards {
		c.Shards[i] = d.int()
	}
	c.Groups = d.groups()
	for i, gid := range c.Shards {
		if _, ok := c.Groups[gid]; d.err == nil && gid != 0 && !ok {
			d.fail(fmt.Errorf("configuration %d: shard %d on gid %d, which is not a group", c.Num, i, gid))
		}
	}
	return c
}

// end fails unless every byte was read.
func (d *decoder) end() error {
	if d.err == nil && len(d.buf) > 0 {
		d.fail(fmt.Errorf("%d bytes left over", len(d.buf)))
	}
	return d.err
}

// Ops.

func encodeJoin(servers map[int][]string) []byte {
	e := encoder{}
	e.byte(byte(opJoin))
	e.groups(servers)
	return e.buf
}

func encodeLeave(gids []int) []byte {
	e := encoder{}
	e.byte(byte(opLeave))
	e.uint(len(gids))
	for _, gid := range gids {
		e.int(gid)
	}
	return e.buf
}

func encodeMove(shard, gid int) []byte {
	e := encoder{}
	e.byte(byte(opMove))
	e.int(shard)
	e.int(gid)
	return e.buf
}

func encodeQuery(num int) []byte {
	e := encoder{}
	e.byte(byte(opQuery))
	e.int(num)
	return e.buf
}

// decodeOp decodes an op and checks what can be checked without the
// configurations: gids are positive, shards in range, lists not empty and
// without repeats. It never panics, whatever the bytes.
func decodeOp(b []byte) (op, error) {
	d := decoder{buf: b}
	o := op{kind: opKind(d.byte())}
	switch o.kind {
	case opJoin:
		o.servers = d.groups()
		if d.err == nil && len(o.servers) == 0 {
			d.fail(errors.New("Join of no groups"))
		}
	case opLeave:
		o.gids = make([]int, d.uint(maxGroups))
		seen := make(map[int]bool, len(o.gids))
		for i := range o.gids {
			o.gids[i] = d.int()
			if d.err == nil && (o.gids[i] <= 0 || seen[o.gids[i]]) {
				d.fail(fmt.Errorf("Leave of gid %d: gids must be positive and listed once", o.gids[i]))
			}
			seen[o.gids[i]] = true
		}
		if d.err == nil && len(o.gids) == 0 {
			d.fail(errors.New("Leave of no groups"))
		}
	case opMove:
		o.shard, o.gid = d.int(), d.int()
		if d.err == nil && (o.shard < 0 || o.shard >= NShards || o.gid <= 0) {
			d.fail(fmt.Errorf("Move of shard %d to gid %d: want a shard in [0,%d) and a positive gid", o.shard, o.gid, NShards))
		}
	case opQuery:
		o.num = d.int()
	default:
		if d.err == nil {
			d.fail(fmt.Errorf("unknown op kind %d", o.kind))
		}
	}
	if err := d.end(); err != nil {
		return op{}, err
	}
	return o, nil
}

// Results.

func okResult(c *Config) []byte {
	e := encoder{}
	e.byte(resultOK)
	if c != nil {
		e.config(*c)
	}
	return e.buf
}

func errResult(status byte, err error) []byte {
	return append([]byte{status}, err.Error()...)
}

// decodeResult turns a result into the Config of a Query (with query set)
// or the error of a refused op.
func decodeResult(b []byte, query bool) (Config, error) {
	if len(b) == 0 {
		return Config{}, errors.New("shardctrler: empty result")
	}
	switch b[0] {
	case resultOK:
		if !query {
			return Config{}, nil
		}
		d := decoder{buf: b[1:]}
		c := d.config()
		if err := d.end(); err != nil {
			return Config{}, fmt.Errorf("shardctrler: malformed configuration in a Query result: %v", err)
		}
		return c, nil
	case resultRejected:
		return Config{}, fmt.Errorf("%w: %s", ErrRejected, b[1:])
	case resultBadOp:
		return Config{}, fmt.Errorf("shardctrler: malformed op: %s", b[1:])
	}
	return Config{}, fmt.Errorf("shardctrler: result with unknown status %d", b[0])
}

// Snapshots.

func encodeConfigs(configs []Config) []byte {
	e := encoder{}
	e.uint(len(configs))
	for _, c := range configs {
		e.config(c)
	}
	return e.buf
}

// maxConfigs bounds the configurations in one snapshot.
const maxConfigs = 1 << 24

func decodeConfigs(b []byte) ([]Config, error) {
	d := decoder{buf: b}
	n := d.uint(maxConfigs)
	var configs []Config
	for i := 0; i < n && d.err == nil; i++ {
		c := d.config()
		if d.err == nil && c.Num != i {
			d.fail(fmt.Errorf("configuration %d numbered %d", i, c.Num))
		}
		configs = append(configs, c)
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return configs, nil
}
