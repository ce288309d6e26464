// Package webtest holds the browser tests of the simulator's space-time page
// (sim.WriteHTML, vrsim -html) and of the KV tests' annotated
// linearizability page (tests/harness.WritePage). It is a separate module,
// joined by go.work like bench/, so that the lab's own go.mod stays free of
// chromedp.
package webtest
