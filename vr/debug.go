package vr

import (
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"time"
)

// Debug logging, switched on by the VRDEBUG environment variable:
//
//	VRDEBUG=all            every event
//	VRDEBUG=view,state     only view changes and state transfer
//
// Topics: send (every message sent), client (replies to clients), normal,
// view, state, recovery, ckpt, epoch (reconfiguration), node (runtime
// events). Each line is
//
//	1234ms view     R2 starts view change to view 3 (primary 0)
//
// time since the process started, topic, then the event (which names the
// replica). Logs of a failing test read top to bottom as a story.
var (
	debugOnce   sync.Once
	debugTopics map[string]bool
	debugAll    bool
	debugStart  = time.Now()
)

func debugEnabled(topic string) bool {
	debugOnce.Do(func() {
		debugTopics = map[string]bool{}
		for _, t := range strings.Split(os.Getenv("VRDEBUG"), ",") {
			t = strings.TrimSpace(t)
			switch t {
			case "":
			case "all", "1":
				debugAll = true
			default:
				debugTopics[t] = true
			}
		}
	})
	return debugAll || debugTopics[topic]
}

// debugAny reports whether VRDEBUG names any topic: a Node gives its
// Replica a logger only then.
func debugAny() bool {
	debugEnabled("")
	return debugAll || len(debugTopics) > 0
}

// debugf logs one event if its topic is enabled.
func debugf(topic, format string, args ...any) {
	if !debugEnabled(topic) {
		return
	}
	ms := time.Since(debugStart).Milliseconds()
	log.Printf("%6dms %-8s %s", ms, topic, fmt.Sprintf(format, args...))
}
