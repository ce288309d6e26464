package main

// Part KV (LAB-KV.md).

const (
	kvServer = "kvvr/server.go"
	kvClient = "kvvr/client.go"
	kvCodec  = "kvvr/codec.go"
)

var partKV = []Mutant{
	{
		Name: "kv-clerk-retry-new-request", Part: "KV", Breaks: "LAB-KV: dedup in the clerk (giving up and sending the op again as a new request)",
		Edits: []Edit{
			edit(kvClient, "import (\n\t\"context\"\n\t\"fmt\"\n", "import (\n\t\"context\"\n\t\"fmt\"\n\t\"time\"\n"),
			edit(kvClient, "	result, err := ck.vc.InvokeContext(ctx, EncodeOp(op))\n",
				`	var result []byte
	var err error
	for {
		try, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		result, err = ck.vc.InvokeContext(try, EncodeOp(op))
		cancel()
		if err == nil || ctx.Err() != nil {
			break
		}
	}
`),
		},
		Tests: []string{"TestStalledCommitKV", "TestConcurrentAppendKV"},
	},
	{
		Name: "kv-clerk-new-client-retry", Part: "KV", Breaks: "LAB-KV: dedup in the clerk (a new vr.Client to retry)",
		Edits: []Edit{
			edit(kvClient, "import (\n\t\"context\"\n\t\"fmt\"\n", "import (\n\t\"context\"\n\t\"fmt\"\n\t\"time\"\n"),
			edit(kvClient, "type Clerk struct {\n	vc *vr.Client\n}", "type Clerk struct {\n	vc      *vr.Client\n	servers []*labrpc.ClientEnd\n}"),
			edit(kvClient, "	return &Clerk{vc: vr.MakeClient(servers)}\n", "	return &Clerk{vc: vr.MakeClient(servers), servers: servers}\n"),
			edit(kvClient, "	result, err := ck.vc.InvokeContext(ctx, EncodeOp(op))\n",
				`	var result []byte
	var err error
	for {
		try, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		result, err = ck.vc.InvokeContext(try, EncodeOp(op))
		cancel()
		if err == nil || ctx.Err() != nil || ck.servers == nil {
			break
		}
		ck.vc = vr.MakeClient(ck.servers) // a fresh client for the retry
	}
`),
		},
		Tests: []string{"TestStalledCommitKV", "TestConcurrentAppendKV"},
	},
	{
		Name: "kv-unsorted-snapshot", Part: "KV", Breaks: "LAB-KV: unsorted snapshots",
		Edits: []Edit{edit(kvServer, "	slices.Sort(keys)\n", "	_ = slices.Sort[[]string]\n")},
		Tests: []string{"TestStateMachineKV", "TestBasicKV"},
	},
	{
		Name: "kv-snapshot-logs-ops", Part: "KV", Breaks: "LAB-KV: a snapshot that isn't the state (it logs the ops applied)",
		Edits: []Edit{edit(kvServer, "	kv.mu.Lock()\n	defer kv.mu.Unlock()\n	switch o.Kind {\n",
			"	kv.mu.Lock()\n	defer kv.mu.Unlock()\n	kv.data[\"\\x00applied\"] += string(op)\n	switch o.Kind {\n")},
		Tests: []string{"TestCheckpointKV", "TestStateMachineKV"},
	},
	{
		Name: "kv-restore-merges", Part: "KV", Breaks: "LAB-KV: restore merging instead of replacing",
		Edits: []Edit{edit(kvServer, "	kv.data = data\n", "	for k, v := range data {\n		kv.data[k] = v\n	}\n")},
		Tests: []string{"TestStateMachineKV"},
	},
	{
		Name: "kv-panic-on-bad-op", Part: "KV", Breaks: "LAB-KV: panicking on a malformed op",
		Edits: []Edit{edit(kvServer, "	o, err := DecodeOp(op)\n	if err != nil {\n		return errorResult(err)\n	}\n	kv.mu.Lock()\n	defer kv.mu.Unlock()\n	switch",
			"	o, err := DecodeOp(op)\n	if err != nil {\n		panic(err)\n	}\n	kv.mu.Lock()\n	defer kv.mu.Unlock()\n	switch")},
		Tests: []string{"TestStateMachineKV"},
	},
	{
		Name: "kv-decode-len-unchecked", Part: "KV", Breaks: "LAB-KV: panicking on a malformed op (a length beyond the bytes left)",
		Edits: []Edit{edit(kvCodec, "	if n > uint64(len(b)) {\n		return \"\", nil, fmt.Errorf(\"length %d beyond the %d bytes left\", n, len(b))\n	}\n", "")},
		Tests: []string{"TestStateMachineKV"},
	},
	{
		Name: "kv-decode-len-as-int", Part: "KV", Breaks: "LAB-KV: panicking on a malformed op (a length that does not fit in an int)",
		Edits: []Edit{edit(kvCodec, "	if n > uint64(len(b)) {\n", "	if int(n) > len(b) {\n")},
		Tests: []string{"TestStateMachineKV"},
	},
	{
		Name: "kv-keeps-op-bytes", Part: "KV", Breaks: "LAB-KV: keeping the op's bytes (an unsafe conversion aliases VR's log entry)",
		Edits: []Edit{
			edit(kvCodec, "\t\"errors\"\n\t\"fmt\"\n)", "\t\"errors\"\n\t\"fmt\"\n\t\"unsafe\"\n)"),
			edit(kvCodec, "	return string(b[:n]), b[n:], nil\n", "	return unsafe.String(unsafe.SliceData(b), int(n)), b[n:], nil\n"),
		},
		Tests: []string{"TestStateMachineKV"},
	},
	{
		Name: "kv-clerk-cached-get", Part: "KV", Breaks: "LAB-KV: a Get answered locally (from the clerk's cache of what it saw)",
		Edits: []Edit{
			edit(kvClient, "type Clerk struct {\n	vc *vr.Client\n}", "type Clerk struct {\n	vc    *vr.Client\n	cache map[string]string\n}"),
			edit(kvClient, "	return ck.read(ctx, Op{Kind: OpGet, Key: key})\n",
				"	if v, ok := ck.cache[key]; ok {\n		return v, nil\n	}\n	return ck.read(ctx, Op{Kind: OpGet, Key: key})\n"),
			edit(kvClient, "		return \"\", fmt.Errorf(\"%v: %w\", op, err)\n	}\n	return v, nil\n",
				`		return "", fmt.Errorf("%v: %w", op, err)
	}
	if ck.cache == nil {
		ck.cache = map[string]string{}
	}
	switch op.Kind {
	case OpGet:
		ck.cache[op.Key] = v
	case OpPut:
		ck.cache[op.Key] = op.Value
	case OpAppend:
		delete(ck.cache, op.Key)
	}
	return v, nil
`),
		},
		Tests: []string{"TestBasicKV", "TestMinorityPartitionKV", "TestConcurrentKV"},
	},
	{
		Name: "kv-append-as-get-put", Part: "KV", Breaks: "LAB-KV: Append in the clerk as a Get and a Put",
		Edits: []Edit{edit(kvClient, "	_, err := ck.invoke(ctx, Op{Kind: OpAppend, Key: key, Value: value})\n",
			"	old, err := ck.invoke(ctx, Op{Kind: OpGet, Key: key})\n	if err != nil {\n		return err\n	}\n	_, err = ck.invoke(ctx, Op{Kind: OpPut, Key: key, Value: old + value})\n")},
		Tests: []string{"TestConcurrentAppendKV", "TestConcurrentKV"},
	},
	{
		Name: "kv-start-waits-normal", Part: "KV", Breaks: "LAB-KV: locking around vr.Make (StartKVServer waits for the replica to be normal)",
		Edits: []Edit{
			edit(kvServer, "\t\"sync\"\n", "\t\"sync\"\n\t\"time\"\n"),
			edit(kvServer, "	kv.node = vr.Make(servers, me, kv, opts)\n	return kv\n",
				"	kv.mu.Lock()\n	kv.node = vr.Make(servers, me, kv, opts)\n	for kv.node.State().Status != vr.Normal {\n		time.Sleep(10 * time.Millisecond)\n	}\n	kv.mu.Unlock()\n	return kv\n"),
		},
		Tests: []string{"TestStateMachineKV"},
	},
}
