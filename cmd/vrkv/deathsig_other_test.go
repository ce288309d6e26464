//go:build !linux

package main

import "os/exec"

// dieWithTest does nothing here: only Linux has a parent-death signal. The
// tests' cleanups still kill every replica they started.
func dieWithTest(cmd *exec.Cmd) {}
