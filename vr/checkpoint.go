package vr

// Checkpoints and log compaction (VR-PROTOCOL.md §5; paper §5.1). Every
// CheckpointEvery executed ops the replica snapshots the service together
// with the client-table, and discards the log up to that point. A replica
// that needs discarded ops gets the checkpoint instead.

// maybeCheckpoint takes a checkpoint when CheckpointEvery ops were executed
// since the last one.
func (r *Replica) maybeCheckpoint() {
	//lab:begin D
	every := r.opts.CheckpointEvery
	if every == 0 || r.executed-r.checkpointOp() < every {
		return
	}
	cp := &Checkpoint{
		OpNumber:    r.executed,
		State:       r.sm.Snapshot(),
		ClientTable: r.clients.records(),
	}
	r.log = append([]Entry(nil), r.log[r.executed-r.logStart:]...)
	r.logStart = r.executed
	r.checkpoint = cp
	r.logf("ckpt", "R%d checkpoint at op %d (%d bytes), %d entries left", r.id, cp.OpNumber, len(cp.State), len(r.log))
	//lab:end
}

// installCheckpoint replaces this replica's executed state with cp, which
// must be newer than what it executed. The log before cp is discarded.
func (r *Replica) installCheckpoint(cp *Checkpoint) bool {
	//lab:begin D
	if cp.OpNumber <= r.executed {
		return false
	}
	r.logf("ckpt", "R%d installs checkpoint at op %d", r.id, cp.OpNumber)
	r.sm.Restore(cp.State)
	r.clients.restore(cp.ClientTable)
	r.executed = cp.OpNumber
	r.commitNumber = max(r.commitNumber, cp.OpNumber)
	r.logStart = cp.OpNumber
	r.opNumber = cp.OpNumber
	r.log = nil
	r.checkpoint = cp
	return true
	//lab:stub return false
	//lab:end
}
