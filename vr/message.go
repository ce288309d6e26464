package vr

import "fmt"

// MsgType names a VR protocol message. The names are the paper's.
type MsgType uint8

const (
	MsgRequest          MsgType = iota + 1 // client → primary: execute Op
	MsgReply                               // primary → client: the result of Op
	MsgNotPrimary                          // replica → client: "I am not the primary; my view is View"
	MsgPrepare                             // primary → backups: append Entries after OpNumber-len(Entries)
	MsgPrepareOK                           // backup → primary: my log holds every op up to OpNumber
	MsgCommit                              // primary → backups: ops up to CommitNumber are committed (the heartbeat)
	MsgStartViewChange                     // any → all: I want to move to View
	MsgDoViewChange                        // any → new primary: my log, for View
	MsgStartView                           // new primary → all: View starts with this log
	MsgGetState                            // lagging replica → one replica: send me the ops after OpNumber
	MsgNewState                            // answer to GETSTATE
	MsgRecovery                            // recovering replica → all: send me your state (Nonce)
	MsgRecoveryResponse                    // answer to RECOVERY
	MsgReconfiguration                     // administrator → primary: move the group to configuration Members (Part E)
	MsgStartEpoch                          // old group → added replicas: epoch Epoch starts after op OpNumber, Members replace OldMembers
	MsgEpochStarted                        // new member → leaving replicas: I hold the state of epoch Epoch
	MsgNewEpoch                            // replica → sender of an older epoch's message (replica or client): the group is in epoch Epoch; the fields of STARTEPOCH
	MsgCommitOK                            // backup → primary: heard the COMMIT or STARTVIEW sent at SentAt (Part F: the answer that grants a lease; sent only with leases on)
)

var msgNames = map[MsgType]string{
	MsgRequest: "REQUEST", MsgReply: "REPLY", MsgNotPrimary: "NOTPRIMARY",
	MsgPrepare: "PREPARE", MsgPrepareOK: "PREPAREOK", MsgCommit: "COMMIT",
	MsgStartViewChange: "STARTVIEWCHANGE", MsgDoViewChange: "DOVIEWCHANGE",
	MsgStartView: "STARTVIEW", MsgGetState: "GETSTATE", MsgNewState: "NEWSTATE",
	MsgRecovery: "RECOVERY", MsgRecoveryResponse: "RECOVERYRESPONSE",
	MsgReconfiguration: "RECONFIGURATION", MsgStartEpoch: "STARTEPOCH",
	MsgEpochStarted: "EPOCHSTARTED", MsgNewEpoch: "NEWEPOCH",
	MsgCommitOK: "COMMITOK",
}

func (t MsgType) String() string {
	if s, ok := msgNames[t]; ok {
		return s
	}
	return fmt.Sprintf("MsgType(%d)", uint8(t))
}

// ToClient is the To of a message addressed to a client rather than a replica.
const ToClient = -1

// Entry is one op in the log: the client's request. A RECONFIGURATION is
// an entry with Members set (and no Op): committing it ends the epoch.
type Entry struct {
	Op         []byte
	ClientID   int64
	RequestNum int
	Members    []int // RECONFIGURATION: the next epoch's configuration (Part E)
}

// Checkpoint is a snapshot of the executed state: the service's state after
// op OpNumber plus the client-table at that point (part D).
type Checkpoint struct {
	OpNumber    int
	State       []byte
	ClientTable []ClientRecord // sorted by ClientID, so equal tables encode equally
}

// ClientRecord is one client-table row: the latest executed request of a
// client and its result.
type ClientRecord struct {
	ClientID   int64
	RequestNum int
	Result     []byte
}

// Message is every VR message. One struct keeps the transports simple; each
// type uses the fields its comment in MsgType names.
type Message struct {
	Type     MsgType
	From, To int // replica numbers (indexes into the peers); To may be ToClient
	Epoch    int
	View     int

	OpNumber       int // n
	CommitNumber   int // k
	LastNormalView int // v' (DOVIEWCHANGE)

	// A log or a piece of one: Entries[i] has op-number LogStart+1+i. A message
	// that carries a log from op 1 of a compacted replica also carries the
	// Checkpoint at LogStart.
	LogStart   int
	Entries    []Entry
	Checkpoint *Checkpoint

	Nonce uint64 // RECOVERY / RECOVERYRESPONSE

	Primary int // NOTPRIMARY: the replica the sender believes is primary

	// Client fields (REQUEST, REPLY, NOTPRIMARY).
	ClientID   int64
	RequestNum int
	Op         []byte
	Result     []byte

	// Reconfiguration (Part E). RECONFIGURATION: Members is the requested
	// configuration. STARTEPOCH and NEWEPOCH: epoch Epoch began after op
	// OpNumber (executed in View of the epoch before) with configuration
	// Members, replacing OldMembers; a NEWEPOCH
	// to a client carries Members only. NOTPRIMARY carries Members too, so a
	// client learns the configuration. GETSTATE with Members: a new
	// member of that configuration asks for the epoch's committed state;
	// NEWSTATE with Members answers it, and only a joining member takes it.
	// REPLY: Err says why a RECONFIGURATION was refused.
	Members    []int
	OldMembers []int
	Err        string
	// Leases (Part F, lease.go). SentAt: on PREPARE, COMMIT and STARTVIEW,
	// the primary's tick when it sent the message; on PREPAREOK and
	// COMMITOK, the SentAt of the message answered. Grant: this PREPAREOK or
	// COMMITOK grants the primary a lease that runs from SentAt. ReadOnly:
	// a REQUEST whose op changes nothing, which the primary may serve from
	// its lease. All zero when leases are off.
	SentAt   int
	Grant    bool
	ReadOnly bool
}

func (m Message) String() string {
	switch m.Type {
	case MsgRequest, MsgReply, MsgNotPrimary:
		s := fmt.Sprintf("%v v%d c%d s%d", m.Type, m.View, m.ClientID, m.RequestNum)
		if m.ReadOnly {
			s += " read"
		}
		return s
	case MsgRecovery:
		return fmt.Sprintf("%v %d→%d x%d", m.Type, m.From, m.To, m.Nonce)
	case MsgReconfiguration:
		return fmt.Sprintf("%v e%d c%d s%d %v", m.Type, m.Epoch, m.ClientID, m.RequestNum, m.Members)
	case MsgStartEpoch, MsgNewEpoch:
		return fmt.Sprintf("%v %d→%d e%d n%d %v→%v", m.Type, m.From, m.To, m.Epoch, m.OpNumber, m.OldMembers, m.Members)
	case MsgEpochStarted:
		return fmt.Sprintf("%v %d→%d e%d", m.Type, m.From, m.To, m.Epoch)
	}
	s := fmt.Sprintf("%v %d→%d v%d n%d k%d", m.Type, m.From, m.To, m.View, m.OpNumber, m.CommitNumber)
	if m.Epoch > 0 {
		s = fmt.Sprintf("%v %d→%d e%d v%d n%d k%d", m.Type, m.From, m.To, m.Epoch, m.View, m.OpNumber, m.CommitNumber)
	}
	if m.Type == MsgDoViewChange {
		s += fmt.Sprintf(" v'%d", m.LastNormalView)
	}
	if len(m.Entries) > 0 || m.LogStart > 0 {
		s += fmt.Sprintf(" log(%d..%d]", m.LogStart, m.LogStart+len(m.Entries))
	}
	if m.Checkpoint != nil {
		s += fmt.Sprintf(" ckpt@%d", m.Checkpoint.OpNumber)
	}
	if m.Grant {
		s += fmt.Sprintf(" lease@%d", m.SentAt)
	}
	return s
}
