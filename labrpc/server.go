package labrpc

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"vrlab/labgob"
)

// Server is a collection of services reachable under one server name.
type Server struct {
	mu       sync.Mutex
	services map[string]*Service
	count    atomic.Int64 // RPCs delivered to this server
}

// MakeServer returns a server with no services.
func MakeServer() *Server {
	return &Server{services: map[string]*Service{}}
}

// AddService makes svc's methods callable as "Name.Method", where Name is
// the type name of the receiver passed to MakeService.
func (rs *Server) AddService(svc *Service) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.services[svc.name] = svc
}

// GetCount reports how many RPCs have been delivered to this server.
func (rs *Server) GetCount() int {
	return int(rs.count.Load())
}

// dispatch runs the handler named by svcMeth ("Service.Method") on the
// encoded args and returns the encoded reply.
func (rs *Server) dispatch(svcMeth string, args []byte) ([]byte, error) {
	rs.count.Add(1)

	dot := strings.LastIndex(svcMeth, ".")
	if dot < 0 {
		return nil, fmt.Errorf("labrpc: malformed method name %q; want \"Service.Method\"", svcMeth)
	}
	svcName, methName := svcMeth[:dot], svcMeth[dot+1:]

	rs.mu.Lock()
	svc, ok := rs.services[svcName]
	names := sortedKeys(rs.services)
	rs.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("labrpc: unknown service %q in %q; server has: %s",
			svcName, svcMeth, strings.Join(names, ", "))
	}
	return svc.dispatch(methName, args)
}

// Service is one receiver object whose suitable methods can be called
// remotely.
type Service struct {
	name    string
	rcvr    reflect.Value
	methods map[string]reflect.Method
}

// MakeService wraps rcvr, usually a pointer to a struct. Every method of the
// form
//
//	func (r *T) Name(args *A, reply *R)
//
// becomes callable as "T.Name"; other methods are ignored, so a service may
// have ordinary helpers such as Kill.
func MakeService(rcvr any) *Service {
	svc := &Service{
		name:    reflect.Indirect(reflect.ValueOf(rcvr)).Type().Name(),
		rcvr:    reflect.ValueOf(rcvr),
		methods: map[string]reflect.Method{},
	}
	t := reflect.TypeOf(rcvr)
	for i := 0; i < t.NumMethod(); i++ {
		if m := t.Method(i); isHandler(m) {
			svc.methods[m.Name] = m
		}
	}
	return svc
}

// isHandler reports whether m has the shape of an RPC handler: exported,
// two pointer arguments (after the receiver) and no results.
func isHandler(m reflect.Method) bool {
	mt := m.Type
	return m.IsExported() &&
		mt.NumIn() == 3 &&
		mt.In(1).Kind() == reflect.Pointer &&
		mt.In(2).Kind() == reflect.Pointer &&
		mt.NumOut() == 0
}

// dispatch decodes args into a fresh value, runs the handler and encodes
// what it left in a fresh reply.
func (svc *Service) dispatch(methName string, args []byte) ([]byte, error) {
	m, ok := svc.methods[methName]
	if !ok {
		return nil, fmt.Errorf("labrpc: unknown method \"%s.%s\"; service %s has: %s",
			svc.name, methName, svc.name, strings.Join(sortedKeys(svc.methods), ", "))
	}

	argv := reflect.New(m.Type.In(1).Elem())
	if err := labgob.NewDecoder(bytes.NewReader(args)).Decode(argv.Interface()); err != nil {
		return nil, fmt.Errorf("labrpc: decoding args for %s.%s: %w", svc.name, methName, err)
	}
	replyv := reflect.New(m.Type.In(2).Elem())

	m.Func.Call([]reflect.Value{svc.rcvr, argv, replyv})

	var buf bytes.Buffer
	if err := labgob.NewEncoder(&buf).EncodeValue(replyv); err != nil {
		return nil, fmt.Errorf("labrpc: encoding reply of %s.%s: %w", svc.name, methName, err)
	}
	return buf.Bytes(), nil
}

// sortedKeys returns m's keys in order, for stable error messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
