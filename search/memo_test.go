package search

import (
	"fmt"
	"reflect"
	"testing"

	"vrlab/vr"
)

// TestMemoChangesNothing: with the memo of moves (memo.go) and without it, a
// search reaches the same states (the same fingerprints), tries the same
// moves, and fails the same way.
func TestMemoChangesNothing(t *testing.T) {
	cfgs := []Config{}
	for _, bc := range benchConfigs {
		cfg := bc.cfg
		cfg.MaxDepth-- // a little smaller: it runs twice, once without the memo
		cfgs = append(cfgs, cfg)
	}
	// And one that fails: R1 must never become primary.
	cfgs = append(cfgs, Config{Replicas: 3, Clients: 1, Requests: 1, Budget: Budget{Ticks: 2, Drops: 1}, MaxDepth: 12,
		Invariant: func(s *State) string {
			if st := s.Replica(1); st.IsPrimary && st.Executed > 0 {
				return "R1 is primary with an op executed"
			}
			return ""
		}})
	for i, cfg := range cfgs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			with := Run(cfg)
			noMemo = true
			without := Run(cfg)
			noMemo = false
			if with.States != without.States || with.Moves != without.Moves || with.Depth != without.Depth || with.digest != without.digest {
				t.Fatalf("with the memo: %d states, %d moves, depth %d, digest %x; without: %d states, %d moves, depth %d, digest %x",
					with.States, with.Moves, with.Depth, with.digest, without.States, without.Moves, without.Depth, without.digest)
			}
			if !reflect.DeepEqual(with.Failure, without.Failure) {
				t.Fatalf("with the memo, failure %+v; without, %+v", with.Failure, without.Failure)
			}
			if i == len(cfgs)-1 && with.Failure == nil {
				t.Fatalf("expected the invariant to fail")
			}
			t.Logf("%d states, %d moves", with.States, with.Moves)
		})
	}
}

// TestMsgKeyCoversEveryField: msgKey, a message's identity in flight, hashes
// every field of vr.Message, and of what it holds (entries, checkpoint). A
// field added to Message (or Entry, Checkpoint, ClientRecord) and not to
// msgKey fails here: without it two messages that differ in it would be one
// message in flight, and one input to the memo.
func TestMsgKeyCoversEveryField(t *testing.T) {
	var base vr.Message
	fill(reflect.ValueOf(&base).Elem())
	var paths []string
	leaves(t, reflect.ValueOf(&base).Elem(), "Message", func(path string, set func(v reflect.Value)) {
		paths = append(paths, path)
		var m vr.Message
		fill(reflect.ValueOf(&m).Elem())
		if msgKey(&m) != msgKey(&base) {
			t.Fatalf("two messages filled alike have different keys")
		}
		set(reflect.ValueOf(&m).Elem())
		if msgKey(&m) == msgKey(&base) {
			t.Errorf("msgKey (search/state.go) ignores %s: hash it there", path)
		}
	})
	if len(paths) < 17 {
		t.Fatalf("only %d fields found: %v", len(paths), paths)
	}
}

// fill gives v's slices one element and its pointers a value, recursively
// ([]byte stays empty): so that every field, however deep, is there to set.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(v.Field(i))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			v.Set(reflect.MakeSlice(v.Type(), 1, 1))
			fill(v.Index(0))
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	}
}

// leaves calls visit for every field of v (a filled value) that holds data,
// with a function that sets that field, in another value filled alike, to
// something other than its zero.
func leaves(t *testing.T, v reflect.Value, path string, visit func(path string, set func(v reflect.Value))) {
	at := func(set func(reflect.Value)) func(reflect.Value) { return set }
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			i := i
			leaves(t, v.Field(i), path+"."+v.Type().Field(i).Name, func(p string, set func(reflect.Value)) {
				visit(p, func(w reflect.Value) { set(w.Field(i)) })
			})
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			visit(path, at(func(w reflect.Value) { w.SetBytes([]byte{7}) }))
			return
		}
		leaves(t, v.Index(0), path+"[0]", func(p string, set func(reflect.Value)) {
			visit(p, func(w reflect.Value) { set(w.Index(0)) })
		})
		visit(path+" (length)", func(w reflect.Value) { w.Set(reflect.Append(w, reflect.Zero(w.Type().Elem()))) })
	case reflect.Pointer:
		leaves(t, v.Elem(), path, func(p string, set func(reflect.Value)) {
			visit(p, func(w reflect.Value) { set(w.Elem()) })
		})
		visit(path+" (nil)", func(w reflect.Value) { w.Set(reflect.Zero(w.Type())) })
	case reflect.Bool:
		visit(path, func(w reflect.Value) { w.SetBool(true) })
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		visit(path, func(w reflect.Value) { w.SetInt(7) })
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		visit(path, func(w reflect.Value) { w.SetUint(7) })
	case reflect.String:
		visit(path, func(w reflect.Value) { w.SetString("x") })
	default:
		t.Errorf("%s: a field of kind %v, which this test cannot set: teach it, and msgKey", path, v.Kind())
	}
}
