package vr

import (
	"reflect"
	"testing"
)

// State.Equal compares stateFields, a copy of State's fields without the
// slice: a field added to State must be added there too.
func TestStateEqualCoversEveryField(t *testing.T) {
	if got, want := reflect.TypeOf(stateFields{}).NumField(), reflect.TypeOf(State{}).NumField()-1; got != want {
		t.Fatalf("stateFields has %d fields, State has %d besides Members: add the new field to stateFields and State.comparable", got, want)
	}
	a := State{Members: []int{0, 1}, Epoch: 1}
	if !a.Equal(State{Members: []int{0, 1}, Epoch: 1}) || a.Equal(State{Members: []int{0, 2}, Epoch: 1}) || a.Equal(State{Members: []int{0, 1}}) {
		t.Fatal("State.Equal is wrong")
	}
}
