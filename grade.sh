#!/usr/bin/env bash
#
# grade.sh: run the graded tests of the VR lab and report a score.
#
# Run ./grade.sh -h for usage. The grading table below is the single
# source of truth for which tests are graded, and for how many points;
# `go run ./cmd/handout -verify` reads it too, so keep its format.

set -euo pipefail

# ---------------------------------------------------------------------------
# Grading table: one row per graded test: test name, part, points.
# Rows are whitespace-separated; blank lines and lines starting with # are
# ignored. Tests live in package vrlab/tests (directory ./tests).
# ---------------------------------------------------------------------------
read -r -d '' GRADING_TABLE <<'END_OF_TABLE' || true
# Part A: view changes
TestInitialViewA                      A     7
TestPrimaryFailureA                   A     9
TestNoQuorumA                         A    10
TestNewPrimaryFailsA                  A    10
TestManyViewChangesA                  A     8
TestUnreliableViewChangeA             A     8
TestMessageBudgetA                    A     6
TestOwnStartViewChangeA               A     7
TestStartViewChangeLostA              A     7
TestLateStartViewChangeA              A     6
TestSimSweepA                         A     9
TestSearchViewChangeA                 A     5
TestSearchPrimarySilentA              A     4
TestSearchOwnStartViewChangeA         A     4

# Part B: normal-case agreement
TestBasicAgreeB                       B     3
TestByteBudgetB                       B    3
TestBackupFailureB                    B     3
TestPrimaryFailureB                   B     3
TestFailAgreeB                        B    3
TestFailNoAgreeB                      B     5
TestConcurrentClientsB                B    3
TestDuplicateRequestsB                B     4
TestRejoinB                           B     4
TestDivergentLogsB                    B     5
TestDroppedOpRetriedB                 B     6
TestLaggingReplicaNewerViewB          B     6
TestLogChoiceByViewB                  B    3
TestUnreliableAgreeB                  B    3
TestMessageBudgetB                    B     3
TestSequentialSpeedB                  B     3
TestSimSweepB                         B     6
TestSearchCommitB                     B    3
TestSearchStateTransferB              B    3
TestSearchStateTransferKeepsLogB      B     4
TestPrepareIsHeartbeatB               B     3
TestStartViewAcksB                    B     3
TestStateTransferTimeoutB             B     3
TestKeepLogInStateTransferB           B     5
TestGetStateOnlyWhenNormalB           B     3
TestOneWayPrimaryB                    B    4
TestBusyNoViewChangeB                 B    3

# Part C: crash recovery
TestBackupCrashRecoverC               C     6
TestPrimaryCrashRecoverC              C     6
TestCrashEachInTurnC                  C     5
TestNextPrimaryCrashC                 C    7
TestUnreliableRecoveryC               C     5
TestChurnC                            C     5
TestChurnUnreliableC                  C    7
TestRecoveringNoQuorumC               C     6
TestRapidPrimaryCrashesC              C     5
TestRecoveryLatestPrimaryC            C     7
TestSimSweepC                         C     8
TestSearchRecoveryC                   C     6
TestSearchRecoveryDuringViewChangeC   C     6
TestRecoveryAcrossResendsC            C     8
TestRecoveryStaleAnswersC             C     6
TestRecoveredAckC                     C     7

# Part D: checkpoints and state transfer
TestLogBoundedD                       D    8
TestCatchUpViaCheckpointD             D   12
TestCatchUpViaCheckpointUnreliableD   D   8
TestRecoverFromCheckpointD            D   12
TestRecoverUnreliableCrashD           D   12
TestNewPrimaryBehindD                 D   12
TestClientTableCheckpointD            D   8
TestLargeStateCheckpointD             D   8
TestSimSweepD                         D    8
TestCheckpointBytesD                  D    6
TestCheckpointInBatchD                D    6

# Part KV: key/value service on VR.
TestBasicKV                           KV    5
TestConcurrentKV                      KV    7
TestUnreliableKV                      KV    7
TestConcurrentAppendKV                KV    8
TestMinorityPartitionKV               KV   9
TestPartitionsOneClientKV             KV    7
TestPartitionsManyClientsKV           KV    7
TestCrashRecoverKV                    KV    7
TestCrashPartitionUnreliableKV        KV   8
TestCheckpointKV                      KV   9
TestLinearizable7KV                   KV   8
TestSequentialSpeedKV                 KV    5
TestStateMachineKV                    KV    8
TestStalledCommitKV                   KV    5

# Part SC: shard controller.
TestJoinLeaveBasicSC                  SC   10
TestHistoricalQueriesSC               SC   15
TestMoveSC                            SC   10
TestConcurrentJoinLeaveSC             SC   15
TestMinimalTransferJoinSC             SC   10
TestMinimalTransferLeaveSC            SC   10
TestMultiJoinLeaveSC                  SC   10
TestAgreeAfterPrimaryCrashSC          SC   10
TestUnreliableSC                      SC   10
# Part E: reconfiguration with epochs.
TestGrowE                             E    4
TestShrinkE                           E    4
TestLeavingServesStateE               E    6
TestReplacePrimaryE                   E    4
TestReplaceAllE                       E    4
TestChangeFE                          E    4
TestUnreliableReconfigE               E    5
TestOldPrimaryCrashPreparedE          E    6
TestOldPrimaryCrashCommittedE         E    6
TestPartitionedNewReplicasE           E    6
TestStaleClientE                      E    4
TestRemovedReplicaQuietE              E    5
TestSecondReconfigRefusedE            E    5
TestSleeperE                          E    4
TestNewPrimaryDeadE                   E    4
TestInheritedOpsE                     E    5
TestBadReconfigE                      E    3
TestKVReconfigE                       E    6
TestSCReconfigE                       E    3
TestOldBackupsServeStateE             E    4
TestSimSweepE                         E    8

# Part F: fast reads with leases.
TestLeaseReadNoMessagesF              F    12
TestLeaseFromSendF                    F    10
TestPromiseF                          F    12
TestNewPrimaryFirstReadF              F    12
TestReadFallbackF                     F    10
TestLeaseTooLongF                     F     5
TestHeartbeatAnswersF                 F     5
TestStalePartitionF                   F    12
TestMixedUnreliableF                  F    12
TestSimSweepF                         F    10
END_OF_TABLE

readonly ALL_PARTS=(A B C D KV SC E F)
readonly TEST_PKG_DIR=tests
readonly LOG_ROOT=grade-logs
readonly TAIL_LINES=40

usage() {
	cat <<EOF
Usage: ./grade.sh [-n N] [-p P] [-t TIMEOUT] [-race] [-v] [PART...]

Runs the graded tests of the chosen parts (A B C D KV SC E F, any case;
default: all parts) and reports a score.

Options:
  -n N        stress mode: run every test N times and report pass counts
  -p P        with -n, run P test processes at a time (default 2)
  -t TIMEOUT  time limit for one run of one test, as a Go duration
              (default 5m)
  -race       build the tests with the race detector
  -v          stream each test's output (with -n: print the output of
              every failed run)
  -h          show this help

Without -n, each test runs once, one at a time: one line per test, the
grader's summary lines, then the score of each part and the total.
Logs of failed runs are kept under ./$LOG_ROOT/.

Exit status: 0 if every run passed, 1 if any run failed, 2 on a usage
error or if ./$TEST_PKG_DIR does not build.
EOF
}

die() {
	echo "grade.sh: $*" >&2
	exit 2
}

# ---------------------------------------------------------------------------
# Parse the command line.
# ---------------------------------------------------------------------------
runs=0        # 0: grading mode; N > 0: stress mode
parallel=2
timeout=5m
race=false
verbose=false
parts=()

is_positive_int() {
	[[ $1 =~ ^[1-9][0-9]*$ ]]
}

# canonical_part prints the canonical spelling of part $1, or fails.
canonical_part() {
	local want=${1^^} p
	for p in "${ALL_PARTS[@]}"; do
		if [[ $p == "$want" ]]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

while (($# > 0)); do
	case $1 in
	-h | -help | --help)
		usage
		exit 0
		;;
	-n | -p | -t)
		(($# >= 2)) || die "option $1 needs a value (see -h)"
		case $1 in
		-n)
			is_positive_int "$2" || die "-n wants a positive number, got '$2'"
			runs=$2
			;;
		-p)
			is_positive_int "$2" || die "-p wants a positive number, got '$2'"
			parallel=$2
			;;
		-t)
			[[ $2 =~ ^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$ ]] ||
				die "-t wants a Go duration such as 90s or 5m, got '$2'"
			timeout=$2
			;;
		esac
		shift 2
		;;
	-race)
		race=true
		shift
		;;
	-v)
		verbose=true
		shift
		;;
	-*)
		die "unknown option $1 (see -h)"
		;;
	*)
		part=$(canonical_part "$1") || die "unknown part '$1' (parts: ${ALL_PARTS[*]})"
		parts+=("$part")
		shift
		;;
	esac
done

# Select parts in canonical order, once each, whatever order they were given in.
selected=()
for p in "${ALL_PARTS[@]}"; do
	if ((${#parts[@]} == 0)) || [[ " ${parts[*]} " == *" $p "* ]]; then
		selected+=("$p")
	fi
done

# ---------------------------------------------------------------------------
# Load the grading table.
# ---------------------------------------------------------------------------
declare -A part_of=()   # test name -> part
declare -A points_of=() # test name -> points
table_order=()          # test names in table order

while read -r name part points extra; do
	[[ -z $name || $name == \#* ]] && continue
	if [[ -n $extra || $(canonical_part "$part" || true) != "$part" || ! $points =~ ^[0-9]+$ ]]; then
		die "bad grading table row: $name $part $points $extra"
	fi
	[[ -z ${part_of[$name]:-} ]] || die "grading table lists $name twice"
	part_of[$name]=$part
	points_of[$name]=$points
	table_order+=("$name")
done <<<"$GRADING_TABLE"

# ---------------------------------------------------------------------------
# Helpers.
# ---------------------------------------------------------------------------

# now_us prints the wall clock in microseconds.
now_us() {
	echo "${EPOCHREALTIME/./}"
}

# seconds prints a duration given in microseconds as seconds, e.g. 12.3s.
seconds() {
	local tenths=$((($1 + 50000) / 100000))
	echo "$((tenths / 10)).$((tenths % 10))s"
}

# run_test NAME runs test NAME once, in the test package's directory (where
# `go test` would run it). It execs the test binary, replacing the shell it
# runs in, so call it in a subshell or as a background job: the job's pid
# is then the test binary's, and its exit status the binary's.
run_test() {
	cd "$TEST_PKG_DIR"
	exec "$test_bin" -test.run "^$1\$" -test.count=1 -test.v \
		-test.timeout "$timeout"
}

# show_progress NAME DONE FAILED FINISHED TOTAL reports that test NAME has
# DONE of its runs done, FAILED of them failed, and that FINISHED of all
# TOTAL runs are done. On a terminal it rewrites one line in place;
# otherwise it prints a line when the last run of a test is done.
show_progress() {
	local line="$1 $2/$runs done, $3 failed"
	if [[ -t 1 ]]; then
		printf '\r\033[K[%d/%d] %s' "$4" "$5" "$line"
	elif (($2 == runs)); then
		echo "$line"
	fi
}

# ---------------------------------------------------------------------------
# Build the test binary once, and find out which tests exist.
# ---------------------------------------------------------------------------
cd "$(dirname "${BASH_SOURCE[0]}")"

tmp=$(realpath "$(mktemp -d -t grade.XXXXXX)")
running=() # pids of test processes still running (stress mode)
# shellcheck disable=SC2317 # cleanup is called by the EXIT trap.
cleanup() {
	if ((${#running[@]} > 0)); then
		kill "${running[@]}" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ -d $TEST_PKG_DIR ]] || die "./$TEST_PKG_DIR does not exist yet: nothing to grade"

test_bin=$tmp/tests.test
build_flags=()
if $race; then
	build_flags+=(-race)
fi
echo "Building ./$TEST_PKG_DIR${build_flags[*]:+ with ${build_flags[*]}}..."
if ! go test -c "${build_flags[@]}" -o "$test_bin" "./$TEST_PKG_DIR" >"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log" >&2
	die "./$TEST_PKG_DIR does not build (errors above)"
fi
[[ -x $test_bin ]] || die "./$TEST_PKG_DIR has no tests yet: nothing to grade"

declare -A present=() # test name -> 1, for every test in the binary
while read -r name; do
	if [[ $name == Test* ]]; then
		present[$name]=1
	fi
done < <(cd "$TEST_PKG_DIR" && "$test_bin" -test.list '.*')

# Tests to run: the present tests of the selected parts, in table order.
# A part none of whose tests is present is "not present yet"; a missing
# test of a present part is reported, and scores nothing.
to_run=()
declare -A part_present=() # part -> how many of its tests are present
for p in "${selected[@]}"; do
	part_present[$p]=0
	for name in "${table_order[@]}"; do
		if [[ ${part_of[$name]} == "$p" && -n ${present[$name]:-} ]]; then
			to_run+=("$name")
			part_present[$p]=$((part_present[$p] + 1))
		fi
	done
done

# Say which tests of the binary the table does not grade, so that the
# table and ./tests do not drift apart unnoticed.
ungraded=()
for name in "${!present[@]}"; do
	if [[ -z ${part_of[$name]:-} ]]; then
		ungraded+=("$name")
	fi
done
if ((${#ungraded[@]} > 0)); then
	mapfile -t ungraded < <(printf '%s\n' "${ungraded[@]}" | sort)
	echo "note: not in the grading table, not run: ${ungraded[*]}"
fi

log_dir=$LOG_ROOT/$(date +%Y%m%d-%H%M%S)-$$ # unique even for runs started together
start_us=$(now_us)

# ---------------------------------------------------------------------------
# Grading mode: every test once, one at a time, then the score.
# ---------------------------------------------------------------------------
grade() {
	local -A passed=() # test name -> 1
	local failures=0 name log t0 elapsed status

	for p in "${selected[@]}"; do
		if ((part_present[$p] == 0)); then
			continue
		fi
		for name in "${table_order[@]}"; do
			[[ ${part_of[$name]} == "$p" ]] || continue
			if [[ -z ${present[$name]:-} ]]; then
				printf '%-38s %-11s %7s %7s\n' "$name" "not present" "" "0/${points_of[$name]}"
				continue
			fi

			log=$tmp/$name.log
			t0=$(now_us)
			if $verbose; then
				echo "=== $name"
				# Stream the output; tee keeps a copy for the summary.
				if (run_test "$name") 2>&1 | tee "$log"; then status=0; else status=$?; fi
			else
				if (run_test "$name") >"$log" 2>&1; then status=0; else status=$?; fi
			fi
			elapsed=$(seconds $(($(now_us) - t0)))

			if ((status == 0)); then
				passed[$name]=1
				printf '%-38s %-11s %7s %7s\n' "$name" PASS "$elapsed" "${points_of[$name]}/${points_of[$name]}"
			else
				failures=$((failures + 1))
				printf '%-38s %-11s %7s %7s\n' "$name" FAIL "$elapsed" "0/${points_of[$name]}"
			fi
			# The grader's own report: RPC, byte and op counts.
			grep -E '^(Test \(|  \.\.\. Passed)' "$log" | sed 's/^/    /' || true
			if ((status != 0)); then
				mkdir -p "$log_dir"
				cp "$log" "$log_dir/$name.log"
				if ! $verbose; then
					echo "    --- last $TAIL_LINES lines of output:"
					tail -n "$TAIL_LINES" "$log" | sed 's/^/    | /'
				fi
				echo "    --- full log: $log_dir/$name.log"
				if [[ -n ${VRDEBUG:-} ]]; then
					echo "    --- read it by replica: go run ./cmd/vrlog $log_dir/$name.log"
				else
					echo "    --- for a trace by replica: VRDEBUG=view,state ./grade.sh $p, then go run ./cmd/vrlog on the kept log"
				fi
			fi
		done
	done

	# Score per part; a part with no test present scores nothing and does
	# not count towards the total.
	local earned total part_earned part_total
	earned=0 total=0
	echo
	for p in "${selected[@]}"; do
		if ((part_present[$p] == 0)); then
			echo "Part $p: not present yet"
			continue
		fi
		part_earned=0 part_total=0
		for name in "${table_order[@]}"; do
			[[ ${part_of[$name]} == "$p" ]] || continue
			part_total=$((part_total + points_of[$name]))
			if [[ -n ${passed[$name]:-} ]]; then
				part_earned=$((part_earned + points_of[$name]))
			fi
		done
		echo "Part $p: $part_earned/$part_total"
		earned=$((earned + part_earned))
		total=$((total + part_total))
	done
	echo "Total: $earned/$total"
	echo "Wall time: $(seconds $(($(now_us) - start_us)))"

	if ((failures > 0)); then
		echo "$failures test(s) failed; their logs are in $log_dir/"
		return 1
	fi
}

# ---------------------------------------------------------------------------
# Stress mode: every test N times, P processes at a time.
# ---------------------------------------------------------------------------
stress() {
	local -A done_runs=() fail_runs=() total_us=() # test name -> count
	local -A job_name=() job_index=() job_start=() # pid -> run details
	local jobs=() next=0 finished=0 failures=0
	local name i pid status log still marker

	for name in "${to_run[@]}"; do
		done_runs[$name]=0 fail_runs[$name]=0 total_us[$name]=0
		for ((i = 1; i <= runs; i++)); do
			jobs+=("$name $i")
		done
	done

	echo "Running ${#to_run[@]} test(s) $runs time(s) each, $parallel at a time."
	mkdir -p "$tmp/runs"

	while ((finished < ${#jobs[@]})); do
		# Keep $parallel runs going.
		while ((${#running[@]} < parallel && next < ${#jobs[@]})); do
			read -r name i <<<"${jobs[next]}"
			run_test "$name" >"$tmp/runs/$name-$i.log" 2>&1 &
			pid=$!
			running+=("$pid")
			job_name[$pid]=$name job_index[$pid]=$i job_start[$pid]=$(now_us)
			next=$((next + 1))
		done

		# Wait for any one of them to finish (wait -p needs bash 5.1).
		if wait -n -p pid "${running[@]}"; then status=0; else status=$?; fi
		still=()
		for i in "${running[@]}"; do
			if ((i != pid)); then
				still+=("$i")
			fi
		done
		running=("${still[@]}")

		name=${job_name[$pid]} i=${job_index[$pid]}
		finished=$((finished + 1))
		done_runs[$name]=$((done_runs[$name] + 1))
		total_us[$name]=$((total_us[$name] + $(now_us) - job_start[$pid]))
		log=$tmp/runs/$name-$i.log
		if ((status == 0)); then
			rm -f "$log"
		else
			failures=$((failures + 1))
			fail_runs[$name]=$((fail_runs[$name] + 1))
			mkdir -p "$log_dir"
			mv "$log" "$log_dir/$name-$i.log"
			if [[ -t 1 ]]; then
				printf '\r\033[K'
			fi
			echo "FAIL $name run $i: log in $log_dir/$name-$i.log (by replica: go run ./cmd/vrlog $log_dir/$name-$i.log)"
			if $verbose; then
				sed 's/^/    | /' "$log_dir/$name-$i.log"
			fi
		fi
		show_progress "$name" "${done_runs[$name]}" "${fail_runs[$name]}" "$finished" "${#jobs[@]}"
	done
	if [[ -t 1 ]]; then
		echo
	fi

	echo
	echo "Passed runs per test:"
	for name in "${to_run[@]}"; do
		marker=""
		if ((fail_runs[$name] > 0)); then
			marker="  <-- FAILED"
		fi
		printf '  %-38s %4d/%-4d avg %6s%s\n' "$name" \
			$((runs - fail_runs[$name])) "$runs" \
			"$(seconds $((total_us[$name] / runs)))" "$marker"
	done
	echo "Wall time: $(seconds $(($(now_us) - start_us)))"
	if ((failures > 0)); then
		echo "$failures of ${#jobs[@]} runs failed; their logs are in $log_dir/"
		return 1
	fi
	echo "All ${#jobs[@]} runs passed."
}

# ---------------------------------------------------------------------------
# Main.
# ---------------------------------------------------------------------------
if ((runs == 0)); then
	if grade; then exit 0; else exit 1; fi
fi

# Stress mode: absent parts and tests are only reported.
for p in "${selected[@]}"; do
	if ((part_present[$p] == 0)); then
		echo "Part $p: not present yet"
		continue
	fi
	for name in "${table_order[@]}"; do
		if [[ ${part_of[$name]} == "$p" && -z ${present[$name]:-} ]]; then
			echo "$name: not present"
		fi
	done
done
if ((${#to_run[@]} == 0)); then
	echo "No graded test of the chosen parts is present: nothing to run."
	exit 0
fi
if stress; then exit 0; else exit 1; fi
