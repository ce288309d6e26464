// Package shardctrler is the shard controller: a configuration service,
// replicated with VR, that decides which replica group serves each shard of
// a sharded key/value store. See LAB-SC.md.
//
// A configuration numbers the groups that exist and assigns each of the
// NShards shards to one of them. Administrators change it with Join (new
// groups), Leave (groups going away) and Move (one shard to one group);
// everyone reads it with Query. Every change makes a new configuration with
// the next number, and the service keeps them all.
package shardctrler

import (
	"errors"
	"maps"
	"slices"
)

// NShards is the number of shards.
const NShards = 10

// Config is one configuration: which group serves each shard, and which
// servers make up each group.
type Config struct {
	Num    int              // configuration number; 0 is the initial one
	Shards [NShards]int     // shard -> gid; 0 = unassigned
	Groups map[int][]string // gid -> server names
}

// Copy returns a deep copy of c: changing the copy's Groups, or the server
// lists in it, leaves c as it is.
func (c Config) Copy() Config {
	out := Config{Num: c.Num, Shards: c.Shards, Groups: make(map[int][]string, len(c.Groups))}
	for gid, servers := range c.Groups {
		out.Groups[gid] = slices.Clone(servers)
	}
	return out
}

// GIDs returns the gids of c's groups in increasing order.
func (c Config) GIDs() []int {
	return slices.Sorted(maps.Keys(c.Groups))
}

// ErrRejected wraps the reason why the service refused a Join, Leave or
// Move: the op executed, but as a no-op, and made no new configuration.
var ErrRejected = errors.New("shardctrler: rejected")

// opKind tags an encoded op (its first byte).
type opKind byte

const (
	opJoin opKind = iota + 1
	opLeave
	opMove
	opQuery
)

// Result status: the first byte of every result.
const (
	resultOK       byte = 0 // followed by the encoded Config (Query) or nothing
	resultRejected byte = 1 // followed by the reason, as text
	resultBadOp    byte = 2 // the op bytes did not decode; followed by the reason
)

// op is one decoded op. Exactly the fields of its kind are set.
type op struct {
	kind    opKind
	servers map[int][]string // Join
	gids    []int            // Leave
	shard   int              // Move
	gid     int              // Move
	num     int              // Query
}
