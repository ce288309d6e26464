package harness

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"vrlab/vr"
)

// Reconfiguration (part E): the administrator's request and the waits that
// follow an epoch change.

// Reconfigure asks the group, as this client, to move to configuration
// members, and returns what vr.Client.Reconfigure returns, or an error
// naming the timeout if it has not returned by then.
func (cl *Client) Reconfigure(members []int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(cl.ctx, timeout)
	defer cancel()
	err := cl.vc.ReconfigureContext(ctx, members)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("client %d: reconfiguration to %v did not complete within %v", cl.id, members, timeout)
	}
	return err
}

// WaitEpoch waits until the group runs epoch e with configuration members:
// every connected live member is normal in one view of e with a primary
// among them, and every connected live replica outside members has stopped
// (a standby, retired if it was a member). It returns the primary.
func (c *Cluster) WaitEpoch(e int, members []int, timeout time.Duration) int {
	c.t.Helper()
	primary := -1
	c.Eventually(timeout, fmt.Sprintf("epoch %d with members %v normal, the others stopped", e, members), func() (bool, string) {
		primary = -1
		view := -1
		for _, i := range c.Connected() {
			st, ok := c.State(i)
			if !ok {
				continue
			}
			if !slices.Contains(members, i) {
				if st.Status != vr.Standby {
					return false, fmt.Sprintf("R%d (not a member) is %s", i, StateLabel(st))
				}
				continue
			}
			if st.Epoch != e || st.Status != vr.Normal || !slices.Equal(st.Members, members) || (view >= 0 && st.View != view) {
				return false, fmt.Sprintf("R%d is %s", i, StateLabel(st))
			}
			view = st.View
			if st.IsPrimary {
				primary = i
			}
		}
		return primary >= 0, fmt.Sprintf("no primary among the members %v in view %d", members, view)
	})
	return primary
}

// StateLabel describes a replica's state in a failure message: status,
// epoch, view, configuration and ops.
func StateLabel(st vr.State) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v in view %d of epoch %d %v, op %d committed %d executed %d", st.Status, st.View, st.Epoch, st.Members, st.OpNumber, st.CommitNumber, st.Executed)
	if st.Retired {
		b.WriteString(", retired")
	}
	return b.String()
}

// Epochs lists each replica's epoch, status and configuration, for a
// failure message.
func (c *Cluster) Epochs() string {
	var parts []string
	for i := 0; i < c.n; i++ {
		if st, ok := c.State(i); ok {
			parts = append(parts, fmt.Sprintf("R%d %s", i, StateLabel(st)))
		} else {
			parts = append(parts, fmt.Sprintf("R%d crashed", i))
		}
	}
	return strings.Join(parts, "; ")
}

// Members is the configuration and epoch this client's vr.Client believes in.
func (cl *Client) Members() ([]int, int) { return cl.vc.Members() }
