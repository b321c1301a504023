package fakemetadata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// plainText renders a document the way the service does without
// Accept: application/json: one sorted "dotted.key: value" line per leaf, as in
// Linode's guide ("backups.enabled: false", "specs.vcpus: 1",
// "ipv4.public: 192.0.2.0/24"). Empty and null leaves are left out, as the
// guide's examples leave out tags and backups.status. The guide shows no list
// with several entries; the fake puts a list's values on one line, separated
// by spaces, and numbers the entries of a list of objects
// ("interfaces.0.label: ...").
func plainText(doc any) (string, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	var lines []string
	flatten("", v, &lines)
	slices.Sort(lines)
	if len(lines) == 0 {
		return "", nil
	}
	return strings.Join(lines, "\n") + "\n", nil
}

func flatten(key string, v any, lines *[]string) {
	join := func(k string) string {
		if key == "" {
			return k
		}
		return key + "." + k
	}
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			flatten(join(k), sub, lines)
		}
	case []any:
		var scalars []string
		for i, sub := range v {
			switch sub.(type) {
			case map[string]any, []any:
				flatten(join(strconv.Itoa(i)), sub, lines)
			default:
				if s := scalar(sub); s != "" {
					scalars = append(scalars, s)
				}
			}
		}
		if len(scalars) > 0 {
			*lines = append(*lines, key+": "+strings.Join(scalars, " "))
		}
	default:
		if s := scalar(v); s != "" {
			*lines = append(*lines, key+": "+s)
		}
	}
}

func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}
