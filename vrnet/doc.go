// Package vrnet runs vr.Node and vr.Client over TCP, so that the replicas of
// a VR group can be separate processes on separate machines.
//
// Connections. Each replica listens on its address. A replica sends to
// replica j over one persistent connection that it dials itself; the
// connection is one-way (j never writes on it), is redialled with
// exponential backoff when it breaks, and has a bounded queue in front of
// it, so vr.Node's Send never blocks: when the queue is full, or the peer is
// unreachable, messages are dropped, as a network would, and the protocol
// resends what matters. A client dials each replica once and multiplexes its
// calls on that connection, from any number of goroutines and vr.Clients:
// a writer goroutine per connection sends everything queued in one write,
// and the reader hands each reply to its call by call id. A replica answers
// a request from the goroutine that commits it (vr.Node.Submit): the
// replies of one batch go out together (vr.ReplyBatcher), through a writer
// that tries the socket without waiting and leaves the rest to a goroutine,
// so a slow client never stalls the replica. Server puts the same client protocol
// in front of any Handler (the benchmark's unreplicated server uses it).
//
// Frames. Everything on a connection is a frame:
//
//	uint32 length (big-endian) of what follows, 2 ≤ length ≤ the size limit
//	byte   version (Version)
//	byte   kind (hello, message, request, reply, status, status reply)
//	…      payload, in the hand-written codec of codec.go
//
// The first frame on a connection is a hello naming the sender: a replica
// of the configuration, or a client. A frame that is malformed, oversized,
// of the wrong version or kind, or a replica message whose sender is not the
// replica that said hello, is logged and the connection closed; nothing a
// peer sends can make the process panic.
//
// Security. With a TLS configuration (see LoadTLS and GenerateDevCerts),
// every connection is mutual TLS against the cluster's CA: a peer without a
// certificate the CA signed is refused, and only a certificate made for a
// replica (organizational unit "replica") may say hello as a replica.
package vrnet
