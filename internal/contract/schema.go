package contract

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/gogf/gf/v2/util/gvalid"

	"github.com/gfws/template-ws/internal/rules"
)

// Schema is a JSON schema (AsyncAPI's schema format is a superset of
// draft 7).
type Schema = map[string]any

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	marshalerType   = reflect.TypeFor[json.Marshaler]()
)

// direction says which side writes a struct: a request's required fields
// are its required rules; a reply's or a push's are those the server
// always writes, the ones without omitempty.
type direction int

const (
	inbound direction = iota
	outbound
)

// schemaOf returns the schema of t's JSON form.
func schemaOf(t reflect.Type, dir direction) (Schema, error) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	// A type with a JSON form of its own, such as an embedded
	// json.RawMessage, takes any JSON value.
	if reflect.PointerTo(t).Implements(unmarshalerType) || t.Implements(marshalerType) {
		return Schema{}, nil
	}
	switch t.Kind() {
	case reflect.String:
		return Schema{"type": "string"}, nil
	case reflect.Bool:
		return Schema{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return Schema{"type": "integer"}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Schema{"type": "integer", "minimum": 0}, nil
	case reflect.Float32, reflect.Float64:
		return Schema{"type": "number"}, nil
	case reflect.Interface:
		return Schema{}, nil
	case reflect.Slice, reflect.Array:
		items, err := schemaOf(t.Elem(), dir)
		if err != nil {
			return nil, err
		}
		return Schema{"type": "array", "items": items}, nil
	case reflect.Map:
		values, err := schemaOf(t.Elem(), dir)
		if err != nil {
			return nil, err
		}
		return Schema{"type": "object", "additionalProperties": values}, nil
	case reflect.Struct:
		return structSchema(t, dir)
	}
	return nil, fmt.Errorf("contract: %s has no JSON schema form", t)
}

// structSchema returns the schema of a struct; one with no JSON fields,
// such as a request whose data is ignored, takes any JSON value.
func structSchema(t reflect.Type, dir direction) (Schema, error) {
	properties := Schema{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous {
			continue // g.Meta, and embedded types the JSON check above covers
		}
		name, options, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		field, err := schemaOf(f.Type, dir)
		if err != nil {
			return nil, fmt.Errorf("%w (field %s.%s)", err, t, f.Name)
		}
		if text := f.Tag.Get("dc"); text != "" {
			field["description"] = text
		}
		if text, ok := f.Tag.Lookup("d"); ok {
			field["default"] = defaultValue(text, field)
		}
		ruleRequired, err := applyRules(field, f)
		if err != nil {
			return nil, err
		}
		if (dir == inbound && ruleRequired) || (dir == outbound && !strings.Contains(options, "omitempty")) {
			required = append(required, name)
		}
		properties[name] = field
	}
	if len(properties) == 0 {
		return Schema{}, nil
	}
	schema := Schema{"type": "object", "properties": properties}
	if len(required) > 0 {
		schema["required"] = required
	}
	return schema, nil
}

// applyRules turns the gvalid rules of f's v: tag into schema keywords and
// reports whether f is required. A rule with no keyword of its own stays
// in x-rules with the others, so the schema never hides a check.
func applyRules(field Schema, f reflect.StructField) (required bool, err error) {
	tag := f.Tag.Get("v")
	if tag == "" {
		tag = f.Tag.Get("valid")
	}
	if tag == "" {
		return false, nil
	}
	_, ruleText, _ := gvalid.ParseTagValue(tag)
	field["x-rules"] = ruleText
	numeric := field["type"] == "integer" || field["type"] == "number"
	for _, rule := range strings.Split(ruleText, "|") {
		name, args, _ := strings.Cut(strings.TrimSpace(rule), ":")
		bounds := strings.Split(args, ",")
		switch {
		case name == "required":
			required = true
		case name == rules.Room:
			field["pattern"] = rules.RoomPattern
		case name == "regex":
			field["pattern"] = args
		case name == "in":
			field["enum"] = enumValues(bounds, numeric)
		case name == "length" && len(bounds) == 2:
			err = setNumbers(field, bounds, "minLength", "maxLength")
		case name == "between" && len(bounds) == 2:
			err = setNumbers(field, bounds, "minimum", "maximum")
		case name == "min-length", name == "max-length":
			err = setNumbers(field, bounds, name[:3]+"Length")
		case (name == "min" || name == "max") && numeric:
			err = setNumbers(field, bounds, name+"imum")
		}
		if err != nil {
			return false, fmt.Errorf("contract: rule %q of field %s: %w", rule, f.Name, err)
		}
	}
	return required, nil
}

// setNumbers sets each keyword to the number of the same position.
func setNumbers(field Schema, values []string, keywords ...string) error {
	for i, keyword := range keywords {
		n, err := strconv.ParseFloat(strings.TrimSpace(values[i]), 64)
		if err != nil {
			return err
		}
		field[keyword] = n
	}
	return nil
}

func enumValues(values []string, numeric bool) []any {
	enum := make([]any, 0, len(values))
	for _, v := range values {
		if n, err := strconv.ParseFloat(v, 64); numeric && err == nil {
			enum = append(enum, n)
		} else {
			enum = append(enum, v)
		}
	}
	return enum
}

// defaultValue is a d: tag's text in the field's JSON type.
func defaultValue(text string, field Schema) any {
	switch field["type"] {
	case "integer", "number":
		if n, err := strconv.ParseFloat(text, 64); err == nil {
			return n
		}
	case "boolean":
		if b, err := strconv.ParseBool(text); err == nil {
			return b
		}
	}
	return text
}
