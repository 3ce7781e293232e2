package stackfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/purserhq/purser"
	"go.yaml.in/yaml/v3"
)

// MarshalYAML writes a stackfile as YAML in the seed's layout: sections
// and fields in the order the domain's types declare them (vpc, logging,
// service_discovery, defaults, services; image first in a service),
// services and environment as lists of single-key maps. It is what
// `Accept: application/yaml` answers and the text a revision diff
// compares.
func MarshalYAML(sf *purser.Stackfile) ([]byte, error) {
	body, err := json.Marshal(sf)
	if err != nil {
		return nil, fmt.Errorf("encode stackfile: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	node, err := yamlNode(dec)
	if err != nil {
		return nil, fmt.Errorf("encode stackfile: %w", err)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return nil, fmt.Errorf("encode stackfile: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode stackfile: %w", err)
	}
	return buf.Bytes(), nil
}

// yamlNode turns the next JSON value into a YAML node, keeping the order
// of object keys.
func yamlNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if t == '{' {
			n = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		for dec.More() {
			if t == '{' {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.(string)})
			}
			v, err := yamlNode(dec)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}
		if t != "" && strings.Trim(t, "0123456789:._+-") == "" {
			// "80:80" is a string to YAML 1.2 but a base-60 number to YAML
			// 1.1 readers (PyYAML): quote it, as the seed's README does.
			n.Style = yaml.DoubleQuotedStyle
		}
		return n, nil
	case json.Number:
		tag := "!!int"
		if bytes.ContainsAny([]byte(t), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}, nil
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
}

// UnifiedDiff is the text diff of two revisions' stackfiles, as YAML.
func UnifiedDiff(from, to *purser.StackRevision, useNormalized bool) (string, error) {
	pick := func(r *purser.StackRevision) *purser.Stackfile {
		if useNormalized {
			return r.Normalized
		}
		return r.Stackfile
	}
	a, err := MarshalYAML(pick(from))
	if err != nil {
		return "", err
	}
	b, err := MarshalYAML(pick(to))
	if err != nil {
		return "", err
	}
	return purser.UnifiedDiff(fmt.Sprintf("revision %d", from.Number), fmt.Sprintf("revision %d", to.Number), string(a), string(b)), nil
}
