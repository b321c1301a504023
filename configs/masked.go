package configs

import (
	"bytes"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Masked renders the effective configuration (every default filled in) as
// YAML in the schema's own keys, with every secret shown as "*****". It is
// what `show config` prints; it is not meant to be parsed back, since the
// masked keys would fail validation.
//
// It walks the schema (schema.go), so every key the gateway reads is
// shown: addresses, prefixes and durations as an operator writes them
// (10.0.1.0/24, 10s), optional keys that are not set left out.
func (s *Site) Masked() ([]byte, error) {
	// Only the schema's encode half runs; the decoder holds no state for it.
	root := encodeMapping(newDecoder().site(s))
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("configs: render masked configuration: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("configs: render masked configuration: %w", err)
	}
	return b.Bytes(), nil
}

// encodeMapping renders the keys of fields that have a value, in schema
// order.
func encodeMapping(fields []field) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, f := range fields {
		if v := f.encode(); v != nil {
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.key}, v)
		}
	}
	return m
}

// scalarNode is one value with its YAML tag (!!str, !!int, !!bool). The
// encoder quotes a string only where YAML needs it ('*****', 'true').
func scalarNode(tag, v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v}
}

// stringList is vs as a list of strings (text of each) in style, or nil
// when there are none.
func stringList[T any](vs []T, text func(T) string, style yaml.Style) *yaml.Node {
	items := make([]*yaml.Node, len(vs))
	for i, v := range vs {
		items[i] = scalarNode("!!str", text(v))
	}
	return sequenceNode(items, style)
}

// sequenceNode is a list of items in style (0 for block, yaml.FlowStyle
// for [a, b]), or nil, for Masked to leave the key out, when there are
// none.
func sequenceNode(items []*yaml.Node, style yaml.Style) *yaml.Node {
	if len(items) == 0 {
		return nil
	}
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: style, Content: items}
}
