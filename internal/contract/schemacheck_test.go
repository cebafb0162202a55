package contract_test

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// violations lists where value breaks schema, for the keywords the
// contract writes. closed also counts a property the schema does not
// name: what the server sends must be declared.
func violations(schema map[string]any, value any, path string, closed bool) []string {
	var found []string
	fail := func(format string, args ...any) { found = append(found, path+": "+fmt.Sprintf(format, args...)) }
	if c, ok := schema["const"]; ok && c != value {
		fail("%v, want %v", value, c)
	}
	if types := typeList(schema["type"]); len(types) > 0 && !slices.Contains(types, jsonType(value)) &&
		!(jsonType(value) == "integer" && slices.Contains(types, "number")) {
		fail("a %s, want %v", jsonType(value), types)
		return found
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, value) {
		fail("%v, want one of %v", value, enum)
	}
	switch v := value.(type) {
	case string:
		n := float64(utf8.RuneCountInString(v))
		if limit, ok := schema["minLength"].(float64); ok && n < limit {
			fail("%d characters, want at least %v", int(n), limit)
		}
		if limit, ok := schema["maxLength"].(float64); ok && n > limit {
			fail("%d characters, want at most %v", int(n), limit)
		}
		if pattern, ok := schema["pattern"].(string); ok && !regexp.MustCompile(pattern).MatchString(v) {
			fail("%q does not match %s", v, pattern)
		}
	case float64:
		if limit, ok := schema["minimum"].(float64); ok && v < limit {
			fail("%v, want at least %v", v, limit)
		}
		if limit, ok := schema["maximum"].(float64); ok && v > limit {
			fail("%v, want at most %v", v, limit)
		}
	case []any:
		items, _ := schema["items"].(map[string]any)
		for i, item := range v {
			found = append(found, violations(items, item, fmt.Sprintf("%s[%d]", path, i), closed)...)
		}
	case map[string]any:
		properties, _ := schema["properties"].(map[string]any)
		for _, name := range requiredOf(schema) {
			if _, ok := v[name]; !ok {
				fail("no %s", name)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(v)) {
			property, declared := properties[name].(map[string]any)
			switch {
			case declared:
				found = append(found, violations(property, v[name], path+"."+name, closed)...)
			case closed && properties != nil:
				fail("%s is not in the contract", name)
			}
		}
	}
	return found
}

func typeList(t any) []string {
	switch t := t.(type) {
	case string:
		return []string{t}
	case []any:
		var types []string
		for _, each := range t {
			types = append(types, each.(string))
		}
		return types
	}
	return nil
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if v == math.Trunc(v) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	}
	return "object"
}

func requiredOf(schema map[string]any) []string {
	var names []string
	list, _ := schema["required"].([]any)
	for _, name := range list {
		names = append(names, name.(string))
	}
	return names
}

// sample returns a value schema accepts: the required properties of an
// object, the shortest string its rules allow, the lowest number.
func sample(schema map[string]any) any {
	switch jsonType := typeList(schema["type"]); {
	case len(jsonType) == 0:
		return map[string]any{"any": "value"}
	case jsonType[0] == "object":
		value := map[string]any{}
		properties, _ := schema["properties"].(map[string]any)
		for _, name := range requiredOf(schema) {
			value[name] = sample(properties[name].(map[string]any))
		}
		return value
	case jsonType[0] == "string":
		n, _ := schema["minLength"].(float64)
		return strings.Repeat("a", max(int(n), 1))
	case jsonType[0] == "integer", jsonType[0] == "number":
		n, _ := schema["minimum"].(float64)
		return max(n, 1)
	case jsonType[0] == "boolean":
		return true
	case jsonType[0] == "array":
		return []any{}
	}
	return nil
}

// rejected returns data variants that each break one rule of schema's
// top-level properties, by what they break.
func rejected(schema map[string]any) map[string]map[string]any {
	valid, _ := sample(schema).(map[string]any)
	variants := map[string]map[string]any{}
	with := func(name string, value any) map[string]any {
		variant := maps.Clone(valid)
		variant[name] = value
		return variant
	}
	for _, name := range requiredOf(schema) {
		variant := maps.Clone(valid)
		delete(variant, name)
		variants["without required "+name] = variant
	}
	properties, _ := schema["properties"].(map[string]any)
	names := slices.Collect(maps.Keys(properties))
	sort.Strings(names)
	for _, name := range names {
		property := properties[name].(map[string]any)
		if limit, ok := property["maxLength"].(float64); ok {
			variants[name+" over maxLength"] = with(name, strings.Repeat("a", int(limit)+1))
		}
		if limit, ok := property["maximum"].(float64); ok {
			variants[name+" over maximum"] = with(name, limit+1)
		}
		if limit, ok := property["minimum"].(float64); ok {
			variants[name+" under minimum"] = with(name, limit-1)
		}
		if _, ok := property["pattern"]; ok {
			variants[name+" off its pattern"] = with(name, "spaces and ! are not allowed")
		}
		if slices.Equal(typeList(property["type"]), []string{"string"}) {
			variants[name+" not a string"] = with(name, 7)
		}
	}
	return variants
}
