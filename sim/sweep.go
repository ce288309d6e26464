package sim

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Summary is the outcome of a sweep over many seeds.
type Summary struct {
	Seeds    int
	Wall     time.Duration
	Stats    Stats // summed (maxima for the Max fields and LivenessTook)
	Failures []*Failure
}

// SimSeconds is the simulated time of the sweep.
func (s Summary) SimSeconds() float64 { return float64(s.Stats.Ticks) * TickMillis / 1000 }

// Ratio is simulated time per real time.
func (s Summary) Ratio() float64 { return s.SimSeconds() / s.Wall.Seconds() }

// Print writes the summary.
func (s Summary) Print(w io.Writer) {
	st := s.Stats
	fmt.Fprintf(w, "seeds:        %d in %.1fs (%.1f seeds/s)\n", s.Seeds, s.Wall.Seconds(), float64(s.Seeds)/s.Wall.Seconds())
	fmt.Fprintf(w, "simulated:    %.0fs (%d ticks of %dms); %.0f simulated s per real s\n", s.SimSeconds(), st.Ticks, TickMillis, s.Ratio())
	fmt.Fprintf(w, "ops:          %d committed, %d of %d client requests completed; slowest request %d ticks\n", st.Committed, st.Completed, st.Requests, st.MaxLatency)
	fmt.Fprintf(w, "messages:     %d delivered; %d PREPAREs carrying %d ops (%.2f per PREPARE)\n", st.Delivered, st.Prepares, st.PreparedOps, float64(st.PreparedOps)/float64(max(st.Prepares, 1)))
	fmt.Fprintf(w, "faults:       %d (%d dropped, %d duplicated, %d long delays, %d crashes, %d partitions); highest view %d\n",
		st.Faults(), st.Dropped, st.Duplicated, st.LongDelays, st.Crashes, st.Partitions, st.MaxView)
	fmt.Fprintf(w, "liveness:     slowest convergence %d ticks after the heal; at most %d%% of a seed's bound used\n", st.LivenessTook, st.LivenessUse)
	if st.Isolated+st.Deafened > 0 {
		fmt.Fprintf(w, "failovers:    %d from an isolated primary, %d from a deaf one (its inbound links cut)\n", st.Isolated, st.Deafened)
	}
	if st.Reconfigs+st.Refused > 0 {
		fmt.Fprintf(w, "reconfig:     %d reconfigurations, %d requests refused as they had to be; highest epoch %d\n", st.Reconfigs, st.Refused, st.MaxEpoch)
	}
	if st.Reads > 0 {
		fmt.Fprintf(w, "reads:        %d completed, %d of them under a lease (%.0f%%)\n", st.Reads, st.LeaseReads, 100*float64(st.LeaseReads)/float64(st.Reads))
	}
	fmt.Fprintf(w, "failures:     %d\n", len(s.Failures))
	for _, f := range s.Failures {
		fmt.Fprintf(w, "  %v\n", f)
	}
}

// Sweep runs seeds first..first+count-1 on workers goroutines (each seed is
// still one deterministic single-threaded run) and sums their results.
// prepare, if non-nil, may adjust each seed's drawn configuration.
func Sweep(first int64, count, workers int, prepare func(*Config), opts Options) Summary {
	start := time.Now()
	seeds := make(chan int64)
	var mu sync.Mutex
	var sum Summary
	var wg sync.WaitGroup
	for w := 0; w < max(workers, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				cfg := Draw(seed)
				if prepare != nil {
					prepare(&cfg)
				}
				res := Run(cfg, opts)
				mu.Lock()
				sum.Seeds++
				sum.Stats.add(res.Stats)
				if res.Failure != nil {
					sum.Failures = append(sum.Failures, res.Failure)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < count; i++ {
		seeds <- first + int64(i)
	}
	close(seeds)
	wg.Wait()
	sum.Wall = time.Since(start)
	sortFailures(sum.Failures)
	return sum
}

func sortFailures(fs []*Failure) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].Seed < fs[j-1].Seed; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

// FirstFailure runs seeds first, first+1, … (at most count of them, workers
// at a time) and returns the lowest failing seed's failure and how many
// seeds it took to reach it, or nil and the seeds run. The answer does not
// depend on workers.
func FirstFailure(first int64, count, workers int, prepare func(*Config), opts Options) (*Failure, int) {
	workers = max(workers, 1)
	for done := 0; done < count; {
		batch := min(workers*4, count-done)
		fails := make([]*Failure, batch)
		var wg sync.WaitGroup
		next := make(chan int)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					cfg := Draw(first + int64(done+i))
					if prepare != nil {
						prepare(&cfg)
					}
					fails[i] = Run(cfg, opts).Failure
				}
			}()
		}
		for i := 0; i < batch; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		for i, f := range fails {
			if f != nil {
				return f, done + i + 1
			}
		}
		done += batch
	}
	return nil, count
}
