// Package labgob is a thin wrapper around encoding/gob that catches two
// mistakes which gob itself silently tolerates and which cause baffling bugs
// in replicated-state-machine labs:
//
//  1. Struct fields with lower-case (unexported) names. Gob skips them
//     without complaint, so the receiver sees zero values.
//  2. Decoding into a value that is not zero. Gob does not transmit fields
//     whose value is zero, so such fields in the destination keep whatever
//     they held before decoding instead of being reset.
//
// Each problem is reported once per type, as a log line on standard error,
// and counted; WarningCount lets tests assert that no warning occurred.
package labgob

import (
	"encoding/gob"
	"io"
	"log"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
)

// logger receives the warnings. It is a variable so tests can capture output.
var logger = log.New(os.Stderr, "labgob: ", log.LstdFlags)

// warningCount counts every warning printed since the program started.
var warningCount atomic.Int64

// checkMu guards the two sets below, which make each warning appear only once
// per type: repeating it for every RPC would drown the useful output.
var (
	checkMu       sync.Mutex
	checkedTypes  = map[reflect.Type]bool{}
	warnedNonZero = map[reflect.Type]bool{}
)

// WarningCount reports how many warnings labgob has printed so far.
func WarningCount() int {
	return int(warningCount.Load())
}

// LabEncoder is a gob.Encoder that also checks the types it encodes.
type LabEncoder struct {
	gob *gob.Encoder
}

// NewEncoder returns an encoder that writes to w.
func NewEncoder(w io.Writer) *LabEncoder {
	return &LabEncoder{gob: gob.NewEncoder(w)}
}

// Encode checks the type of e for unexported fields, then gob-encodes it.
func (enc *LabEncoder) Encode(e any) error {
	checkValue(e)
	return enc.gob.Encode(e)
}

// EncodeValue is like Encode for a value already held as a reflect.Value.
func (enc *LabEncoder) EncodeValue(value reflect.Value) error {
	if value.IsValid() {
		checkType(value.Type())
	}
	return enc.gob.EncodeValue(value)
}

// LabDecoder is a gob.Decoder that also checks the values it decodes into.
type LabDecoder struct {
	gob *gob.Decoder
}

// NewDecoder returns a decoder that reads from r.
func NewDecoder(r io.Reader) *LabDecoder {
	return &LabDecoder{gob: gob.NewDecoder(r)}
}

// Decode reads the next value into e, which must be a pointer. It warns if
// the type has unexported fields or if *e is not the zero value.
func (dec *LabDecoder) Decode(e any) error {
	checkValue(e)
	checkZero(e)
	return dec.gob.Decode(e)
}

// Register records a concrete type that may travel inside an interface
// value; see gob.Register.
func Register(value any) {
	checkValue(value)
	gob.Register(value)
}

// RegisterName is like Register but uses the given name for the type; see
// gob.RegisterName.
func RegisterName(name string, value any) {
	checkValue(value)
	gob.RegisterName(name, value)
}

// checkValue checks the dynamic type of v, if it has one.
func checkValue(v any) {
	if v != nil {
		checkType(reflect.TypeOf(v))
	}
}

// checkType warns about unexported struct fields anywhere inside t. Each type
// is visited at most once, which also stops recursion on self-referential
// types such as linked lists.
func checkType(t reflect.Type) {
	if !markChecked(t) {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		checkStruct(t)
	case reflect.Array, reflect.Slice, reflect.Pointer:
		checkType(t.Elem())
	case reflect.Map:
		checkType(t.Key())
		checkType(t.Elem())
	}
}

// markChecked records t as visited and reports whether it was new.
func markChecked(t reflect.Type) bool {
	checkMu.Lock()
	defer checkMu.Unlock()
	if checkedTypes[t] {
		return false
	}
	checkedTypes[t] = true
	return true
}

// checkStruct warns once if t has unexported fields, then checks the types
// of all its fields.
func checkStruct(t reflect.Type) {
	var unexported []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			unexported = append(unexported, f.Name)
		}
		checkType(f.Type)
	}
	if len(unexported) > 0 {
		warn("type %v has lower-case field(s) %s; gob will not send them, so they arrive as zero values",
			t, strings.Join(unexported, ", "))
	}
}

// checkZero warns, once per type, when decoding into a non-zero value.
func checkZero(e any) {
	v := reflect.ValueOf(e)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().IsZero() {
		return
	}
	if !markWarnedNonZero(v.Type()) {
		return
	}
	warn("decoding into a non-zero %v; fields whose incoming value is zero "+
		"will keep their old contents (decode into a freshly allocated value)", v.Type())
}

// markWarnedNonZero records that t was reported and reports whether it was new.
func markWarnedNonZero(t reflect.Type) bool {
	checkMu.Lock()
	defer checkMu.Unlock()
	if warnedNonZero[t] {
		return false
	}
	warnedNonZero[t] = true
	return true
}

// warn prints one warning and counts it.
func warn(format string, args ...any) {
	warningCount.Add(1)
	logger.Printf(format, args...)
}
