package wstest

import "encoding/json"

// CountRoom reads c's messages up to and including the one until reports,
// counting a room's users as a client does: from the reply to the join
// request "j" (its members), or from count when it is not negative, then
// one more per room.joined and one less per room.left that follows; the
// reply to the members request "m" counts them again. until sees each
// message with the count after it.
func (c *Client) CountRoom(count int, until func(m Msg, count int) bool) int {
	c.t.Helper()
	for {
		m := c.Read()
		var data struct{ Members, Count int }
		switch {
		case m.Code != nil && string(m.ID) == `"j"`:
			_ = json.Unmarshal(m.Data, &data)
			count = data.Members
		case m.Code != nil && string(m.ID) == `"m"`:
			_ = json.Unmarshal(m.Data, &data)
			count = data.Count
		case count < 0:
			// Before the reply, the reply's count covers what it tells.
		case m.Event == "room.joined":
			count++
		case m.Event == "room.left":
			count--
		}
		if until(m, count) {
			return count
		}
	}
}
