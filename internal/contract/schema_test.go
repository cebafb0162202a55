package contract

import (
	"encoding/json"
	"reflect"
	"testing"
)

// ruleSample names every rule the contract maps, the ones the shipped
// events do not use included.
type ruleSample struct {
	Room  string   `json:"room" v:"required|room#room is required"`
	Kind  string   `json:"kind" v:"in:a,b" dc:"what it is"`
	Level int      `json:"level" d:"2" v:"in:1,2,3"`
	Code  string   `json:"code" v:"regex:^[A-Z]{3}$"`
	Count int      `json:"count" v:"min:1|max:9"`
	Name  string   `json:"name" v:"min-length:2|max-length:8"`
	Tags  []string `json:"tags,omitempty"`
	Skip  string   `json:"-"`
}

func TestSchemaMapsRules(t *testing.T) {
	in, err := schemaOf(reflect.TypeFor[ruleSample](), inbound)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"properties":{` +
		`"code":{"pattern":"^[A-Z]{3}$","type":"string","x-rules":"regex:^[A-Z]{3}$"},` +
		`"count":{"maximum":9,"minimum":1,"type":"integer","x-rules":"min:1|max:9"},` +
		`"kind":{"description":"what it is","enum":["a","b"],"type":"string","x-rules":"in:a,b"},` +
		`"level":{"default":2,"enum":[1,2,3],"type":"integer","x-rules":"in:1,2,3"},` +
		`"name":{"maxLength":8,"minLength":2,"type":"string","x-rules":"min-length:2|max-length:8"},` +
		`"room":{"pattern":"^[A-Za-z0-9._:-]{1,64}$","type":"string","x-rules":"required|room"},` +
		`"tags":{"items":{"type":"string"},"type":"array"}},` +
		`"required":["room"],"type":"object"}`
	if got, _ := json.Marshal(in); string(got) != want {
		t.Errorf("request schema\n got %s\nwant %s", got, want)
	}
	out, err := schemaOf(reflect.TypeFor[ruleSample](), outbound)
	if err != nil {
		t.Fatal(err)
	}
	required, _ := json.Marshal(out["required"])
	if want := `["room","kind","level","code","count","name"]`; string(required) != want {
		t.Errorf("reply schema requires %s, want the fields without omitempty, %s", required, want)
	}
}
