package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// checkMemberCounts waits until every room's cluster-wide member count, from the
// admin API on base, is the number of connections in it (each has a user
// of its own), and reports the rooms still off after within.
func checkMemberCounts(clients, pubs []*client, base string, within time.Duration) {
	want := map[string]int{}
	for _, c := range append(append([]*client{}, clients...), pubs...) {
		for _, room := range c.rooms {
			want[room]++
		}
	}
	rooms := make([]string, 0, len(want))
	for room := range want {
		rooms = append(rooms, room)
	}
	sort.Strings(rooms)
	start := time.Now()
	for {
		off, extra, example := 0, 0, ""
		for _, room := range rooms {
			n, err := memberCount(base, room)
			if err != nil {
				logf("rooms API: %v", err)
				return
			}
			if n != want[room] {
				off++
				extra += n - want[room]
				if example == "" {
					example = fmt.Sprintf("%s has %d, want %d", room, n, want[room])
				}
			}
		}
		if off == 0 {
			logf("member counts: all %d rooms right after %.1fs", len(rooms), time.Since(start).Seconds())
			return
		}
		if time.Since(start) > within {
			logf("member counts: %d rooms off by %d in all after %s (%s)", off, extra, within, example)
			return
		}
		time.Sleep(time.Second)
	}
}

// memberCount is room's member count on every node, from the admin API
// on base.
func memberCount(base, room string) (int, error) {
	resp, err := http.Get(base + "/api/v1/rooms/" + room + "?limit=1")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Count int `json:"count"`
		} `json:"data"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	return body.Data.Count, err
}
