package sim

import "testing"

// TestEventsChangeNothing: a run with Options.Events has the trace hash and
// stats of the run without, and its events agree with the stats: every
// message sent is delivered, lost or still in flight at the end, once.
func TestEventsChangeNothing(t *testing.T) {
	seeds := []int64{1, 2, 3, 42}
	if raceEnabled {
		seeds = seeds[:2]
	}
	for _, seed := range seeds {
		var evs []Event
		a := RunSeed(seed, Options{Events: func(e Event) { evs = append(evs, e) }})
		b := RunSeed(seed, Options{})
		if a.TraceHash != b.TraceHash || a.Stats != b.Stats {
			t.Fatalf("seed %d: events changed the run: hash %016x vs %016x, stats\n%+v\n%+v", seed, a.TraceHash, b.TraceHash, a.Stats, b.Stats)
		}
		count := map[EventKind]int{}
		fate := map[int]EventKind{} // message ID → what became of it
		sent := 0
		lastTick := 0
		for _, e := range evs {
			count[e.Kind]++
			if e.Tick < lastTick {
				t.Fatalf("seed %d: event %v at tick %d after tick %d", seed, e.Kind, e.Tick, lastTick)
			}
			lastTick = e.Tick
			switch e.Kind {
			case EvSend, EvDuplicate:
				if e.ID != sent+1 || e.Msg == nil {
					t.Fatalf("seed %d: message ID %d (msg %v) after %d", seed, e.ID, e.Msg, sent)
				}
				sent = e.ID
			case EvDeliver, EvDrop:
				if e.ID < 1 || e.ID > sent {
					t.Fatalf("seed %d: %v of unsent message %d", seed, e.Kind, e.ID)
				}
				if k, ok := fate[e.ID]; ok {
					t.Fatalf("seed %d: message %d had two fates: %v and %v", seed, e.ID, k, e.Kind)
				}
				fate[e.ID] = e.Kind
			}
		}
		st := a.Stats
		drops := 0
		for _, e := range evs {
			if e.Kind == EvDrop && e.Why == LostLoss {
				drops++
			}
		}
		if count[EvDeliver] != st.Delivered || drops != st.Dropped || count[EvDuplicate] != st.Duplicated ||
			count[EvCrash] != st.Crashes || count[EvInvoke] != st.Requests || count[EvReturn] != st.Completed {
			t.Errorf("seed %d: events %v disagree with stats %+v (%d lost on sending)", seed, count, st, drops)
		}
		if count[EvPartition] < st.Partitions {
			t.Errorf("seed %d: %d partition events, %d partitions", seed, count[EvPartition], st.Partitions)
		}
		if len(fate) > sent {
			t.Errorf("seed %d: %d fates of %d messages", seed, len(fate), sent)
		}
	}
}
